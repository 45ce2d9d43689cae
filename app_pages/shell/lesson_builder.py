"""The lesson builder in the sidebar (not a page): a teacher writes a lesson without editing TOML.

"🛠️ Build a lesson" opens it: on any lesson page, *➕ Add this view as a step* captures the page and its state
(the names of its link, ui.params), with a question, an answer and the parts to hide until Reveal; steps move,
change and go; *Download lesson* gives the .toml; a .toml / .json upload is checked like the files in lessons/.
What is built or uploaded is this session's own (lesson_ui.mine); the machine's owner (who.editor().teacher)
may also save it into the lessons folder. The logic is cnnviz.lessonbuild; this file only lays it out.
"""
import streamlit as st

from app_pages.shell import lesson_ui, ui
from app_pages.shell.who import editor
from cnnviz import checkpoints, lessonbuild, lessons, pagestate, reveal
from cnnviz.text import plain

DRAFT, EDITING, SAID, ROUND, TITLE = "_lb_draft", "_lb_editing", "_lb_said", "_lb_round", "_lb_next_title"


def _draft() -> lessonbuild.Draft:
    return st.session_state.setdefault(DRAFT, lessonbuild.Draft())


def _say(kind: str, text: str) -> None:
    st.session_state[SAID] = (kind, text)  # from a callback: shown once, on the run it starts


def _form_page(current: str) -> str:
    editing = st.session_state.get(EDITING)
    return _draft().steps[editing].page if editing is not None else current


def _save_form(current: str) -> None:
    """*Add this view as a step* (or *Save the step* while one is being edited)."""
    s, draft, editing = st.session_state, _draft(), st.session_state.get(EDITING)
    page, models = _form_page(current), checkpoints.available()
    try:
        if editing is None:
            values = ui.params(pagestate.schema(page, models))
            values = {k: v for k, v in values.items() if k not in ui.APP_PARAMS}
            step = lessonbuild.capture(page, values, s.lb_q, s.lb_a, s[f"lb_hide_{page}"], models)
            s[DRAFT] = lessonbuild.add(draft, step)
        else:
            s[DRAFT] = lessonbuild.edit(draft, editing, s.lb_q, s.lb_a, s[f"lb_hide_{page}"], models)
    except lessons.LessonError as err:
        return _say("error", str(err).replace("this view: step 1", "This step"))
    s.lb_q = s.lb_a = ""
    s[EDITING] = None
    _say("success", f"Step {editing + 1 if editing is not None else len(s[DRAFT].steps)} saved.")


def _start_edit(i: int) -> None:
    step = _draft().steps[i]
    st.session_state.update({EDITING: i, "lb_q": step.question, "lb_a": step.answer,
                             f"lb_hide_{step.page}": list(step.hide)})


def _change(how, *args) -> None:
    st.session_state[DRAFT] = how(_draft(), *args)
    st.session_state[EDITING] = None


def _try_it() -> None:
    draft = _draft()
    name = f"{lessonbuild.slug(draft.title)}-draft"
    lesson_ui.start(lessons.Lesson(name, draft.title.strip() or "My lesson", draft.steps))


def _uploaded(file) -> None:
    """A lesson file from the teacher's computer: checked, then this session's own lesson, opened at step 1."""
    try:
        lesson = lessonbuild.read_upload(file.getvalue(), file.name, checkpoints.available())
    except lessons.LessonError as err:
        return st.error(plain(err))  # one message, while the file stays in the field (the next one replaces it)
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1  # read: a fresh field, the file leaves memory
    if not _draft().steps:  # to edit it further (its title goes into the field on the next run, before it is drawn)
        st.session_state.update({DRAFT: lessonbuild.as_draft(lesson), TITLE: lesson.title})
    lesson_ui.start(lesson)
    st.rerun()


def _step_row(i: int, step: lessons.Step, total: int) -> None:
    st.markdown(f"**{i + 1}.** *{step.page}*: {plain(step.question[:80])}")
    c = st.columns(4)
    c[0].button("⬆", key=f"lb_up_{i}", disabled=i == 0, on_click=_change, args=(lessonbuild.move, i, -1),
                help="Move up")
    c[1].button("⬇", key=f"lb_down_{i}", disabled=i == total - 1, on_click=_change,
                args=(lessonbuild.move, i, 1), help="Move down")
    c[2].button("✏️", key=f"lb_edit_{i}", on_click=_start_edit, args=(i,), help="Edit its question and answer")
    c[3].button("🗑", key=f"lb_del_{i}", on_click=_change, args=(lessonbuild.delete, i), help="Delete")


def _form(current: str) -> None:
    page, editing = _form_page(current), st.session_state.get(EDITING)
    if page not in pagestate.PAGES:
        st.caption("This page cannot be a lesson step: open one of the other pages.")
        return
    st.text_area("Question (the class predicts)", key="lb_q", max_chars=lessonbuild.MAX_QUESTION)
    st.text_area("Answer (shown on Reveal)", key="lb_a", max_chars=lessonbuild.MAX_ANSWER)
    if f"lb_hide_{page}" not in st.session_state:
        st.session_state[f"lb_hide_{page}"] = list(reveal.DEFAULT[page])
    st.multiselect("Hidden until Reveal", reveal.parts(page), key=f"lb_hide_{page}",
                   format_func=lambda part: reveal.PARTS[page][part])
    label = f"💾 Save step {editing + 1}" if editing is not None else "➕ Add this view as a step"
    st.button(label, key="lb_add", type="primary", width="stretch", on_click=_save_form, args=(current,))
    if editing is not None:
        st.button("Cancel", key="lb_cancel", on_click=lambda: st.session_state.update({EDITING: None}))


def _files(draft: lessonbuild.Draft) -> None:
    name = lessonbuild.slug(draft.title)
    st.download_button("⬇️ Download lesson", lessonbuild.to_toml(draft), file_name=f"{name}.toml",
                       mime="application/toml", key="lb_download", disabled=not draft.steps, width="stretch")
    st.button("▶ Try it", key="lb_try", disabled=not draft.steps, on_click=_try_it, width="stretch")
    if editor().teacher and draft.steps and st.button("💾 Save into the lessons folder", key="lb_save"):
        try:
            path = lessonbuild.save(draft, lessons.home(), checkpoints.available())
        except lessons.LessonError as err:
            st.error(plain(err))
        else:
            st.success(f"Saved as {plain(path.stem)}: open it with ?lesson={plain(path.stem)}")
    file = st.file_uploader("Upload a lesson (.toml or .json)", type=["toml", "json"],
                            key=f"lb_upload_{st.session_state.get(ROUND, 0)}")
    if file is not None:
        _uploaded(file)


def sidebar(current: str) -> None:
    """The builder, under the lesson picker: off until the teacher turns it on."""
    if not st.toggle("🛠️ Build a lesson", key="lesson_build"):
        return
    if said := st.session_state.pop(SAID, None):
        (st.error if said[0] == "error" else st.success)(plain(said[1]))
    if (title := st.session_state.pop(TITLE, None)) is not None:
        st.session_state["lb_title"] = title
    st.session_state.setdefault("lb_title", _draft().title)
    title = st.text_input("Lesson title", key="lb_title", max_chars=120)
    draft = st.session_state[DRAFT] = lessonbuild.Draft(title, _draft().steps)
    _form(current)
    for i, step in enumerate(draft.steps):
        _step_row(i, step, len(draft.steps))
    _files(draft)
