"""Caches shared by the pages (not a page: app.py lists the pages). The library stays free of streamlit."""
import streamlit as st

from cnnviz import data


@st.cache_resource(show_spinner="Loading the dataset into memory…")
def load_split(name: str, split: str) -> data.Split:
    """One copy per process of a dataset split, whichever page asks first (MNIST test is ~31 MB)."""
    return data.load(name, split)
