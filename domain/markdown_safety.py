"""User text inside Markdown: shown as typed, never as formatting, links, images, LaTeX or colour.

Streamlit renders st.title, st.header, st.markdown, st.caption, st.write, labels and messages as
Markdown with extensions: `$...$` LaTeX, `:red[...]` colour, `:material/...:` icons, `[x](url)`
links, `![x](url)` images (which the browser loads at once), raw URLs and e-mail addresses turned
into links, and HTML. `md()` backslash-escapes the characters that start any of those (CommonMark
allows an escape before any ASCII punctuation, so the text still looks exactly as typed), a block
marker at the start of a line, and the start of a bare address, so none of them can form. Links
are only ever built here, from validated parts: http(s) addresses, mailto: from a valid e-mail
address, tel: from a valid phone number. Pure logic, no Streamlit.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from domain import validation as v

# Characters that start inline markup anywhere: emphasis, code, links and images (with '[' escaped
# no '![' image can form), HTML, LaTeX ($), strikethrough, tables.
_INLINE = frozenset("\\`*_[]<>$~|")
# Characters that are markup only before certain others: ':' before a letter or '/' (Streamlit's
# :red[..] colour, :material/..: icons, emoji, and the 'http:'/'mailto:' of bare links; '14:00' and
# 'Obs: text' stay as they are), '&' before a letter or '#' (HTML entities), '@' before a letter or
# digit (bare e-mail addresses become links).
_CONTEXTUAL = re.compile(r":(?=[A-Za-z/])|&(?=[A-Za-z#])|@(?=[A-Za-z0-9])")
# Characters that start a block at the beginning of a line: headings, lists, quotes, rules, setext.
_LINE_START = re.compile(r"^([ \t]*)([#+\-=>]|\d{1,9}[.)])", re.MULTILINE)
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
# Streamlit also turns bare addresses into links after escapes are resolved (seen in Chromium:
# 'http\://x' and 'x\@y.z' still became links), so a word joiner (U+2060: zero-width, no line
# break) goes where such a link would start: after a scheme name before ':', after 'www' before
# '.', and before the '@' of an address. It is invisible; the text still reads as typed.
JOINER = "\u2060"
_AUTOLINK = re.compile(
    r"(?i)(?<![a-z])(https?|ftp|file|mailto|tel|data|javascript|www)(?=[:.])|(?<=\w)(?=@\w)"
)


def md(value: object) -> str:
    """`value` as inert Markdown text that looks exactly as typed: inline markup characters
    backslash-escaped, a block marker at the start of any line escaped, 'www.' broken so it is not
    auto-linked, line breaks kept as hard breaks."""
    if value is None:
        return ""
    text = _AUTOLINK.sub(lambda m: (m.group(1) or "") + JOINER, _LINE_BREAKS.sub("\n", str(value)))
    escaped = "".join("\\" + ch if ch in _INLINE else ch for ch in text)
    escaped = _CONTEXTUAL.sub(lambda m: "\\" + m.group(0), escaped)
    escaped = _LINE_START.sub(lambda m: m.group(1) + _escape_marker(m.group(2)), escaped)
    return escaped.replace("\n", "  \n")


def _escape_marker(marker: str) -> str:
    """'#' -> '\\#'; '12.' -> '12\\.' (the character that makes it a marker)."""
    return marker[:-1] + "\\" + marker[-1]


def md_inline(value: object) -> str:
    """As md(), on one line (titles, table cells, labels): line breaks become spaces."""
    return md(_LINE_BREAKS.sub(" ", "" if value is None else str(value)))


def _target(url: str) -> str:
    """A link target in angle brackets with nothing that could end it early."""
    return "<" + quote(url, safe=":/?#@!$&'*+,;=%-._~") + ">"


def web_link(label: object, url: object) -> str:
    """[label](url) for an http(s) address that passes the URL check; else the label as text."""
    try:
        checked = v.url(url, required=True)
    except v.FieldError:
        return md_inline(label)
    return f"[{md_inline(label)}]({_target(checked)})"


def mailto_link(address: object, label: object | None = None) -> str:
    """A mailto: link to a valid e-mail address; anything else is shown as inert text, no link."""
    try:
        checked = v.email(address, required=True)
    except v.FieldError:
        return md_inline(address if label is None else label)
    shown = md_inline(checked if label is None else label).replace("\\@", "@").replace(JOINER, "")
    return f"[{shown}]({_target('mailto:' + checked)})"


def tel_link(number: object, label: object | None = None) -> str:
    """A tel: link from a valid phone number (digits and a leading +); else the number as text."""
    try:
        checked = v.phone(number, required=True)
    except v.FieldError:
        return md_inline(number if label is None else label)
    digits = ("+" if checked.strip().startswith("+") else "") + "".join(ch for ch in checked if ch.isdigit())
    return f"[{md_inline(checked if label is None else label)}]({_target('tel:' + digits)})"
