"""How deeply the brackets of a JSON or TOML text nest, counted before any parser sees it.

Python's parsers recurse once per level: `[[[[...]]]]` 40,000 deep raises RecursionError from `json.loads`
and `tomllib.loads` alike (tomllib is pure Python), far from the file it came from. A lesson or a link's
layers nests a handful of levels, so a text deeper than a small limit is refused by name, cheaply, first.

The count skips strings ("...", '...', and their triple-quoted forms) and # comments, so brackets in a
question's text do not count. It is a guard, not a parser: where it and the parser would disagree the text
is invalid anyway, and callers still turn a RecursionError into their own message.
"""
from __future__ import annotations

import re

# A string runs to its closing quote, or (unclosed: invalid text) to the end of its line or of the text, so
# every character is read once: 100 kB of '"\\' takes milliseconds, not the half minute of a backtracking scan.
_TOKEN = re.compile(r'"""[\s\S]*?(?:"""|\Z)|\'\'\'[\s\S]*?(?:\'\'\'|\Z)|"(?:[^"\\\n]|\\.)*+"?|\'[^\'\n]*+\'?'
                    r'|#[^\n]*|[\[\]{}]')


def depth(text: str) -> int:
    """The deepest nesting of [ ] and { } in `text`, outside strings and comments ("[{}]" -> 2, "x" -> 0)."""
    level = deepest = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            level += 1
            deepest = max(deepest, level)
        elif token in ("]", "}"):
            level = max(level - 1, 0)
    return deepest


def check(text: str, limit: int) -> None:
    """ValueError naming the depth when `text` nests deeper than `limit` levels."""
    if limit < 1:
        raise ValueError(f"the nesting limit must be at least 1, got {limit}")
    found = depth(text)
    if found > limit:
        raise ValueError(f"nested {found:,} levels deep, more than {limit}")
