"""The Dimension calculator's layer table: how its columns are edited (kept out of the page to keep it short)."""
import streamlit as st

from cnnviz.arch import LAYER_TYPES
from cnnviz.spec import MAX_SIDE, MAX_WIDTH


def editor_columns() -> dict:
    """st.data_editor's column settings for cnnviz.editor.COLUMNS: labels, ranges (the spec's), steps, layer types."""
    num = st.column_config.NumberColumn

    def side(label: str, low: int = 1):
        return num(label, min_value=low, max_value=MAX_SIDE, step=1, help=f"{low} to {MAX_SIDE:,}")
    return {"order": num("#", step=0.5, format="plain", help="Row order; type 2.5 to move a row between 2 and 3"),
            "type": st.column_config.SelectboxColumn("layer", options=LAYER_TYPES, required=True),
            "size": num("out channels / features", min_value=1, max_value=MAX_WIDTH, step=1,
                        help=f"1 to {MAX_WIDTH:,}"),
            "kernel_size": side("kernel"), "stride": side("stride"), "padding": side("padding", 0),
            "dilation": side("dilation"), "p": num("dropout p", min_value=0.0, max_value=0.99, step=0.05)}
