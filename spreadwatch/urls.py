"""The one home of URL handling: a post's address, its join key and its domain.

Platforms write the same article's address many ways (`HTTP://WWW.Site.COM:443/a?utm_source=x`,
`https://site.com/a#top`, a host in Unicode or punycode, a link glued to the Chinese comma that
follows it). Three forms serve three purposes:

- `clean_url`: the address to store and fetch — http(s) only, scheme and host in lower case,
  IDNA (punycode) host, no userinfo, no default port, no tracking parameters, no fragment
  (except a fragment that is a resource of its own, like GitHub's `#issuecomment-1`); `www.`
  is kept, because some sites only answer there.
- `canonical_url`: the join key (`url_canonical` on every post): `clean_url` without `www.`,
  with `https` for `http`, no trailing slash and sorted query parameters, so the same article
  shared on Weibo, Reddit and a news feed has one value to join on. It is never fetched.
- `domain_of`: the host of the join key in Unicode, for grouping by site.

`without_userinfo` is how an address that may carry credentials is shown or mailed.

Hosts are split with `tldextract` on its bundled Public Suffix List snapshot (never downloaded
at run time), so `www.` is only taken off a host that is more than a public suffix.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import idna

if TYPE_CHECKING:
    import tldextract

#: Query parameters that only say how a link was shared, never what it points at.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
        "spm", "scm", "share_source", "share_medium", "share_from", "share_token", "sharer_uid",
        "ref_src", "ref_url", "from_source", "wfr", "si", "_ga", "_gl", "cmpid", "ocid",
        "vd_source", "share_tag", "tt_from", "utm_id",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmsr", "__twitter")

#: Fragments that name a resource of their own (a comment on a page), kept by `clean_url`.
RESOURCE_FRAGMENT = re.compile(r"(issuecomment-|discussion_r|pullrequestreview-|commitcomment-)\d+")

#: Where a URL written in running text ends: whitespace, CJK and full-width punctuation, and
#: typographic quotes. `看这里https://example.com/a，然后` links to `https://example.com/a`.
_END = '\\s\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2018-\u201f\u2026<>"'
_URL_END = re.compile(f"[{_END}]")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
#: How a link the reports and e-mails print must start (`link_url`).
_WEB_SCHEME = re.compile(r"https?://", re.IGNORECASE)
#: Characters kept as they are in a path or query; everything else (spaces, non-ASCII) is
#: percent-encoded, so a link written in Unicode and its encoded copy are the same key.
_SAFE = "/:@!$&'()*+,;=-._~%?"


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    """tldextract on its bundled suffix list: no download, no cache directory written.
    Imported on first use: it brings `requests` along, which the CLI's start-up should not pay."""
    import tldextract  # noqa: PLC0415

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def split(url: str | None, base: str | None = None) -> SplitResult | None:
    """The parts of an http(s) URL with a clean host, or None for anything else.

    A relative link (`/r/news/…`, `item?id=6`) is resolved against `base` when one is given;
    without a base, a link written without its scheme (`example.com/a`, `//example.com/a`) is
    read as https.
    """
    if not isinstance(url, str):
        return None
    text = _URL_END.split(url.strip(), maxsplit=1)[0]
    if not text:
        return None
    if base and not _SCHEME.match(text) and not text.startswith("//"):
        text = urljoin(base, text)  # relative to the page, as a browser reads it
    bare = not text.startswith("//") and (
        not _SCHEME.match(text) or bool(re.match(r"^[^/:]+\.[^/:]+:\d", text))
    )
    text = "https:" + text if text.startswith("//") else ("https://" + text if bare else text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = _ascii_host(parts.hostname, bare=bare)
    if scheme not in ("http", "https") or host is None:
        return None
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return SplitResult(scheme, host, parts.path, parts.query, parts.fragment)


def _ascii_host(hostname: str | None, *, bare: bool = False) -> str | None:
    """The host in lower-case ASCII (IDNA with the UTS 46 mapping, so full-width dots and
    capitals are read as such); None for what is no host. A host written without a scheme
    (`bare`) must be a domain under a public suffix: `example.com/a` is a link, `no url` is not."""
    if not hostname:
        return None
    host = hostname.rstrip(".")
    if ":" in host:  # IPv6, bracketed again for the netloc
        return f"[{host.lower()}]"
    if re.fullmatch(r"[0-9.]+", host):
        return host if re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}", host) else None
    try:
        encoded = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        # Names IDNA refuses but resolvers take (underscores in subdomains).
        if not re.fullmatch(r"[a-z0-9_.-]+", host, re.IGNORECASE):
            return None
        encoded = host.lower()
    if bare and not _extractor()(encoded).top_domain_under_public_suffix:
        return None
    return encoded or None


def clean_url(url: str | None, base: str | None = None) -> str | None:
    """The address to store and fetch (see the module docstring); None if not http(s)."""
    parts = split(url, base)
    if parts is None:
        return None
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if _kept(k)])  # fmt: skip
    fragment = parts.fragment if RESOURCE_FRAGMENT.fullmatch(parts.fragment) else ""
    return urlunsplit((parts.scheme, parts.netloc, _path(parts.path) or "/", query, fragment))


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """The join key of a URL: one value for every way of writing the same address."""
    parts = split(url, base)
    if parts is None:
        return None
    host, port = _host_port(parts.netloc)
    netloc = _without_www(host) + port
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if _kept(k))
    fragment = parts.fragment if RESOURCE_FRAGMENT.fullmatch(parts.fragment) else ""
    path = _path(parts.path).rstrip("/") or "/"
    return urlunsplit(("https", netloc, path, urlencode(query), fragment))


def _path(path: str) -> str:
    """A path percent-encoded one way: non-ASCII encoded, escapes in upper case (`%e6` = `%E6`)."""
    return re.sub(r"%[0-9a-f]{2}", lambda m: m.group(0).upper(), quote(path, safe=_SAFE))


def domain_of(url: str | None) -> str | None:
    """The site of a URL for grouping: host without `www.` and port, in Unicode."""
    parts = split(url)
    if parts is None:
        return None
    host = _without_www(_host_port(parts.netloc)[0])
    try:
        return idna.decode(host) if "xn--" in host else host
    except (idna.IDNAError, UnicodeError, ValueError):
        return host


def registered_domain(url: str | None) -> str | None:
    """The domain a publisher registered (`bbc.co.uk` for `news.bbc.co.uk`), or the host
    itself where the suffix list knows none (an IP address, `localhost`)."""
    host = domain_of(url)
    if host is None:
        return None
    return _extractor()(host).top_domain_under_public_suffix or host


def _host_port(netloc: str) -> tuple[str, str]:
    """A clean netloc as host and `:port` (empty without one); IPv6 hosts keep brackets."""
    host, colon, port = netloc.rpartition(":")
    if colon and port.isdigit() and not host.endswith(":"):
        return host, f":{port}"
    return netloc, ""


def _without_www(host: str) -> str:
    """`www.example.com` → `example.com`; `www.co.uk` stays (nothing left but a suffix)."""
    if not host.startswith("www."):
        return host
    parts = _extractor()(host)
    return host[4:] if parts.subdomain.split(".")[0] == "www" else host


def _kept(param: str) -> bool:
    name = param.lower()
    return name not in TRACKING_PARAMS and not name.startswith(TRACKING_PREFIXES)


#: A web address written in plain text or markdown: up to a space, a quote or markdown's
#: closing brackets; `(…)` inside it is kept when balanced (Wikipedia's `Foo_(bar)`).
_IN_TEXT = re.compile(f"https?://(?:[^{_END}'`()\\[\\]{{}}]|\\([^{_END}()]*\\))+", re.IGNORECASE)
_TRAILING = ".,;:!?*_~"


def links_in_text(text: str | None) -> list[str]:
    """The web addresses in plain text or markdown (`<https://…>`, `[label](https://…)`, bare),
    without the sentence punctuation that follows them, in order, each once."""
    if not text:
        return []
    found = (match.group(0).rstrip(_TRAILING) for match in _IN_TEXT.finditer(text))
    return list(dict.fromkeys(link for link in found if split(link) is not None))


def is_http(url: str | None) -> bool:
    return split(url) is not None


def link_url(url: object) -> str | None:
    """What a rendered page may link to: only addresses written with http(s):// (a post's
    `javascript:` URL is shown as text, never as a link; so is a scheme-relative `//host/x`,
    which a report opened from disk resolves to `file://host/x`)."""
    text = str(url).strip() if url else ""
    return text if _WEB_SCHEME.match(text) and is_http(text) else None


def without_userinfo(url: str, *, query: bool = True) -> str:
    """`url` without `user:password@` (and, `query=False`, without its query and fragment, where
    a feed's token rides): a setting or an incident file may hold the credentials spreadwatch
    itself uses there, and a link or a log line is read by others."""
    parts = urlsplit(url)
    parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
    return (parts if query else parts._replace(query="", fragment="")).geturl()
