"""Hostile text made safe to show: one function for every output spreadwatch writes.

Post text, titles, author names and handles are written by strangers. Shown as they are they can
lie (`@admin\\u202emoc.elgoog` renders as "@adminelgoog.com" reversed — "…google.com"), corrupt
a terminal (ESC sequences) or break a mail header (NUL, CR/LF). Escaping markup is not enough,
so every renderer passes such text through `display_text` (plain text: terminal, CLI tables,
e-mail bodies), `display_line` (one line: subjects, headers, table cells), `display_markdown`
(one line inside markdown: every punctuation mark escaped) or `display_html` (an autoescaped
HTML fragment isolated with `<bdi>`, so a right-to-left name cannot reorder the text around
it). Control characters, bidi embeddings/overrides/isolates and lone surrogates
(which no UTF-8 file, page or e-mail can hold) are made visible as `\\u202e`-style escapes
rather than dropped: a reader sees that something was there. A surrogate pair written as two
code points (YAML reads a JSON-style `"\\ud83d\\udd25"` so) is the one character it encodes.
Right-to-left marks (U+200E, U+200F, U+061C) are kept: they cannot reverse text, and real
Arabic or Hebrew posts use them. Plain module: every layer may import it.
"""

from __future__ import annotations

import re
import string
import unicodedata

from markupsafe import Markup, escape

#: Embeddings, overrides and isolates: the characters that reorder text around them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = "\n\r\u2028\u2029\x0b\x0c\x85"
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_HOSTILE_CATEGORIES = ("Cc", "Cs")  # controls, and surrogates left unpaired by `_paired`
#: What markdown may backslash-escape: every ASCII punctuation character (CommonMark 2.4).
_MD_PUNCTUATION = frozenset(string.punctuation)
#: What starts markdown inside a table cell, where no block (heading, list, `===`) can begin:
#: escapes, code, emphasis, links and images, HTML and autolinks, entities, strikethrough, and
#: the `|` that would end the cell.
_MD_INLINE = frozenset("\\`*_[]<>&~|")


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _hostile(char: str, keep: str) -> bool:
    if char in keep:
        return False
    return char in BIDI_CONTROLS or unicodedata.category(char) in _HOSTILE_CATEGORIES


def _paired(text: str) -> str:
    """`text` with each surrogate pair joined into its character (lone ones stay)."""
    if not _SURROGATE_PAIR.search(text):
        return text
    return _SURROGATE_PAIR.sub(
        lambda m: m.group().encode("utf-16-le", "surrogatepass").decode("utf-16-le"), text
    )


def display_text(value: object, limit: int | None = None) -> str:
    """Multi-line plain text: line breaks and tabs kept, other controls and bidi made visible."""
    text = _paired("" if value is None else str(value))
    text = text.replace("\r\n", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    shown = "".join(_visible(c) if _hostile(c, "\n\t") else c for c in text)
    return _cut(shown, limit)


def display_line(value: object, limit: int | None = None) -> str:
    """One line (mail subjects and headers, table cells): breaks and tabs become spaces,
    controls and bidi made visible. Never contains CR, LF or NUL."""
    text = _paired("" if value is None else str(value)).replace("\r\n", " ")
    for brk in _LINE_BREAKS:
        text = text.replace(brk, " ")
    text = text.replace("\t", " ")
    return _cut("".join(_visible(c) if _hostile(c, "") else c for c in text), limit)


def display_cell(value: object) -> str:
    """One line where a line break must stay visible (a CLI table cell, a spreadsheet cell read
    as a record): breaks show as `\\x0a`/`\\x0d` escapes instead of spaces."""
    text = "" if value is None else str(value)
    return display_line(text.replace("\n", "\\x0a").replace("\r", "\\x0d"))


def display_markdown(value: object, limit: int | None = None, *, cell: bool = False) -> str:
    """One line of markdown text (a heading, a Kibana markdown panel; with `cell`, a table
    cell): shown the way `display_line` shows it, then backslash-escaped, as CommonMark allows
    for any ASCII punctuation, so nothing in it starts markdown (`~~`, `&amp;` entities, `<`, a
    setext `===`, ...) and a renderer shows the text as written. A line may begin a block, so
    every punctuation mark is escaped; a cell cannot, so only the marks that act inside a line
    are, and the apostrophes and full stops of a post stay readable in a terminal."""
    marks = _MD_INLINE if cell else _MD_PUNCTUATION
    return "".join("\\" + c if c in marks else c for c in display_line(value, limit))


def display_html(value: object, limit: int | None = None) -> Markup:
    """An HTML fragment: escaped, controls and bidi made visible, isolated in `<bdi>`."""
    return Markup("<bdi>{}</bdi>").format(escape(display_text(value, limit)))


def excerpt(value: object, limit: int) -> str:
    """A post's text as one line of at most `limit` characters (whitespace runs collapsed)."""
    return display_line(" ".join(("" if value is None else str(value)).split()), limit)


def _cut(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"


def finalize(value: object) -> object:
    """Jinja `finalize` hook: every string a template prints passes `display_text` (markup the
    code built itself, `Markup`, passes untouched; autoescaping still applies after this)."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return display_text(value)


#: Jinja filters: `{{ name | bdi }}` for untrusted names and texts in HTML, `| line` for
#: one-line places.
TEMPLATE_FILTERS = {"bdi": display_html, "line": display_line}
