"""cnnviz: learn convolutional neural networks by touching them. Run: streamlit run app.py

The pages live in app_pages/, not pages/: Streamlit 1.67 treats a folder named pages/ beside the
entry script as the old multipage layout and runs a deep link such as /draw without this file
(no wide layout, no sidebar, file names in the menu) until / has been opened once.
"""
import os

# Before anything loads torch: OpenMP threads sleep instead of spin-waiting between parallel regions. On a
# shared 2-core machine (browser + server + training) spinning cost ~10x (bench/train_threads.py: 128-213 img/s
# with torch's default vs 1,300-3,000 with PASSIVE). setdefault: an explicit setting still wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st  # noqa: E402

from app_pages.shell import rerun_guard, server_guards  # noqa: E402

rerun_guard.begin()  # did the last full run finish? (if not, the widgets' values are sent again: rerun_guard.py)
server_guards.install()  # first, before the slow imports: once per process, uploads and details for locked sessions

from app_pages.parts import runqueue  # noqa: E402
from app_pages.shell import gate, handoff, housekeeping, lesson_builder, lesson_ui, screen, ui  # noqa: E402
from cnnviz import access, checkpoints, pagestate  # noqa: E402
from cnnviz.device import describe, pick_device  # noqa: E402
from cnnviz.text import plain  # noqa: E402
from cnnviz.warmup import freeze_imports_soon  # noqa: E402


def active_model() -> str:
    """The sidebar's line: the model *Draw a digit* uses (the page and this line resolve it the same way)."""
    name = pagestate.active_model(handoff.active_model_choice(), checkpoints.available())
    return f"Active model: **{plain(name)}**" if name else "Active model: none yet (*Train a CNN*)"


housekeeping.start()  # once per process: a closed tab's uploads leave memory when its session ends

ui.start_presenter_from_url()
# Presenter mode starts with the sidebar folded: the projector's 1280 px go to the page (the » opens it).
st.set_page_config(page_title="cnnviz: CNNs you can touch", page_icon="🧠", layout="wide",
                   initial_sidebar_state="collapsed" if ui.presenting() else "auto")

pages = [
    st.Page("app_pages/dimensions.py", title="Dimension calculator", icon="📐", default=True),
    st.Page("app_pages/playground.py", title="Convolution playground", icon="🔍"),
    st.Page("app_pages/trainer.py", title="Train a CNN", icon="🏋️"),
    st.Page("app_pages/draw.py", title="Draw a digit", icon="✏️"),
    st.Page("app_pages/learn.py", title="How it learns", icon="📉"),
    st.Page("app_pages/dataset.py", title="Make a dataset", icon="🗂️"),
    st.Page("app_pages/classroom.py", title="Class", icon="🏫", url_path="class"),
]
nav = st.navigation(pages, position="hidden" if gate.locked() else "sidebar")  # a deep link survives the gate
gate.require_class_code()  # only when the teacher set $CNNVIZ_CLASS_CODE (docs/classroom-server.md)
ui.style()
screen.measure()  # the window's width, for the narrow (phone, tablet) layouts

# After a run that was cut short, this page's widgets and the lesson picker get their values again (rerun_guard.py)
rerun_guard.resend(pagestate.widget_keys(nav.url_path) + [lesson_ui.PICK])
with st.sidebar:
    st.toggle("🎓 Presenter mode", key=ui.PRESENT, help="Big text for a projector; advanced controls hidden. "
              "Also ?present=1 in the link.")
    st.caption(f"Computing on: **{describe(pick_device())}**")
    st.caption(f"🌐 {access.who_can_reach(st.get_option('server.address'), access.class_code() is not None)}")
    model_line = st.empty()
    model_line.caption(active_model())
    step = lesson_ui.stepper(nav.url_path or "dimensions")
    lesson_builder.sidebar(nav.url_path or "dimensions")

lesson_ui.bar(*step)  # the question at the top of the page, Back / Next, Reveal
nav.run()
model_line.caption(active_model())  # again: the page (a link, a lesson step, the Model box) may have changed it
# Once the first page is out (a cold start shows it sooner): Streamlit's gc after every rerun then skips
# torch/plotly (~200 ms -> us), and a training process waits with torch imported (Start: ~1 s to the first batch).
freeze_imports_soon()
runqueue.warm()
rerun_guard.end()
