"""Make a dataset: name a few classes, draw or upload examples, share it as a .zip, train a CNN on it."""
from pathlib import Path

import streamlit as st

from app_pages.parts import dataset_parts as parts
from app_pages.shell import handoff, words
from app_pages.shell.who import editor
from cnnviz import owndata, ownzip
from cnnviz.text import plain

NEW = "➕ New dataset…"
st.title("🗂️ Make a dataset")
words.caption("Teach a CNN your own classes: name 2 to 10 (circle / triangle / square, or a / b / c), draw or "
              f"upload at least {owndata.MIN_EXAMPLES} examples of each (about 20 work well), then train on it. "
              "Everything is kept as plain 28×28 PNG files, one folder per class.")
parts.show_flash()
who = editor()


def pick() -> str:
    """The dataset picker; NEW when the visitor wants to start one."""
    names = owndata.available()
    if (chosen := handoff.take_selected_dataset()) is not None:  # just created, copied or imported
        st.session_state["ds_pick"] = chosen
    if st.session_state.get("ds_pick") not in [NEW, *names]:
        st.session_state["ds_pick"] = names[0] if names else NEW
    return st.selectbox("Dataset", [NEW, *names], key="ds_pick",
                        format_func=lambda n: n if n == NEW else owndata.label(n, who))


def create_form() -> None:
    c1, c2 = st.columns([1, 2])
    name = c1.text_input("Dataset name", key="ds_new_name", placeholder="e.g. shapes")
    classes = c2.text_input("Class names, separated by commas", key="ds_new_classes",
                            placeholder="e.g. circle, triangle, square")
    if st.button("Create the dataset", key="ds_create", type="primary"):
        try:
            ds = owndata.create(name, [c for c in classes.split(",")] if classes.strip() else [], by=who)
        except (ValueError, OSError) as err:
            st.error(plain(str(err)))
        else:
            handoff.select_dataset(ds.name)
            parts.flash(f"Created {plain(ds.name)}: now draw a few examples of each class.")
            st.rerun()


def import_zip() -> None:
    """A teacher's .zip, one folder per class (what 'Download as .zip' makes)."""
    file = st.file_uploader("Import a dataset (.zip with one folder per class)", type=["zip"],
                            key=f"ds_zip_{st.session_state.get('ds_round', 0)}")
    if file is not None and st.button("Import it", key="ds_import"):
        try:
            ds, notes = ownzip.import_zip(file.getvalue(), default_name=Path(file.name).stem, by=who)
        except ValueError as err:
            st.error(plain(str(err)))
            return
        handoff.select_dataset(ds.name)
        st.session_state["ds_round"] = st.session_state.get("ds_round", 0) + 1
        counts = ", ".join(f"{plain(c)} {n}" for c, n in ds.counts.items())
        parts.flash(f"Imported {plain(ds.name)}: {counts}." + "".join(f"\n- {plain(n)}" for n in notes),
                    "warning" if notes else "success")
        st.rerun()


def status(ds: owndata.OwnDataset) -> None:
    """Ready or not, the way to the trainer, the .zip to share."""
    c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="center")
    problems = ds.problems()
    if problems:
        c1.warning(plain(" ".join(problems)))
    else:
        c1.success(f"Ready to train: {sum(ds.counts.values())} examples in {len(ds.classes)} classes.")
    if c2.button("🏋️ Train on it", key="ds_train", disabled=bool(problems), width="stretch"):
        handoff.dataset_to_trainer(ds.key)
        st.switch_page("app_pages/trainer.py")
    c3.download_button("⬇ Download .zip", ownzip.to_zip(ds.name), f"{ds.name}.zip", "application/zip",
                       key="ds_download", width="stretch")


choice = pick()
with st.expander("Import a dataset a teacher shared (.zip)", expanded=choice == NEW):
    import_zip()
if choice == NEW:
    create_form()
    st.stop()
try:
    ds = owndata.open_dataset(choice)
except ValueError as err:  # deleted from another tab meanwhile
    st.error(plain(str(err)))
    st.stop()
status(ds)
mine = owndata.can_change(ds, who)
if not mine:
    st.info(f"**{plain(ds.name)}** {owndata.rights(ds, who)}")
    if st.button(f"📄 Make my copy of {plain(ds.name)}", key="ds_copy"):
        try:
            handoff.select_dataset(owndata.copy(ds.name, by=who).name)
        except ValueError as err:  # e.g. the disk is full: said, nothing half-made is left
            st.error(plain(str(err)))
        else:
            parts.flash("Your copy is ready: add or delete examples as you like.")
            st.rerun()
else:
    st.caption(f"**{plain(ds.name)}** {owndata.rights(ds, who)}")
    if (nxt := st.session_state.pop("ds_class_next", None)) in ds.classes:
        st.session_state["ds_class"] = nxt
    elif st.session_state.get("ds_class") not in ds.classes:  # another dataset was picked
        st.session_state.pop("ds_class", None)
    left, right = st.columns([2, 3])
    with left:
        cls = st.radio("Add examples of", ds.classes, horizontal=True, key="ds_class", format_func=plain)
        parts.draw_section(ds, cls, who)
    with right:  # the examples beside the canvas: the dataset grows while you draw
        with st.expander(f"Upload pictures of {plain(cls)} instead (several at once)"):
            parts.upload_section(ds, cls, who)
        with st.expander("Classes and the dataset"):
            parts.manage_section(ds, who)
        parts.grid(ds, who, cols=8)
if not mine:
    parts.grid(ds, None)
