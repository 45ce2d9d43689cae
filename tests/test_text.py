"""cnnviz.text: user- and file-supplied text is made inert for Streamlit's Markdown and for plotly."""
import re

import pytest

from cnnviz import text

JOINER = "\u2060"
HOSTILE = ["[x](http://evil/x)", "![x](http://evil/x.png)", "<img src=x>", "**bold**", "`code`", "~~gone~~",
           "# heading", "> quote", "| a | b |", "$x^2$", ":red[red]", ":smile:", ":material/home:", "&lt;b&gt;",
           "http://evil/x", "https://evil/x", "www.evil.org", "me@evil.org", "- item", "+ item", "1. item"]


def _shown(escaped: str) -> str:
    """What a reader sees: backslash escapes resolved, the invisible word joiner dropped."""
    return re.sub(r"\\(.)", r"\1", escaped).replace(JOINER, "")


@pytest.mark.parametrize("raw", HOSTILE)
def test_plain_shows_the_text_as_typed_and_leaves_no_markup(raw):
    escaped = text.plain(raw)
    assert _shown(escaped) == raw
    for opener in ("[", "]", "(", "!", "<", "*", "`", "~", "#", ">", "|", "$", "&", "@"):
        assert not re.search(rf"(?<!\\){re.escape(opener)}", escaped), (opener, escaped)
    assert not re.search(r"(?<!\\):\w", escaped)                       # no :red[ or :smile opener
    assert not re.search(r"(?i)(https?:|www\.|\w@)", _without_escapes(escaped))  # GFM's bare addresses broken
    assert not re.search(r":[\w/+-]+:", _without_escapes(escaped))   # nor an emoji shortcode


def _without_escapes(escaped: str) -> str:
    return re.sub(r"\\(.)", r"\1", escaped)  # GFM finds bare addresses after the escapes are resolved


def test_plain_keeps_names_and_prose_readable():
    assert text.plain("tutorial_a-2") == "tutorial_a-2" and text.plain("_x_") == "\\_x\\_"
    assert text.plain("lessons/broken.toml: step 1, state: stride='99'") == \
        "lessons/broken.toml: step 1, state: stride='99'"   # a colon before a space, '.', '/', "'" make nothing
    assert text.plain("[x](http://evil/x)") == "\\[x\\]\\(http" + JOINER + "\\://evil/x\\)"
    assert text.plain("layers='[[[…' ignored") == "layers='[[[…' ignored"  # no ']' after it: a '[' opens nothing
    assert text.plain("[[a]") == "\\[\\[a\\]"


def test_plain_makes_one_printable_line():
    assert text.plain("a\n# b\r\n\n- c") == "a \\# b \\- c"  # no line starts a heading or a list
    assert text.plain("caf\udcff\x1b") == "caf\ufffd?"      # a lone surrogate cannot be sent; no control codes
    assert text.plain(ValueError("no lesson '[x](y)'")) == "no lesson '\\[x\\]\\(y\\)'"


def test_plotly_escapes_tags_and_entities():
    escaped = '&lt;a href="http://evil/"&gt;x&lt;/a&gt; &amp; &lt;b&gt;'
    assert text.plotly('<a href="http://evil/">x</a> & <b>') == escaped
    assert text.plotly("circle") == "circle" and text.plotly("7") == "7"
