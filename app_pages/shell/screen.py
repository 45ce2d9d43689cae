"""How wide this browser's window is (Streamlit has no server-side viewport): a tiny JS component reports
window.innerWidth when the server's guess is wrong, and again when it changes (a phone turned sideways); the pages
fold their heavy sections on a narrow screen. Until a report, the user agent is the guess (a phone's says "Mobi").

The first report is sent only when it changes the layout: a report reruns the page, and a rerun that starts while
the page's first run is still going interrupts it. Streamlit (1.67) then loses the values that run had set in code
for widgets it drew (a lesson's step, a link's settings): the browser never gets them and shows the widgets'
defaults, which it sends back on the next click (tests/test_browser_lessons.py, app_pages/shell/rerun_guard.py).
"""
import streamlit as st

NARROW_PX = 820          # a 768 px tablet held upright and every phone: fold the heavy parts
_KEY = "_screen"

_JS = """
export default function(component) {
    const { data, setStateValue } = component;
    window.__cnnvizScreenData = data || {};
    const report = () => {
        const w = Math.round(window.innerWidth), d = window.__cnnvizScreenData;
        if (d.known === null || d.known === undefined) {  // the server still guesses: tell it only if wrong
            if ((w < d.narrow_px) !== d.guess) setStateValue('width', w);
        } else if (w !== d.known) {
            setStateValue('width', w);
        }
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
    """app.py, every run: mount the (invisible) reporter; a report that changes the layout reruns the page once."""
    st.html(f"<style>.st-key-{_KEY} {{display: none}}</style>")  # it shows nothing: no gap above the page either
    _component(key=_KEY, data={"known": width(), "guess": _agent_narrow(), "narrow_px": NARROW_PX},
               on_width_change=lambda: None)


def width() -> int | None:
    """The window's width in CSS pixels as last reported, None before the first report."""
    known = (st.session_state.get(_KEY) or {}).get("width")
    return int(known) if isinstance(known, (int, float)) else None


def _agent_narrow() -> bool:
    agent = st.context.headers.get("User-Agent", "") if st.context.headers else ""
    return "Mobi" in agent or "Android" in agent


def narrow() -> bool:
    """True on a phone or an upright tablet: the heavy sections start folded."""
    w = width()
    return w < NARROW_PX if w is not None else _agent_narrow()
