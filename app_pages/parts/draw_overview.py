"""Draw page section (not a page): the "Inside the network" overview as a small component: a column per layer,
each a server-drawn picture (cnnviz.figures.overview), the probabilities as bars; a click on a tile (or a bar)
is sent back as the component's state `pick` = [column k, tile i], as a plotly selection was before.

Names are set as text (textContent), never as HTML: a card's class names are the user's own.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

_CSS = """
.cnnviz-ov {display: flex; gap: 2px; align-items: flex-start; width: 100%; font-size: var(--ov-font);
            line-height: 1.2; font-family: inherit}
.cnnviz-ov .ov-col {min-width: 0; display: flex; flex-direction: column; align-items: center}
.cnnviz-ov .ov-head {height: 48px; display: flex; flex-direction: column; justify-content: flex-end;
                     text-align: center; white-space: nowrap}
.cnnviz-ov .ov-wrap {position: relative}
.cnnviz-ov .ov-wrap.strip {width: 100%; height: var(--ov-h)}
.cnnviz-ov .ov-pic {display: block; width: 100%; height: 100%; image-rendering: pixelated; cursor: pointer}
.cnnviz-ov .ov-mark {position: absolute; border: 3px solid #ff4b4b; box-sizing: border-box; pointer-events: none}
.cnnviz-ov .ov-bars {height: var(--ov-h); width: 100%; display: flex; flex-direction: column}
.cnnviz-ov .ov-bar {flex: 1; min-height: 0; display: flex; align-items: center; gap: 4px; cursor: pointer}
.cnnviz-ov .ov-bar:hover {background: rgba(142, 168, 195, 0.2)}
.cnnviz-ov .ov-lab {flex: 0 0 2.4em; text-align: right; overflow: hidden; text-overflow: ellipsis; white-space: nowrap}
.cnnviz-ov .ov-fill {height: 70%; flex: none}
"""

_JS = """
const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
};
const tileAt = (col, img, e) => {  // the tile under the pointer, or null (a gap's pixel counts for its tile)
    const r = img.getBoundingClientRect();
    const c = Math.floor((e.clientX - r.left) / r.width * col.width / (col.tw + col.gap));
    const row = Math.floor((e.clientY - r.top) / r.height * col.height / (col.th + col.gap));
    const i = row * col.cols + c;
    return c >= 0 && c < col.cols && row >= 0 && i < col.n ? i : null;
};
const mark = (col, i) => {  // an outline around tile i, in percent of the picture
    const m = el('div', 'ov-mark'), r = Math.floor(i / col.cols), c = i % col.cols;
    Object.assign(m.style, {left: `${100 * c * (col.tw + col.gap) / col.width}%`,
        top: `${100 * r * (col.th + col.gap) / col.height}%`, width: `${100 * col.tw / col.width}%`,
        height: `${100 * col.th / col.height}%`});
    return m;
};
const picture = (col, c, picked) => {
    const wrap = el('div', col.square ? 'ov-wrap' : 'ov-wrap strip');
    if (col.square) {
        wrap.style.width = `min(100%, calc(var(--ov-h) * ${col.width / col.height}))`;
        wrap.style.aspectRatio = `${col.width} / ${col.height}`;
    }
    const img = el('img', 'ov-pic');
    Object.assign(img.dataset, {c, layer: col.layer, k: col.k, n: col.n, cols: col.cols, th: col.th,
                                tw: col.tw, gap: col.gap, width: col.width, height: col.height});
    img.alt = `${col.heading[0]} ${col.heading[1]}`;
    img.draggable = false;
    img.src = col.src;
    wrap.append(img);
    if (col.mark !== null) wrap.append(mark(col, col.mark));
    if (picked && picked[0] === col.k && picked[1] < col.n) wrap.append(mark(col, picked[1]));
    return wrap;
};
const bars = (col, c) => {
    const box = el('div', 'ov-bars');
    col.rows.forEach((row, i) => {
        const bar = el('div', 'ov-bar');
        Object.assign(bar.dataset, {c, i});
        bar.title = `${row.label}: ${row.text || 'under 1%'}`;
        const fill = el('span', 'ov-fill');
        Object.assign(fill.style, {width: `calc((100% - 6em) * ${row.width / 100})`, background: row.colour});
        bar.append(el('span', 'ov-lab', row.label), fill, el('span', 'ov-pct', row.text));
        box.append(bar);
    });
    return box;
};
export default function(component) {
    const { data, setStateValue, parentElement } = component;
    if (!data) return;
    let root = parentElement.querySelector('.cnnviz-ov');
    if (!root) {
        root = el('div', 'cnnviz-ov');
        parentElement.appendChild(root);
        root.addEventListener('click', (e) => {
            const d = root.__data, bar = e.target.closest('.ov-bar'), img = e.target.closest('.ov-pic');
            let k = null, i = null;
            if (bar && d.columns[+bar.dataset.c].k !== null) { k = d.columns[+bar.dataset.c].k; i = +bar.dataset.i; }
            if (img && +img.dataset.k >= 0) { k = +img.dataset.k; i = tileAt(d.columns[+img.dataset.c], img, e); }
            if (k === null || i === null) return;
            root.__set('pick', [k, i]);
            root.__draw({...d, picked: [k, i]});  // outlined at once; the rerun confirms it
        });
        root.addEventListener('mousemove', (e) => {
            const img = e.target.closest('.ov-pic');
            if (!img || +img.dataset.k < 0) return;
            const col = root.__data.columns[+img.dataset.c], i = tileAt(col, img, e);
            img.title = i === null ? '' : `${col.labels ? col.labels[i] : col.layer + ' map ' + i}: click to explain`;
        });
        root.__draw = (d) => {
            root.style.setProperty('--ov-h', `${d.height}px`);
            root.style.setProperty('--ov-font', `${d.font}px`);
            root.replaceChildren(...d.columns.map((col, c) => {
                const box = el('div', 'ov-col');
                box.style.flex = `${col.share} 1 0`;
                const head = el('div', 'ov-head');
                head.append(el('span', '', col.heading[0]), el('span', '', col.heading[1]));
                box.append(head, col.kind === 'bars' ? bars(col, c) : picture(col, c, d.picked));
                return box;
            }));
        };
    }
    root.__data = data;
    root.__set = setStateValue;
    root.__draw(data);
}
"""

_component = st.components.v2.component("cnnviz_overview", css=_CSS, js=_JS, isolate_styles=False)


def clicked(key: str) -> tuple[int, int] | None:
    """The (column k, tile i) last clicked in the overview with this key, None before any click (or if garbled)."""
    state = st.session_state.get(key)
    pick = state.get("pick") if hasattr(state, "get") else None
    if isinstance(pick, list) and len(pick) == 2 and all(isinstance(v, int) and v >= 0 for v in pick):
        return pick[0], pick[1]
    return None


def show(payload: dict[str, Any], key: str) -> None:
    """Mount the overview (cnnviz.figures.overview.overview's payload); its clicks come back through clicked()."""
    _component(key=key, data=payload, on_pick_change=lambda: None)
