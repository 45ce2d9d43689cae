"""Page section (not a page): a missing dataset's state and its explicit Download button."""
import streamlit as st

from app_pages.shell.cached import downloader
from cnnviz import data


def ready(name: str) -> bool:
    """True when the dataset is on disk; otherwise shows its state and a Download button, and returns False."""
    status = downloader().status(name)
    if status.state == "ready":
        return True
    _panel(name)
    return False


@st.fragment(run_every=1.0)
def _panel(name: str) -> None:
    status = downloader().status(name)
    if status.state == "ready":
        st.rerun()  # the files arrived: redraw the whole page with the dataset
    if status.state == "downloading":
        st.info(status.message + " Other pages stay usable; this one updates by itself.")
        return
    (st.error if status.state == "failed" else st.warning)(status.message)
    again = "Try the download again" if status.state == "failed" else "Download"
    st.button(f"⬇️ {again} ({data.info(name).title}, about {data.info(name).size_mb} MB)", key="download",
              on_click=downloader().start, args=(name,))
