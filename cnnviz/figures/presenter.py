"""Presenter styling of a finished plotly figure: fonts big enough to read from the back of a classroom.

Styled per figure, on a copy: plotly's default template is process-global, and thirty sessions share one
server process, so changing it would switch every visitor into presenter mode at once.
"""
from __future__ import annotations

import plotly.graph_objects as go

FONT = 16       # every label, tick, title and legend at least this many px
NUMBERS = 16    # numbers written inside cells (heatmaps, bars) at least this many px, or left out (hover keeps them)
TITLE = 20

# The pages' own stylesheet (app_pages/ui.style puts it on every run): presenter mode's text at 20 px.
_DENSE = ("[data-testid='stMainBlockContainer'] {padding: 1rem 1.5rem 2rem 1.5rem}"
          " .stApp h1 {padding-top: 0.25rem}")
PRESENTER_CSS = """<style>""" + _DENSE + """
.stApp p, .stApp li, .stApp label, .stApp input, .stApp textarea, .stApp [data-baseweb='select'] div,
.stApp [data-testid='stCaptionContainer'], .stApp [data-testid='stCaptionContainer'] p,
.stApp [data-testid='stMarkdownContainer'] code, .stApp pre code, .stApp button p,
.stApp [data-testid='stMetricLabel'] p, .stApp [data-testid='stTooltipHoverTarget'] p,
.stApp [data-testid='stTab'] p, .stApp [data-testid='stExpander'] summary p {font-size: 20px !important}
.stApp [data-testid='stMetricValue'] p, .stApp [data-testid='stMetricValue'] div {font-size: inherit !important}
.stApp h1 {font-size: 2.4rem} .stApp h2 {font-size: 2rem} .stApp h3 {font-size: 1.6rem}
[class*='st-key-adv_'] {display: none}
</style>"""
NORMAL_CSS = f"<style>{_DENSE} .stApp h1 {{font-size: 2.2rem}}</style>"


def page_css(presenting: bool) -> str:
    """The app's stylesheet for every run: denser padding; in presenter mode 20 px text, bigger headings and
    the advanced controls (containers keyed adv_*) hidden, their values still applying."""
    return PRESENTER_CSS if presenting else NORMAL_CSS


def _bigger(font, size: int) -> None:
    """Raise `font.size` to at least `size` (an unset size counts as too small)."""
    if font.size is None or font.size < size:
        font.size = size


def _numbers_fit(trace, layout, size: int) -> bool:
    """Whether the numbers written in a heatmap's cells fit them at `size` px (square cells, height-bound)."""
    if not trace.texttemplate or trace.z is None or len(trace.z) == 0:
        return True
    margin = (layout.margin.t or 0) + (layout.margin.b or 0)
    cell = ((layout.height or 450) - margin) / len(trace.z)  # px per row, and per column: pixels are square
    texts = [str(t) for row in (trace.text if trace.text is not None else trace.z) for t in row]
    longest = max((len(t) for t in texts), default=1)
    return cell >= 0.6 * size * longest + 4  # an average glyph is ~0.6 em wide


def present(fig: go.Figure, font: int = FONT, numbers: int = NUMBERS) -> go.Figure:
    """A copy of `fig` with every font >= `font` px, cell numbers >= `numbers` px; `fig` itself is unchanged."""
    out = go.Figure(fig)
    layout = out.layout
    _bigger(layout.font, font)
    _bigger(layout.title.font, TITLE)
    _bigger(layout.legend.font, font)
    for name in layout:  # xaxis, yaxis2, ... however many subplots
        if name.startswith(("xaxis", "yaxis")):
            axis = layout[name]
            _bigger(axis.tickfont, font)
            _bigger(axis.title.font, font)
    for note in layout.annotations:
        _bigger(note.font, font)
    for trace in out.data:
        if "textfont" in trace:
            _bigger(trace.textfont, numbers)
        if "colorbar" in trace:
            _bigger(trace.colorbar.tickfont, font)
        if trace.type == "heatmap" and not _numbers_fit(trace, layout, numbers):
            trace.texttemplate = None  # at `numbers` px they would pile up: the colours alone, values on hover
    layout.uniformtext = {"minsize": numbers, "mode": "show"}  # bars must not shrink their labels below it
    top = layout.margin.t
    if top is not None and layout.title.text:  # room for the taller title
        layout.margin.t = max(top, TITLE * 2 + 8)
    return out
