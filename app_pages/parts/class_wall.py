"""Class page sections (not a page): how students join (QR code, link, class code), the wall's controls, and the
wall itself, refreshed every second from the shared store (cnnviz.classwall)."""
import html

import streamlit as st

from app_pages.parts import draw_class
from app_pages.shell import who
from cnnviz import access, classwall, joining, owndata, probe
from cnnviz.figures import classwall as figs
from cnnviz.figures.inline import data_uri
from cnnviz.text import plain

TARGETS = ("no target", *probe.DIGITS)

_GRID_CSS = """
.wall {display: grid; grid-template-columns: repeat(auto-fill, minmax(112px, 1fr)); gap: 10px}
.tile {border: 4px solid #cbd5e1; border-radius: 8px; padding: 4px; text-align: center; cursor: pointer;
       background: var(--st-background-color, #fff); font-family: sans-serif; color: var(--st-text-color, #111)}
.tile:hover {outline: 3px solid #2563eb}
.tile img {width: 96px; height: 96px; image-rendering: pixelated; display: block; margin: 0 auto}
.tile .who {font-size: 14px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap}
.tile .ans {font-size: 20px; font-weight: 700}
.wrong {border-color: #b91c1c} .unsure {border-color: #d97706} .right {border-color: #15803d}
"""
_GRID_JS = """
export default function(component) {
    const { data, setTriggerValue, parentElement } = component;
    let grid = parentElement.querySelector('.wall');
    if (!grid) { grid = document.createElement('div'); grid.className = 'wall'; parentElement.appendChild(grid); }
    grid.replaceChildren(...(data || []).map(t => {
        const tile = document.createElement('button');
        tile.className = 'tile ' + t.kind;
        tile.dataset.id = t.id;
        tile.title = 'Open on Draw a digit';
        const img = document.createElement('img'); img.src = t.src; img.alt = t.name;
        const who = document.createElement('div'); who.className = 'who'; who.textContent = t.name;
        const ans = document.createElement('div'); ans.className = 'ans'; ans.textContent = t.answer;
        tile.append(img, ans, who);
        tile.onclick = () => setTriggerValue('open', t.id);
        return tile;
    }));
}
"""
_grid = st.components.v2.component("cnnviz_class_wall", css=_GRID_CSS, js=_GRID_JS)


def join_banner(j: joining.Joining) -> None:
    """The QR code, the link to type, what stands in the way, and the class code when one is set."""
    left, right = st.columns([1, 2.2], vertical_alignment="center")
    with left.container(key="class_qr"):
        st.html(f"<img alt='QR code of {html.escape(j.link, quote=True)}' src='{data_uri(joining.qr_png(j.link, 8))}' "
                "style='width:260px;height:260px;image-rendering:pixelated;display:block'>")
    with right:
        st.markdown("Students: open the camera on the QR code, or type")
        st.html(f"<div class='class-link' style='font-size:2.6rem;font-weight:700;word-break:break-all'>"
                f"{html.escape(j.link)}</div>")
        if code := access.class_code():
            st.markdown(f"Class code: **{plain(code)}**")
        if j.problem:
            st.warning(plain(j.problem))


def controls(wall) -> str | None:
    """Collect on or off, the target, Clear wall, Save these drawings; returns the target (None: none)."""
    on, current = classwall.collecting(wall)
    st.session_state.setdefault("class_collect", on)
    st.session_state.setdefault("class_target", current or TARGETS[0])
    c = st.columns([2, 2, 1.3, 3], vertical_alignment="bottom")
    chosen = c[1].selectbox("Target", TARGETS, key="class_target", format_func=lambda t: f"everyone draw a {t}"
                            if t != TARGETS[0] else "no target: any digit")
    target = None if chosen == TARGETS[0] else chosen
    if c[0].toggle("📺 Collect drawings", key="class_collect"):
        if not on or current != target:
            classwall.start(wall, target)
    elif on:
        classwall.stop(wall)
    if c[2].button("🧹 Clear wall"):
        st.toast(f"Cleared {classwall.clear(wall)} drawings.")
    with c[3].popover("💾 Save these drawings"):
        save_form(wall, target)
    return target


def save_form(wall, target: str | None) -> None:
    """Save the wall as a dataset for *Make a dataset* (one folder per class: the target, else the answers)."""
    name = st.text_input("Dataset name", value="our class", max_chars=owndata.MAX_NAME, key="class_save_name")
    st.caption("Each drawing goes under " + ("the target." if target else "the model's answer: check them first."))
    if st.button("Save", key="class_save"):
        try:
            ds, saved, notes = classwall.save(classwall.read(wall), name, target, who.editor())
        except ValueError as err:
            st.error(plain(err))
            return
        st.success(f"Saved {saved} drawings as **{plain(ds.name)}**: open it on *Make a dataset*.")
        for note in notes[:5]:
            st.caption(plain(note))


@st.fragment(run_every=1.0)
def wall_view(wall, target: str | None) -> None:
    """The count line, the accuracy or the per-digit row, and the grid: re-read every second."""
    drawings = classwall.read(wall)
    summary = classwall.summary(drawings, target, probe.DIGITS)
    line = f"**{summary.count}**"
    if summary.accuracy is not None:
        line += f" · {summary.right} right: class accuracy **{summary.accuracy:.0%}** on “{plain(target)}”"
    st.markdown(line)
    if target is None and drawings:
        st.markdown(" · ".join(f"{plain(k)}: **{n}**" for k, n in summary.per_class.items()))
    if not drawings:
        st.info("No drawings yet: students draw on *Draw a digit* while **Collect drawings** is on.")
        return
    opened = _grid(key="class_grid", data=figs.tiles(drawings, target), on_open_change=lambda: None)
    if (session := getattr(opened, "open", None)) and (d := next((x for x in drawings if x.session == session), None)):
        draw_class.show_on_draw(d, classwall.names(drawings)[d.session])
