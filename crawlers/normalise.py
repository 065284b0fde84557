"""Turning what platforms send into the one shape the index expects.

Each function takes untrusted input and either returns a clean value or raises
`NormaliseError` with a short reason slug (it becomes the `spreadwatch/dropped/<reason>` stat):
- times: datetimes, epoch seconds or milliseconds, ISO 8601 and RFC 822 strings → UTC ISO;
- HTML → text and links without scripts, styles or markup (the project's one `read_html`;
  text is stored as text, renderers escape it);
- language from the text with py3langid when the platform does not say.
"""

from __future__ import annotations

import email.utils
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

import lxml.html
from dateutil import parser as date_parser
from lxml.etree import ParserError, XMLSyntaxError

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "head")
_BLOCK = ("p", "div", "li", "br", "tr", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "pre")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
#: What XML/HTML tools refuse outright (lxml raises ValueError on it): C0 controls other than
#: tab/newline/return, lone surrogates and the two non-characters. Stripped before any parser.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def strip_controls(markup: str) -> str:
    """`markup` without the characters an XML/HTML parser cannot take (one ESC in a post must
    not turn a page's HTML into an error)."""
    return _NOT_XML.sub("", markup)


_BLANK_LINES = re.compile(r"\n\s*\n+")
_INLINE_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
_LANG_ALIASES = {"zh-cn": "zh", "zh-tw": "zh", "zh-hans": "zh", "zh-hant": "zh", "iw": "he"}


class NormaliseError(ValueError):
    """A value that cannot be normalised; `reason` is the drop-stat slug."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


# -- times ---------------------------------------------------------------------------------------


#: How far past "now" a publication time may lie (clocks and time zones disagree by hours).
FUTURE_SLACK = timedelta(days=1)


def plausible(moment: datetime, now: datetime | None = None) -> bool:
    """Whether an aware publication time can be true: from 1990 to `now` (plus the slack)."""
    return EARLIEST <= moment <= (now or datetime.now(UTC)) + FUTURE_SLACK


def to_utc(value: Any, now: datetime | None = None) -> datetime:
    """A publication time as an aware UTC datetime; implausible or unreadable times raise."""
    parsed = _parse_time(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if not plausible(parsed, now):
        raise NormaliseError("bad_timestamp", f"{parsed.isoformat()} is outside 1990..now")
    return parsed


def to_utc_iso(value: Any, now: datetime | None = None) -> str:
    return to_utc(value, now).isoformat()


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, bool) or value is None:
        raise NormaliseError("bad_timestamp", f"no time: {value!r}")
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str) or not value.strip():
        raise NormaliseError("bad_timestamp", f"not a time: {value!r:.80}")
    text = value.strip()
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return _from_epoch(float(text))
    for parse in (_iso, _rfc822, _loose):
        parsed = parse(text)
        if parsed is not None:
            return parsed
    raise NormaliseError("bad_timestamp", f"unreadable time {text!r:.80}")


def _from_epoch(seconds: float) -> datetime:
    if seconds > 1e11:  # milliseconds (JavaScript, Weibo, Bluesky relays)
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise NormaliseError("bad_timestamp", f"epoch out of range: {seconds!r}") from None


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _rfc822(text: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _loose(text: str) -> datetime | None:
    if not re.search(r"\d{4}", text):
        return None  # "yesterday", "3 hours ago": relative times are the parser's job
    try:
        return date_parser.parse(text)
    except (ValueError, OverflowError, date_parser.ParserError):
        return None


# -- text ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HtmlText:
    """What an HTML fragment says: its visible text and the targets of its links."""

    text: str
    links: list[str]


def read_html(
    html: str | None,
    base: str | None = None,
    *,
    link_attrs: tuple[str, ...] = ("href",),
    alt_text: bool = False,
) -> HtmlText:
    """Visible text and link targets of untrusted HTML: scripts, styles and all markup removed,
    paragraphs and `<br>` as line breaks. Relative links are resolved against `base` when one
    is given (`/r/news/...` on Reddit), else kept as written. A link's target is the first of
    `link_attrs` it has (Weibo keeps the shared address in `data-url`); with `alt_text`, an
    image stands in the text as its alt text (Weibo's emoticons: `[doge]`).

    Platform HTML is untrusted: it is only ever turned into text here, never passed on as markup.
    """
    if not html or not html.strip():
        return HtmlText("", [])
    html = strip_controls(html)
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ParserError, XMLSyntaxError, ValueError):
        return HtmlText(clean_text(re.sub(r"<[^>]*>", " ", html)), [])
    for element in list(root.iter(*_DROP_TAGS)):
        element.drop_tree()
    if alt_text:
        for image in root.iter("img"):
            image.tail = (image.get("alt") or "") + (image.tail or "")
    for element in root.iter(*_BLOCK):
        if element.tag != "br":
            element.text = "\n" + (element.text or "")
        element.tail = "\n" + (element.tail or "")
    targets = (next((a.get(k) for k in link_attrs if a.get(k)), None) for a in root.iter("a"))
    links = [_resolved(target, base) for target in targets if target]
    text = re.sub(r"\n\s*\n+", "\n", root.text_content())
    return HtmlText(clean_text(text), [link for link in links if link])


def html_to_text(html: str | None) -> str:
    """The visible text of untrusted HTML (`read_html` without the links)."""
    return read_html(html).text


def _resolved(href: str, base: str | None) -> str:
    """A link as a browser on `base` follows it: relative ones (`/r/news/`, HN's `item?id=6`)
    resolved, those with a scheme or a host (`//cdn…`) as written."""
    href = href.strip()
    if base and not _HAS_SCHEME.match(href) and not href.startswith("//"):
        return urljoin(base, href)
    return href


_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def clean_text(text: str | None) -> str:
    """Text without control characters, with tidy spacing (cut to length by the caller, with
    `crawlers.bounds.cut`, so the cut is flagged and counted)."""
    if not text:
        return ""
    cleaned = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    lines = [_INLINE_SPACE.sub(" ", line).strip() for line in cleaned.splitlines()]
    joined = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return joined


# -- language ------------------------------------------------------------------------------------


def language(text: str, declared: str | None = None, expected: tuple[str, ...] = ()) -> str:
    """The declared language (`zh-CN` → `zh`), else py3langid's guess, else `und`.

    Short posts get low confidence across ~100 languages; a guess among the incident's own
    languages (`expected`) is accepted at a lower confidence than any other.
    """
    if declared:
        code = declared.strip().lower().replace("_", "-")
        return _LANG_ALIASES.get(code, code.split("-")[0]) or "und"
    sample = text.strip()[:2000]
    if len(re.sub(r"\W", "", sample)) < 4:
        return "und"
    ranked = _identifier().rank(sample)
    best, probability = ranked[0]
    if probability >= 0.5:
        return str(best)
    for code, likelihood in ranked[:5]:
        if code in expected and likelihood >= 0.2:
            return str(code)
    return "und"


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid with normalised probabilities, loaded once (the model takes ~0.3 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
