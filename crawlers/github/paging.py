"""One paging discipline for every paged GitHub list (search, issues, comments, events,
stargazers, forks, commits): a *walk* over `Link rel="next"` pages.

- **Fixed once per run.** A walk's start page and its cutoff are decided when the run first
  asks for the list and never move while its pages come in (page 2 is judged against the same
  cutoff as page 1; the since-value only advances when the walk is complete).
- **Relative cursors.** Pages are remembered as path + query relative to the base URL (GitHub's
  own links name `https://api.github.com/repositories/<id>/...`); a changed base URL (a proxy,
  GitHub Enterprise under `/api/v3`) keeps working.
- **304 keeps walking.** Each page is asked conditionally; a 304 has no body and no `Link`
  header, so the walk follows the `next` link saved with that page in the last run's cursor, and
  when that page was the full last page, reads the page after it (new records go there).
- **Three kinds of list.** Newest-first lists (search, events, forks) start at page 1 and stop at
  the first page holding a record older than the cutoff (the newest record of the last complete
  walk, or the window's start); an unchanged (304) first page of a complete walk ends the walk
  at once. Lists bounded by a `since` parameter (issues and comments sorted by `updated`,
  commits) are read whole every run — unchanged pages answer 304 — and keep the same `since`
  until they grow long, when it moves up to the newest record read. Oldest-first lists without
  a filter (stargazers) resume at the last page the previous run read, so years of stars are
  read once, then only at their end; their cursor keeps the newest record read, even through
  runs whose pages all answer 304.
- **Capped, never lost.** At most `max_pages` pages per list per run; a capped walk saves where
  it stopped and the next run goes on from there.
- **Past the first 1,000 search results.** GitHub serves a search's first 1,000 results only
  (no `next` link after them, a 422 for a page past them), whatever its `total_count`. An issue
  or commit search holding more goes on with the same query narrowed to results no newer than
  the oldest one read (`created:<=…`, `committer-date:<=…`: the field it is sorted by), as one
  walk; a repository search (sorted by an `updated` no qualifier filters) cannot, and is
  counted as capped.
- **Past the 40,000th star.** The stargazers list serves its first 40,000 stars (400 pages of
  100); the page past them answers 422 "pagination is limited for this resource" (PyGithub
  #1876, jgehrcke/github-repo-stats#76, star-history/star-history#194, MeltanoLabs/tap-github
  #120), so the page before the refused one is marked as the list's served end (`PageMeta.end`;
  the last page read, or the saved cursor's page before it when the refused one was the first
  asked, a page GitHub served when the cursor was saved): the
  walk is complete there, a 304 or a fresh full copy of that page never asks the page after it
  again, and the stars past it are read newest first through GraphQL
  (`crawlers.github.stars`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from crawlers.normalise import plausible

_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')

#: How many results of one query GitHub's search serves, whatever its `total_count`.
SEARCH_SERVED = 1000
#: The date qualifier filtering on the field each search kind is sorted by (the spider's
#: `sort`): issues by `created`, commits by `committer-date`.
SLICE_QUALIFIERS = {"search-issues": "created", "search-commits": "committer-date"}


@dataclass(frozen=True)
class ListSpec:
    """One list of one run: its state key, first page (relative), order and media type."""

    key: str
    first: str
    newest_first: bool = True
    #: Oldest-first and unfiltered: start where the last run stopped.
    resume: bool = False
    #: Bounded by a `since` parameter in `first` (kept until the list grows long, so a repeat
    #: asks the same pages and gets 304s).
    bounded: bool = False
    accept: str = "application/vnd.github+json"


@dataclass
class PageMeta:
    """What a walk must remember of a page to walk on when it answers 304 next time."""

    next: str | None
    full: bool
    oldest: str | None = None  # ISO time of the page's oldest record (newest-first lists)
    #: The last page GitHub serves of the list (the page after it answered 422).
    end: bool = False

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"next": self.next, "full": self.full, "oldest": self.oldest}
        return shown | ({"end": True} if self.end else {})

    @classmethod
    def from_dict(cls, data: Any) -> PageMeta | None:
        if not isinstance(data, dict) or not isinstance(data.get("full"), bool):
            return None
        nxt, oldest = data.get("next"), data.get("oldest")
        return cls(
            next=nxt if isinstance(nxt, str) else None,
            full=data["full"],
            oldest=oldest if isinstance(oldest, str) else None,
            end=data.get("end") is True,
        )


@dataclass
class Walk:
    """One list's walk in this run. `cutoff` (newest-first lists): records older than it were
    seen by an earlier complete walk (or lie before the window), so the walk stops there."""

    spec: ListSpec
    cutoff: datetime | None
    saved: dict[str, Any]
    pages: dict[str, PageMeta] = field(default_factory=dict)
    newest: datetime | None = None
    read: int = 0
    last: str | None = None
    resume: str | None = None
    complete: bool = False
    #: The walk ended at the last page the list serves, and that page was full: a list GitHub
    #: cuts off (the events' newest 300) may hold older records it will not serve.
    served_out: bool = False

    def __post_init__(self) -> None:
        if self.saved.get("first") != self.spec.first:
            self.saved = {}  # another list (its since moved): nothing saved applies
        newest = self.saved.get("newest")
        if isinstance(newest, str) and (self.spec.resume or not self.saved.get("complete")):
            # A capped walk goes on; an oldest-first list's newest read stays its newest when a
            # run reads nothing newer (its pages answer 304).
            self.newest = datetime.fromisoformat(newest)

    @property
    def start(self) -> str:
        """Where this run begins: the saved last page of a resumable list, the page a capped
        walk stopped before, else the first page."""
        key = "last" if self.spec.resume else "resume"
        saved = self.saved.get(key)
        return saved if isinstance(saved, str) else self.spec.first

    def saved_meta(self, rel: str) -> PageMeta | None:
        pages = self.saved.get("pages")
        return PageMeta.from_dict(pages.get(rel)) if isinstance(pages, dict) else None

    def seen(self, moments: list[datetime], now: datetime | None = None) -> None:
        """Note the times of a page's records. Only plausible ones count: a commit's dates are
        its author's to set, and one dated 2099 would carry the list's since-value past every
        real commit to come."""
        moments = [m for m in moments if plausible(m, now)]
        if moments:
            newest = max(moments)
            self.newest = newest if self.newest is None else max(self.newest, newest)

    def after(self, rel: str, meta: PageMeta, fresh: bool, max_pages: int) -> str | None:
        """Record page `rel`; the next page to read, or None when the walk ends here.

        `fresh` is False for a 304: its meta is the saved one, and a full last page may since
        have grown a next page that its (unchanged) body cannot tell.
        """
        self.read += 1
        saved = self.saved_meta(rel)
        if saved is not None and saved.end and meta.full:
            meta = replace(meta, next=None, end=True)  # still the last page GitHub serves
        self.pages[rel] = meta
        self.last = rel
        unchanged_top = not fresh and rel == self.spec.first and self.saved.get("complete")
        if self.spec.newest_first and (unchanged_top or self._past_cutoff(meta)):
            self.complete = True  # an unchanged top, or records the last walks have seen
            return None
        following = meta.next
        if following is None and not fresh and meta.full and not meta.end:
            following = page_after(rel)
        if following is None:
            self.complete = True
            self.served_out = meta.full
            return None
        if self.read >= max_pages:
            self.resume = following  # capped: the next run goes on from here
            return None
        return following

    def served_end(self, refused: str) -> bool:
        """Page `refused` answered that GitHub pages no further: the page before it is the
        list's served end, and the walk is complete there. That is the last page read, or, when
        the refused page was the first asked (the saved cursor's last page, served when it was
        saved), the page before it, so no later run asks the refused one. False when no page
        comes before it."""
        if self.last is None:
            if page_number(refused) < 2:
                return False
            self.last = page_after(refused, -1)
        meta = self.pages.get(self.last) or self.saved_meta(self.last) or PageMeta(None, True)
        self.pages[self.last] = replace(meta, next=None, end=True)
        self.complete, self.resume, self.served_out = True, None, True
        return True

    @property
    def at_served_end(self) -> bool:
        """Whether this run's walk ended at the list's served end."""
        meta = self.pages.get(self.last) if self.last is not None else None
        return meta is not None and meta.end

    def _past_cutoff(self, meta: PageMeta) -> bool:
        if self.cutoff is None or meta.oldest is None:
            return False
        return datetime.fromisoformat(meta.oldest) < self.cutoff

    def cursor(self) -> dict[str, Any]:
        """What the state keeps of this walk for the next run."""
        return {
            "first": self.spec.first,
            "last": self.last,
            "resume": self.resume,
            "complete": self.complete,
            "newest": self.newest.isoformat() if self.newest else None,
            "pages": {rel: meta.to_dict() for rel, meta in self.pages.items()},
        }


def relative(url: str, base: str) -> str:
    """`url` as path + query below `base`'s path (GitHub Enterprise serves under `/api/v3`)."""
    parts = urlsplit(url)
    path = parts.path
    prefix = urlsplit(base).path.rstrip("/")
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        path = path[len(prefix) :] or "/"
    return path + (f"?{parts.query}" if parts.query else "")


def absolute(rel: str, base: str) -> str:
    return base.rstrip("/") + rel


def next_link(link_header: str | None, base: str) -> str | None:
    """The `rel="next"` target of a `Link` header, relative to `base`."""
    match = _NEXT.search(link_header) if link_header else None
    return relative(match.group(1), base) if match else None


def page_number(rel: str) -> int:
    """The page `rel` asks for (no `page` parameter is page 1)."""
    query = parse_qsl(urlsplit(rel).query, keep_blank_values=True)
    return next((int(v) for k, v in query if k == "page" and v.isdigit()), 1)


def page_after(rel: str, step: int = 1) -> str:
    """The page after `rel` (`page=N` → `page=N+1`; no `page` parameter is page 1), or
    `step` pages on (-1: the page before)."""
    parts = urlsplit(rel)
    query = parse_qsl(parts.query, keep_blank_values=True)
    current = page_number(rel)
    query = [(k, v) for k, v in query if k != "page"] + [("page", str(current + step))]
    return f"{parts.path}?{urlencode(query)}"


def beyond_served(rel: str, total: Any, per_page: int) -> bool:
    """Whether a search holds results past page `rel` that GitHub will not page to."""
    if not isinstance(total, int) or isinstance(total, bool):
        return False
    query = dict(parse_qsl(urlsplit(rel).query, keep_blank_values=True))
    page = int(query["page"]) if query.get("page", "").isdigit() else 1
    # The last page served holds result 1,000, and with a page size that does not divide
    # 1,000 it is short (30 a page: the 34th, results 991 to 1,000), not `page * per_page`.
    return page * per_page >= SEARCH_SERVED and total > SEARCH_SERVED


def search_slice(rel: str, kind: str, oldest: datetime | None) -> str | None:
    """Page 1 of search `rel` narrowed to results no newer than `oldest` (the oldest it served;
    `<=`, so results sharing that second are not skipped), or None when no slice can go further:
    a kind without a qualifier, a query that filters that field itself, no time read, or a slice
    already ending there (more than a page of results in one second)."""
    field = SLICE_QUALIFIERS.get(kind)
    if field is None or oldest is None:
        return None
    parts = urlsplit(rel)
    query = parse_qsl(parts.query, keep_blank_values=True)
    q = next((v for k, v in query if k == "q"), "")
    bound = f"{field}:<={oldest.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    asked, _, slice_end = q.rpartition(" ")
    if not slice_end.startswith(f"{field}:<="):
        asked = q
    if bound == slice_end or re.search(rf"(?<!\S){re.escape(field)}:", asked):
        return None
    narrowed = [("q", f"{asked} {bound}") if k == "q" else (k, v) for k, v in query if k != "page"]
    return f"{parts.path}?{urlencode(narrowed)}"
