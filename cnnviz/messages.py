"""Text for visitors: error messages never show the server's absolute paths.

Library messages name files by their own name ('train-images-idx3-ubyte.gz'); an exception from the
operating system or from Pillow often carries the full path ("cannot identify image file
'/home/teacher/cnnviz/...'"). `no_paths` keeps the last part of every absolute path and drops the rest.
"""
from __future__ import annotations

import re

# An absolute POSIX path (/a/b, ~/a) or Windows path (C:\\a\\b, \\\\server\\share\\a): up to a quote or space.
_PATH = re.compile(r"""(?:(?<![\w.])~?/|\b[A-Za-z]:[\\/]|\\\\)[^\s'"<>|]*""")


def no_paths(text: object) -> str:
    """`text` (or an exception) with every absolute path shortened to its last part: '/srv/x/a.png' -> 'a.png'."""
    def last(match: re.Match) -> str:
        parts = [p for p in re.split(r"[\\/]", match.group(0)) if p and p != "~" and not p.endswith(":")]
        return parts[-1] if parts else "…"
    return _PATH.sub(last, str(text))
