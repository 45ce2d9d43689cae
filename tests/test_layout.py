"""The app's layout reads at a glance: app_pages/ holds the pages (each one an st.Page in app.py, and nothing
else), app_pages/parts/ their pieces, app_pages/shell/ what every page shares; each file stays a page's size,
and every figure reaches the screen through ui.chart (so presenter mode restyles all of them)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "app_pages"


def test_the_top_folder_holds_exactly_the_pages_in_the_navigation():
    listed = set(re.findall(r'st\.Page\("app_pages/([a-z_]+\.py)"', (ROOT / "app.py").read_text()))
    on_disk = {p.name for p in PAGES.glob("*.py") if p.name != "__init__.py"}
    assert listed and listed == on_disk


def test_parts_and_shell_are_the_only_subfolders():
    folders = {p.name for p in PAGES.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == {"parts", "shell"}


def test_every_app_file_stays_a_page_long():
    long = {str(p.relative_to(ROOT)): n for p in PAGES.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 150}
    assert not long


def test_every_figure_goes_through_ui_chart():
    direct = [f"{p.relative_to(ROOT)}:{i}" for p in PAGES.rglob("*.py") if p.name != "ui.py"
              for i, line in enumerate(p.read_text().splitlines(), 1)
              if re.search(r"\.(plotly_chart|pyplot|altair_chart|vega_lite_chart)\(", line)]
    assert not direct
