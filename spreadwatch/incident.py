"""The incident file: one YAML file per incident, validated on load.

It names what to look for (queries per language, the rumour's claim patterns), who speaks for the
organisation (official sources), where to look (per-platform sources with schedules) and what to
alert on. Secrets are referenced by environment-variable name, never written in the file.
This module imports nothing from the project but its sibling models, so every layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from spreadwatch.alert_rules import AlertsConfig
from spreadwatch.fields import AwareDatetime, Duration, Strict, normalise_text, parse_duration
from spreadwatch.names import did_you_mean
from spreadwatch.regex import UnsafeRegexError, compile_safe
from spreadwatch.report_schedule import ReportSchedule
from spreadwatch.sources import SourcesConfig
from spreadwatch.urls import canonical_url, domain_of
from spreadwatch.yamlfile import ConfigFileError, validate_file

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
LANGUAGES = ("zh", "en", "de", "ja", "ko", "fr", "es", "it", "ru", "pt", "und")


class Window(Strict):
    start: AwareDatetime
    end: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Query(Strict):
    """Keyword query in one language.

    Each entry of `any` is a term group: space-separated terms that must all appear (a CJK term
    needs no spaces inside it); a post matches the query when any group matches, all of `all`
    match and none of `exclude` does. Quote a group ("...") to require the exact phrase.
    """

    name: str
    lang: str = "und"
    any: list[str] = Field(min_length=1)
    all: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)

    @field_validator("any", "all", "exclude")
    @classmethod
    def _non_empty(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values]
        if any(not v for v in cleaned):
            raise ValueError("empty term")
        return cleaned

    @field_validator("lang")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"unknown language {value!r}; use one of {', '.join(LANGUAGES)}")
        return value

    def search_terms(self) -> list[str]:
        """Each `any` group as a plain search string for platform search APIs."""
        return [group.strip('"') for group in self.any]


class Claim(Strict):
    """A specific claim of the rumour. Patterns are case-insensitive substrings, or `re:` regexes."""

    name: str
    patterns: list[str] = Field(min_length=1)
    description: str = ""

    @field_validator("patterns")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if pattern.startswith("re:"):
                try:
                    compile_safe(pattern[3:])
                except UnsafeRegexError as error:
                    raise ValueError(f"regular expression {pattern!r} refused: {error}") from None
        return patterns


class OfficialAccount(Strict):
    platform: str
    handle: str | None = None
    id: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _identified(self) -> OfficialAccount:
        if not (self.handle or self.id):
            raise ValueError("an official account needs a handle or an id")
        return self


class Official(Strict):
    """Who speaks for the organisation: their posts are the organisation speaking.

    `statements` pins posts (by URL) as the organisation's answer to the rumour: such a post is
    the official denial whatever its wording or stance (for a statement no classifier reads
    right, or one that names neither the queries nor the claims).
    """

    organisation: str
    accounts: list[OfficialAccount] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    urls: list[str] = Field(default_factory=list)
    statements: list[str] = Field(default_factory=list)

    @field_validator("statements")
    @classmethod
    def _absolute(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"a statement is the URL of a post (http or https), not {url!r}")
        return urls

    def is_statement(self, url: str | None) -> bool:
        """The post at `url` is pinned (scheme, `www.`, case of the host, a trailing slash and
        the fragment do not matter)."""
        return bool(url) and _same_page(url or "") in {_same_page(s) for s in self.statements}

    def is_official(self, platform: str, handle: str | None, author_id: str | None) -> bool:
        for account in self.accounts:
            if account.platform != platform:
                continue
            if account.handle and handle and account.handle.casefold() == handle.casefold():
                return True
            if account.id and author_id and account.id == author_id:
                return True
        return False

    def is_official_url(self, url: str | None) -> bool:
        if not url:
            return False
        if any(url.startswith(prefix) for prefix in self.urls):
            return True
        host = domain_of(url)
        if host is None:
            return False
        domains = {domain_of(f"//{d}") or d.lower() for d in self.domains}
        return any(host == d or host.endswith("." + d) for d in domains)


class EvidenceConfig(Strict):
    """The `evidence:` section: how often posts of interest are re-checked for deletion and
    edits, which count as of interest, and which sources' pages are also captured rendered
    (screenshot and DOM through headless Chromium, slower; see docs/evidence.md)."""

    recheck: Duration | None = Field(default_factory=lambda: parse_duration("6h"))
    min_reach: int | None = Field(default=None, ge=0)  # default: the setting
    render: list[str] = Field(default_factory=list)  # e.g. [official, pages, github]

    @field_validator("recheck", mode="before")
    @classmethod
    def _off(cls, value: object) -> object:
        return None if value in ("off", False) else value

    @field_validator("render")
    @classmethod
    def _render_sources(cls, value: list[str]) -> list[str]:
        known = {"official", "pages", "github"}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"render takes {', '.join(sorted(known))}; not {', '.join(unknown)}")
        return value


def _same_page(url: str) -> str:
    """What identifies a page: its join key (`www.`, scheme, case of the host, a trailing
    slash, tracking parameters and fragments do not count)."""
    return canonical_url(url) or url.strip()


class Incident(Strict):
    """An incident as its file describes it."""

    id: str
    title: str
    description: str = ""
    organisation: str | None = None
    window: Window
    timezone: str = "UTC"
    languages: list[str] = Field(default_factory=lambda: ["en"])
    queries: list[Query] = Field(min_length=1)
    claims: list[Claim] = Field(default_factory=list)
    official: Official | None = None
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    #: The report by e-mail on a schedule (`spreadwatch.report_schedule`).
    reports: list[ReportSchedule] = Field(default_factory=list)
    kibana_dashboard: str | None = None

    #: Where it was loaded from (not part of the file).
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be a lowercase slug: letters, digits, '-', '_' or '.'")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: `Asia`, a folder
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Asia/Shanghai)"
            ) from None
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Incident:
        for kind, names in (
            ("query", [q.name for q in self.queries]),
            ("claim", [c.name for c in self.claims]),
        ):
            seen = {n for n in names if names.count(n) > 1}
            if seen:
                raise ValueError(
                    f"{kind} names must be unique; repeated: {', '.join(sorted(seen))}"
                )
        return self

    def queries_for(self, lang: str | None = None) -> list[Query]:
        return [q for q in self.queries if lang is None or q.lang in (lang, "und")]

    def search_terms(self, lang: str | None = None) -> list[str]:
        """Every distinct search string across the queries (for platform search APIs)."""
        terms: dict[str, None] = {}
        for query in self.queries_for(lang):
            for term in query.search_terms():
                terms[term] = None
        return list(terms)


def load_incident(path: Path | str) -> Incident:
    """Load and validate an incident file; `ConfigFileError` names file, line and field."""
    file = Path(path)
    incident = validate_file(Incident, file)
    return incident.model_copy(update={"path": file.resolve()})


def resolve_incident(ref: str, search_dirs: list[Path] | None = None) -> Incident:
    """An incident from a path, or from an id looked up in the incident folders."""
    candidate = Path(ref)
    if candidate.suffix in (".yml", ".yaml") or candidate.exists():
        return load_incident(candidate)
    found = _incidents_by_id(search_dirs or [Path("incidents")])
    if ref in found:
        return found[ref]
    dirs = ", ".join(str(d) for d in search_dirs or [Path("incidents")])
    known = f" (known: {', '.join(sorted(found))})" if found else ""
    raise ConfigFileError(
        f"no incident file with id {ref!r} in {dirs}{did_you_mean(ref, found)}{known}; "
        "pass a path to the file"
    )


def incident_ids(search_dirs: list[Path]) -> list[str]:
    """The ids of the valid incident files in these folders (to name them in an error)."""
    return sorted(_incidents_by_id(search_dirs))


def _incidents_by_id(search_dirs: list[Path]) -> dict[str, Incident]:
    found: dict[str, Incident] = {}
    for folder in search_dirs:
        for file in sorted(folder.glob("*.y*ml")):
            try:
                incident = load_incident(file)
            except ConfigFileError:
                continue
            found.setdefault(incident.id, incident)
    return found


def incident_files(paths: Sequence[Path]) -> list[Path]:
    """Every incident file named, or inside a named folder (*.yml, *.yaml), each once: a file
    named both itself and through its folder is one incident, not two with the same id."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.y*ml") if p.is_file()))
        elif path.is_file():
            files.append(path)
    return list(dict.fromkeys(f.resolve() for f in files))


def load_incidents(paths: list[Path]) -> list[Incident]:
    """Every incident file among `paths` (files or folders)."""
    return [load_incident(f) for f in incident_files(paths)]


__all__ = [
    "Claim",
    "ConfigFileError",
    "Duration",
    "Incident",
    "Official",
    "Query",
    "incident_files",
    "incident_ids",
    "load_incident",
    "load_incidents",
    "normalise_text",
    "parse_duration",
    "resolve_incident",
]
