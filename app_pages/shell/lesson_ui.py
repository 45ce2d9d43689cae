"""Lessons on the page (not a page): the sidebar's lesson picker, and the step's bar at the top of the main area:
the question, large, with Back / Next / "Step 3 of 7", then *Reveal* and the answer in full.

A step puts its state into the page's widgets (ui.apply) and opens the page; `?lesson=NAME&step=N` in a link
does the same, on whatever page the link names. Until *Reveal*, the page's parts the step hides (cnnviz.reveal)
are drawn as a placeholder (ui.answer); changing a widget reveals nothing. A malformed lesson is one message
naming its file and bad field. The lessons this session uploaded or built (lesson_builder.py) are its own.
"""
from dataclasses import replace

import streamlit as st

from app_pages.shell import ui
from cnnviz import checkpoints, lessons, pagestate, reveal
from cnnviz.text import plain

FILES = {page: f"app_pages/{page}.py" for page in pagestate.PAGES}
NONE = "(none)"
LESSON, STEP, SEEN, SHOWN, GO = "_lesson_lesson", "_lesson_step", "_lesson_seen", "_lesson_revealed", "_lesson_go"
NOTE = "_lesson_note"  # a link's bad step, said on the page the lesson opens (the link may switch pages first)
PICK = "lesson_pick"  # the sidebar's lesson picker (app.py resends it after a cut-short run: rerun_guard.py)
MINE = "_lesson_mine"  # name -> Lesson: this session's uploaded and built lessons (never another session's)
CSS = """<style>
.stApp .st-key-lesson_question p {font-size: %s !important; font-weight: 600; line-height: 1.3; margin: 0}
.st-key-lesson_bar [data-testid='stAlertContainer'] p {white-space: normal}
</style>"""


def mine() -> dict[str, lessons.Lesson]:
    """This session's own lessons (uploaded or built), by name."""
    return st.session_state.setdefault(MINE, {})


def _load(name: str) -> lessons.Lesson | None:
    if name in mine():
        return mine()[name]
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
                             PICK: lesson.name})
    st.query_params.update(lesson=lesson.name, step=str(n))  # now, so a rerun does not read the old step
    if step.page != current:
        st.switch_page(FILES[step.page])


def start(lesson: lessons.Lesson) -> None:
    """Open `lesson` (one of this session's) at step 1 on the next run; its name never hides a folder's lesson."""
    if lesson.name in lessons.available():
        lesson = replace(lesson, name=f"{lesson.name}-yours")
    mine()[lesson.name] = lesson
    st.session_state.update({LESSON: lesson.name, STEP: None, GO: 1, SEEN: (lesson.name, "1")})


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
    picked = st.session_state[PICK]
    st.session_state[LESSON], st.session_state[STEP] = (None, None) if picked == NONE else (picked, None)
    st.session_state[GO] = None if picked == NONE else 1
    st.session_state[SEEN] = (picked, "1")  # the URL's echo of this pick (no step yet) is not a new link
    if picked == NONE:
        st.query_params.pop("lesson", None)
        st.query_params.pop("step", None)


def _go(n: int) -> None:
    st.session_state[GO] = n  # Back / Next: opened at the top of the next run, before any widget is drawn


def _current() -> tuple[lessons.Lesson | None, int | None]:
    name, n = st.session_state.get(LESSON), st.session_state.get(STEP)
    return (_load(name) if name else None), n  # once a run: a malformed file is one message, not one per use


def stepper(current: str) -> tuple[lessons.Lesson | None, int | None]:
    """The sidebar's lesson picker; `current` is the page now shown (its pagestate name). Returns the lesson and
    step to show in the main area (lesson_ui.bar), and sets which of this page's parts are hidden."""
    _from_link(current)
    target = st.session_state.pop(GO, None)
    lesson, n = _current()
    if target is not None and lesson is not None:
        _open(lesson, target, current)
        n = st.session_state.get(STEP)
    st.subheader("📚 Lesson")
    if note := st.session_state.pop(NOTE, None):
        st.warning(plain(note), icon="🔗")
    own = [name for name in mine() if name not in lessons.available()]
    st.selectbox("Lesson", [NONE] + lessons.available() + own, key=PICK, on_change=_picked,
                 label_visibility="collapsed", format_func=lambda x: f"{x} (yours)" if x in own else x)
    step = lesson.steps[n - 1] if lesson is not None and n is not None else None
    hidden = reveal.hidden(current, step.page if step else None, step.hide if step else (),
                           bool(st.session_state.get(SHOWN)))
    st.session_state[ui.HIDDEN] = {part: reveal.placeholder(current, part) for part in hidden}
    return (lesson, n) if step is not None else (None, None)


def bar(lesson: lessons.Lesson | None, n: int | None) -> None:
    """The step at the top of the main area: the question (large), Back / Next / Step n of N, Reveal, the answer."""
    if lesson is None or n is None:
        return
    st.html(CSS % ("28px" if ui.presenting() else "20px"))  # above presenter mode's 20 px body text
    total, step = len(lesson.steps), lesson.steps[n - 1]
    with st.container(key="lesson_bar", border=True):
        ask, back, where, ahead = st.columns([7, 1.3, 1.5, 1.3], vertical_alignment="center")
        with ask.container(key="lesson_question"):
            st.markdown(f"❓ {plain(step.question)}")  # a lesson file's text is shown as typed
        back.button("◀ Back", key="lesson_back", disabled=n <= 1, width="stretch", on_click=_go, args=(n - 1,))
        where.markdown(f"**Step {n} of {total}**", help=plain(lesson.title))
        ahead.button("Next ▶", key="lesson_next", disabled=n >= total, width="stretch", on_click=_go,
                     args=(n + 1,))
        if st.session_state.get(SHOWN):
            st.success(plain(step.answer), icon="💡")
        else:
            st.button("💡 Reveal the answer", key="lesson_reveal", type="primary",
                      on_click=lambda: st.session_state.update({SHOWN: True}))
