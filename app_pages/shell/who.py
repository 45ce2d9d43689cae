"""Who this browser session is (not a page): its secret owner token, and whether it is the teacher's browser."""
from __future__ import annotations

import streamlit as st

from cnnviz import access, owndata

TOKEN = "cnnviz_owner_token"  # in the session only: never shown, never in a link


def editor() -> owndata.Editor:
    """This session as the library's Editor: its token (made on first use) and teacher or not (loopback)."""
    token = st.session_state.get(TOKEN) or st.session_state.setdefault(TOKEN, owndata.new_token())
    return owndata.Editor(token, access.is_teacher(st.context.ip_address, list(st.context.headers)))
