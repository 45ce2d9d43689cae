"""The Dimension calculator's layer table: how its columns are edited (kept out of the page to keep it short)."""
import streamlit as st

from cnnviz.arch import LAYER_TYPES


def editor_columns() -> dict:
    """st.data_editor's column settings for cnnviz.editor.COLUMNS: labels, ranges, steps, the layer types."""
    num = st.column_config.NumberColumn
    return {"order": num("#", step=0.5, format="plain", help="Row order; type 2.5 to move a row between 2 and 3"),
            "type": st.column_config.SelectboxColumn("layer", options=LAYER_TYPES, required=True),
            "size": num("out channels / features", min_value=1, step=1),
            "kernel_size": num("kernel", min_value=1, step=1), "stride": num("stride", min_value=1, step=1),
            "padding": num("padding", min_value=0, step=1), "dilation": num("dilation", min_value=1, step=1),
            "p": num("dropout p", min_value=0.0, max_value=0.99, step=0.05)}
