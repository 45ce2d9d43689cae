"""cnnviz.nesting: the bracket depth of a JSON or TOML text, counted without a parser (which would recurse)."""
import json

import pytest

from cnnviz import nesting


@pytest.mark.parametrize("text, depth", [
    ("", 0), ("x = 1", 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4), ("[[steps]]\npage = 1", 2),
    ('["[[[", "]"]', 1),                      # brackets inside strings do not count
    ("a = '[[[' # [[[[\nb = [1]", 1),           # nor inside literal strings and comments
    ('a = """\n[[[\n"""\nb = {c = [1]}', 2),   # nor inside multi-line strings
    (r'["a\"[[", [2]]', 2),                    # an escaped quote does not end the string
    ("[" * 40_000 + "]" * 40_000, 40_000),
], ids=lambda v: repr(v)[:30] if isinstance(v, str) else str(v))
def test_depth(text, depth):
    assert nesting.depth(text) == depth


def test_depth_agrees_with_the_json_parser_on_what_it_reads():
    obj = {"title": "t", "steps": [{"state": {"grid": [[0, 1], [1, 0]], "q": "[{"}}]}
    assert nesting.depth(json.dumps(obj)) == 6


def test_check_names_the_depth_and_the_limit():
    nesting.check("[[1]]", 2)
    with pytest.raises(ValueError, match="nested 40,000 levels deep, more than 16"):
        nesting.check("[" * 40_000 + "]" * 40_000, 16)
    with pytest.raises(ValueError, match="at least 1"):
        nesting.check("[]", 0)


@pytest.mark.parametrize("text, depth", [('"\\' * 50_000, 0), ('"' + "\\" * 99_999, 0), ("'''" + "[" * 99_000, 0),
                                         ('"""a' * 25_000, 0), ('[1, "' + "[" * 99_000, 1)],
                         ids=lambda v: repr(v)[:12] if isinstance(v, str) else str(v))
def test_an_unclosed_string_runs_to_the_end_of_the_text(text, depth):
    """Invalid text the parser refuses anyway; the scan reads it once (a backtracking regex took ~28 s on
    100 kB of '"\\', and the unclosed string's brackets are not counted: the parser never reads them as such)."""
    assert nesting.depth(text) == depth
