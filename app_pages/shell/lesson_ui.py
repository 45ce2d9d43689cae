"""The lesson stepper in the sidebar (not a page): pick a lesson, Back / Next, the question, then the answer.

A step puts its state into the page's widgets (ui.apply) and opens the page; `?lesson=NAME&step=N` in a link
does the same, on whatever page the link names. A malformed lesson is a message naming its file and bad field.
"""
import streamlit as st

from app_pages.shell import ui
from cnnviz import checkpoints, lessons, pagestate
from cnnviz.text import plain

FILES = {page: f"app_pages/{page}.py" for page in pagestate.PAGES}
NONE = "(none)"
LESSON, STEP, SEEN, SHOWN, GO = "_lesson_lesson", "_lesson_step", "_lesson_seen", "_lesson_revealed", "_lesson_go"
NOTE = "_lesson_note"  # a link's bad step, said on the page the lesson opens (the link may switch pages first)


def _load(name: str) -> lessons.Lesson | None:
    try:
        return lessons.load(name, models=checkpoints.available())
    except lessons.LessonError as err:
        st.error(plain(err))  # the name may come from a link: text, never Markdown
        return None


def _open(lesson: lessons.Lesson, n: int, current: str) -> None:
    """Show step n (1-based): its state into the page, then the page itself (a rerun when it is another one)."""
    n = min(max(n, 1), len(lesson.steps))
    step = lesson.steps[n - 1]
    ui.apply(pagestate.schema(step.page, checkpoints.available()), step.state)
    st.session_state.update({LESSON: lesson.name, STEP: n, SEEN: (lesson.name, str(n)), SHOWN: False,
                             "lesson_pick": lesson.name})
    st.query_params.update(lesson=lesson.name, step=str(n))  # now, so a rerun does not read the old step
    if step.page != current:
        st.switch_page(FILES[step.page])


def _from_link(current: str) -> None:
    """?lesson=NAME&step=N: open that step once per new link (our own echo in the URL is not a new link)."""
    name, step = st.query_params.get("lesson"), st.query_params.get("step", "1")
    if not name or (name, step) == st.session_state.get(SEEN):
        return
    st.session_state[SEEN] = (name, step)
    if (lesson := _load(name)) is not None:
        n, st.session_state[NOTE] = lessons.step_number(step, len(lesson.steps))
        _open(lesson, n, current)


def _picked() -> None:
    picked = st.session_state["lesson_pick"]
    st.session_state[LESSON], st.session_state[STEP] = (None, None) if picked == NONE else (picked, None)
    st.session_state[GO] = None if picked == NONE else 1
    st.session_state[SEEN] = (picked, "1")  # the URL's echo of this pick (no step yet) is not a new link
    if picked == NONE:
        st.query_params.pop("lesson", None)
        st.query_params.pop("step", None)


def _go(n: int) -> None:
    st.session_state[GO] = n  # Back / Next: opened at the top of the next run, before any widget is drawn


def stepper(current: str) -> None:
    """The sidebar's lesson section; `current` is the page now shown (its pagestate name)."""
    _from_link(current)
    target = st.session_state.pop(GO, None)
    name = st.session_state.get(LESSON)
    lesson = _load(name) if name else None  # once a run: a malformed file is one message, not one per use
    if target is not None and lesson is not None:
        _open(lesson, target, current)
    st.subheader("📚 Lesson")
    if note := st.session_state.pop(NOTE, None):
        st.warning(plain(note), icon="🔗")
    st.selectbox("Lesson", [NONE] + lessons.available(), key="lesson_pick", on_change=_picked,
                 label_visibility="collapsed")
    if lesson is None:
        return
    n = st.session_state.get(STEP)
    if n is None:  # its file could not be read when it was picked
        return
    total = len(lesson.steps)
    step = lesson.steps[n - 1]
    back, ahead = st.columns(2)
    back.button("◀ Back", key="lesson_back", disabled=n <= 1, width="stretch", on_click=_go, args=(n - 1,))
    ahead.button("Next ▶", key="lesson_next", disabled=n >= total, width="stretch", on_click=_go, args=(n + 1,))
    st.markdown(f"**Step {n} of {total}** · {plain(lesson.title)}")  # a lesson file's text is shown as typed
    st.info(plain(step.question), icon="❓")
    if st.session_state.get(SHOWN):
        st.success(plain(step.answer), icon="💡")
    else:
        st.button("Reveal the answer", key="lesson_reveal", width="stretch",
                  on_click=lambda: st.session_state.update({SHOWN: True}))
