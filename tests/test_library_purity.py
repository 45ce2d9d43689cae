"""cnnviz never imports streamlit: the library must run in scripts, notebooks and tests alike."""
import pkgutil
import subprocess
import sys
from pathlib import Path

import cnnviz


def _modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(cnnviz.__path__, "cnnviz.") if not m.name.endswith("__main__")]


def test_every_module_imports_without_streamlit():
    names = _modules()
    assert "cnnviz.arch" in names and "cnnviz.dims" in names
    code = ("import sys, importlib\n"
            f"for n in {names!r}: importlib.import_module(n)\n"
            "assert 'streamlit' not in sys.modules, [m for m in sys.modules if m.startswith('streamlit')]\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(cnnviz.__file__).parents[1])


def test_no_source_mentions_streamlit_imports():
    for path in Path(cnnviz.__file__).parent.rglob("*.py"):
        text = path.read_text()
        assert "import streamlit" not in text and "from streamlit" not in text, path
