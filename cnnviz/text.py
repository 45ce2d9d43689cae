"""User- and file-supplied text shown as typed: one escaper for Streamlit's Markdown, one for plotly's text.

Names reach the pages from many places a visitor or a file controls: a link's keys and values, a lesson's
name, a dataset's and its classes' names, a model card's class names, a checkpoint folder's name, an uploaded
file's name. Streamlit renders labels, captions, alerts, metrics and radio options as GitHub-flavoured Markdown
(plus its own `:red[...]` colours, `:emoji:` shortcodes and `$...$` maths), and plotly renders a subset of
HTML (`<a href>`, `<b>`, `<br>`) in its texts and ticks: either way `[x](http://host)` would be a live link
and `![x](http://host/x.png)` a remote picture. `plain` and `plotly` make such text inert, and show it as
it was typed (backslash escapes and HTML entities are invisible once rendered).
"""
from __future__ import annotations

import html
import re
import unicodedata

# Always escaped: every character that opens or closes Markdown, GFM, HTML, maths or a Streamlit directive
# anywhere in a line. '.', ',', '/', "'", '"', '=', '?', '%' and ';' make nothing inline and stay as typed;
# nor does a '[' with no ']' after it (every link, image, footnote and check box needs one).
_ALWAYS = r"\\`*{}\]()<>#+!|~$^&@"
_MARKUP = re.compile(
    rf"([{_ALWAYS}\[]"
    r"|(?<![A-Za-z0-9])[-_]|[-_](?![A-Za-z0-9])"   # '_' / '-' between letters or digits never make markup
    r"|:(?=\S)"                                      # ':red[', ':smile:', 'http://': a colon before a space is prose
    r"|(?<=^\d)\.|(?<=^\d\d)\.|(?<=^\d\d\d)\.)"      # '1.' at the start would open a numbered list
)
# GFM turns bare addresses into links after the escapes above are resolved (remarkjs/remark-gfm#33):
# 'www.x.org', 'http://x', 'a@b.org'. A word joiner (U+2060, invisible, not a space) breaks the pattern
# without changing what is seen.
_AUTOLINK = re.compile(r"(?i)((?<![a-z0-9])(?:www(?=\\?\.)|http(?=s?\\?:))|(?=\\@))")
_JOINER = "\u2060"
_SHORTCODE = re.compile(r":[\w/+-]+(?=:)")  # ':smile:', ':material/home:' stay emoji after '\:': break them too
_SURROGATE = re.compile("[\ud800-\udfff]")
_BREAKS = re.compile(r"\s*[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+\s*")


def printable(text: object) -> str:
    """`text` as one printable line: line breaks become a space, undecodable bytes '�', control characters '?'."""
    text = _BREAKS.sub(" ", _SURROGATE.sub("\ufffd", str(text)))  # a lone surrogate cannot be sent to a browser
    return "".join("?" if unicodedata.category(ch)[0] == "C" else ch for ch in text)


def cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and '…' when it is longer."""
    return text if len(text) <= limit else text[:limit] + "…"


def shorten(text: object, limit: int = 60) -> str:
    """`text` as one printable line (`printable`), cut to `limit` characters: a file or entry name in a message."""
    return cut(printable(text), limit)


def plain(text: object) -> str:
    """`text` for Streamlit Markdown (labels, captions, alerts, metrics, options): shown exactly as typed, inert."""
    text = _SHORTCODE.sub(lambda m: m.group(0) + _JOINER, printable(text))
    last = text.rfind("]")  # a '[' after the last ']' opens nothing
    text = _MARKUP.sub(lambda m: m.group(1) if m.group(1) == "[" and m.start() > last else "\\" + m.group(1), text)
    return _AUTOLINK.sub(r"\1" + _JOINER, text)


def plotly(text: object) -> str:
    """`text` for a plotly text, tick or hover label: '<', '>' and '&' as entities, so no tag or link is made."""
    return html.escape(printable(text), quote=False)
