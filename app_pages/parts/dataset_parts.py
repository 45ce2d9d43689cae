"""Sections of the *Make a dataset* page (not a page: app.py lists the pages): adding examples, the grid.
File, dataset and class names come from users: every one is shown through cnnviz.text.plain."""
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from cnnviz import owndata, ownsplits, preprocess
from cnnviz.text import plain

COLS = 10  # thumbnails per row of the grid
# The canvas sends a stroke to the server 200 ms after the pen lifts (its debounce); a click on Add inside
# that window would save the drawing without its last stroke. Pressing Add (pointer or keyboard) first
# makes every canvas send what it shows now (its toolbar's own "Update the app" action), so the click's
# rerun carries exactly the drawing on screen. The canvas draws inside a shadow root: looked up there.
FLUSH_ON_ADD = """<script>
if (!window.cnnvizFlushOnAdd) {
  window.cnnvizFlushOnAdd = true;
  const flush = (ev) => {
    if (ev.type === "keydown" && ev.key !== "Enter" && ev.key !== " ") return;
    if (!ev.target.closest || !ev.target.closest(".st-key-ds_add_drawing")) return;
    for (const host of document.querySelectorAll("*")) {
      const send = host.shadowRoot && host.shadowRoot.querySelector(
        "button[aria-label='Update the app with this drawing']");
      if (send) send.click();
    }
  };
  document.addEventListener("pointerdown", flush, true);
  document.addEventListener("keydown", flush, true);
}
</script>"""


def flash(message: str, kind: str = "success") -> None:
    """Say something on the next run (after st.rerun)."""
    st.session_state["ds_flash"] = (kind, message)


def show_flash() -> None:
    """The message, in a slot that is always there: a message that comes and goes must not move the canvas
    below it (Streamlit remounts a moved block, and a remounted canvas forgets its strokes)."""
    slot = st.container()
    if said := st.session_state.pop("ds_flash", None):
        getattr(slot, said[0])(said[1])


def _fresh_inputs() -> None:
    """New keys for the canvas and the uploader: both come back empty for the next example."""
    st.session_state["ds_round"] = st.session_state.get("ds_round", 0) + 1


def draw_section(ds: owndata.OwnDataset, cls: str, who: owndata.Editor) -> None:
    """The canvas and its 'Add' button: the drawing goes through the Draw page's MNIST preparation."""
    n = st.session_state.setdefault("ds_round", 0)
    key = st.session_state["ds_canvas_key"] = f"ds_canvas_{n}"
    brush = st.slider("Brush size", 8, 40, 20, key="ds_brush")
    st.space("small")  # 1 + 0.75 + 1 rem above the canvas: its toolbar (undo, redo, clear) rises 2.65 rem over it
    canvas = st_canvas(stroke_width=brush, stroke_color="#FFFFFF", background_color="#000000", height=280,
                       width=280, drawing_mode="freedraw", key=key, return_image_data=True)
    st.html(FLUSH_ON_ADD, unsafe_allow_javascript=True)
    # Never disabled: a click made while the first stroke is on its way must not be silently ignored.
    if st.button(f"➕ Add this drawing to **{plain(cls)}**", key="ds_add_drawing", type="primary"):
        if canvas.image_data is None or not canvas.image_data[..., :3].any():
            st.warning("The canvas is empty: draw on the black square first, then press Add.")
            return
        try:
            owndata.add_drawing(ds.name, cls, canvas.image_data, by=who)
            n = owndata.open_dataset(ds.name).counts[cls]
        except preprocess.EmptyInput as hint:
            st.warning(str(hint))
        except ValueError as err:
            st.error(plain(str(err)))
        else:
            flash(f"Added to {plain(cls)} ({n} example{'s' * (n != 1)}): draw the next one.")
            _fresh_inputs()
            st.rerun()


def upload_section(ds: owndata.OwnDataset, cls: str, who: owndata.Editor) -> None:
    """Several pictures at once, each prepared like an upload on the Draw page."""
    files = st.file_uploader(f"Pictures of **{plain(cls)}**: photos or scans, prepared like the Draw page's uploads",
                             type=["png", "jpg", "jpeg", "webp", "bmp"], accept_multiple_files=True,
                             key=f"ds_upload_{st.session_state.get('ds_round', 0)}")
    if files and st.button(f"➕ Add {len(files)} picture(s) to **{plain(cls)}**", key="ds_add_files"):
        saved, refused = owndata.add_pictures(ds.name, cls, [(f.name, f.getvalue()) for f in files], by=who)
        flash(f"Added {len(saved)} picture(s) to {plain(cls)}." +
              ("".join(f"\n- {plain(r)}" for r in refused) if refused else ""), "warning" if refused else "success")
        _fresh_inputs()
        st.rerun()


def manage_section(ds: owndata.OwnDataset, who: owndata.Editor) -> None:
    """Add a class; delete the whole dataset (after a confirmation)."""
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    new = c1.text_input("New class", key="ds_new_class", placeholder="e.g. star",
                        disabled=len(ds.classes) >= owndata.MAX_CLASSES)
    if c2.button("Add class", key="ds_add_class", disabled=not new):
        try:
            owndata.add_class(ds.name, new, by=who)
        except (ValueError, OSError) as err:
            st.error(plain(str(err)))
        else:
            st.session_state["ds_class_next"] = owndata.check_name(new)
            st.rerun()
    sure = st.checkbox(f"Yes, delete **{plain(ds.name)}** and its {sum(ds.counts.values())} examples",
                       key="ds_sure")
    if st.button("🗑 Delete this dataset", key="ds_delete", disabled=not sure):
        try:
            owndata.delete_dataset(ds.name, by=who)
        except ValueError as err:  # e.g. a permission: said, the dataset is still whole
            st.error(plain(str(err)))
            return
        st.session_state.pop("ds_pick", None)
        flash(f"Deleted {plain(ds.name)}.", "info")
        st.rerun()


def grid(ds: owndata.OwnDataset, who: owndata.Editor | None, cols: int = COLS) -> None:
    """Each class as a grid of its examples (28x28 shown at 56 px); for `who` (None: read-only) a 🗑 under each."""
    deleting = who is not None and st.toggle("🗑 Delete examples", key="ds_delete_mode",
                                            help="Shows a delete button under every example")
    for cls, files in zip(ds.classes, ds.files):
        short = max(0, owndata.MIN_EXAMPLES - len(files))
        st.markdown(f"**{plain(cls)}** · {len(files)} example{'s' * (len(files) != 1)}" +
                    (f" · :orange[{short} more needed to train]" if short else ""))
        pictures = []
        for path in files:
            try:
                pictures.append(ownsplits.read_pixels(path))
            except ValueError as err:  # a damaged file someone put there: said, not fatal
                st.caption(plain(str(err)))
        if not deleting:
            if pictures:
                st.image(pictures, width=44, clamp=True)  # one element: the pictures flow and wrap
            continue
        for start in range(0, len(files), cols):
            for col, path in zip(st.columns(cols), files[start:start + cols]):
                if col.button("🗑", key=f"ds_del_{cls}_{path.name}", help="Delete this example"):
                    try:
                        owndata.delete_example(ds.name, cls, path.name, by=who)
                    except ValueError as err:  # deleted meanwhile (another tab)
                        flash(plain(str(err)), "warning")
                    st.rerun()
                try:
                    col.image(ownsplits.read_pixels(path), width=56, clamp=True)
                except ValueError:
                    col.caption("unreadable")
