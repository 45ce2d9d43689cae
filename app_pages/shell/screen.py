"""How wide this browser's window is (Streamlit has no server-side viewport): a tiny JS component reports
window.innerWidth once, and again when it changes (a phone turned sideways); the pages fold their heavy
sections on a narrow screen. Until the first report a phone's user agent is the guess."""
import streamlit as st

NARROW_PX = 820          # a 768 px tablet held upright and every phone: fold the heavy parts
_KEY = "_screen"

_JS = """
export default function(component) {
    const { data, setStateValue } = component;
    const report = () => {
        const w = Math.round(window.innerWidth);
        if (w !== (data && data.known)) setStateValue('width', w);
    };
    report();
    if (!window.__cnnvizScreen) {
        window.__cnnvizScreen = true;
        let t = null;
        window.addEventListener('resize', () => { clearTimeout(t); t = setTimeout(report, 300); });
    }
}
"""
_component = st.components.v2.component("cnnviz_screen", js=_JS)


def measure() -> None:
    """app.py, every run: mount the (invisible) reporter; its first report reruns the page once."""
    known = (st.session_state.get(_KEY) or {}).get("width")
    st.html(f"<style>.st-key-{_KEY} {{display: none}}</style>")  # it shows nothing: no gap above the page either
    _component(key=_KEY, data={"known": known}, on_width_change=lambda: None)


def width() -> int | None:
    """The window's width in CSS pixels as last reported, None before the first report."""
    known = (st.session_state.get(_KEY) or {}).get("width")
    return int(known) if isinstance(known, (int, float)) else None


def narrow() -> bool:
    """True on a phone or an upright tablet: the heavy sections start folded."""
    w = width()
    if w is not None:
        return w < NARROW_PX
    agent = st.context.headers.get("User-Agent", "") if st.context.headers else ""
    return "Mobi" in agent or "Android" in agent
