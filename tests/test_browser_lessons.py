"""Browser, 1280x720 (a projector): a lesson step asks on the page, large, and hides what answers it until Reveal
(the shipped lesson, a teacher's own in $CNNVIZ_LESSONS, a training run's result); the builder makes a two-step lesson,
downloads it, saves it into the lessons folder (the teacher's browser),
and it opens as a link in another browser. docs/lesson_predict.jpg and docs/lesson_reveal.jpg are this test's
screenshots (test-artifacts/)."""
import shutil

import pytest
from conftest import ROOT, serve, wait_idle
from playwright.sync_api import expect

from cnnviz import lessons

pytestmark = pytest.mark.browser
W, H = 1280, 720
MINE = """title = "Edges, my way"
[[steps]]
page = "playground"
state = { src = "Pattern", pattern = "vertical edge", kernel = "sobel_x", pool = "max" }
hide = ["output", "pooled"]
question = "Which way does this kernel find edges: up-down or left-right?"
answer = "Left-right: Sobel x answers where the picture changes from left to right, so a vertical edge lights up."
"""


TRAIN = """title = "A short run"
[[steps]]
page = "trainer"
state = { net = "logistic", data = "mnist", opt = "sgd", lr = 0.1, batch = 128, epochs = 1, seed = 0, cap = 20 }
question = "Twenty batches of a plain logistic regression: above or below 80%?"
answer = "Above, usually: even one layer learns most digits from a few thousand examples."
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The teacher's own lessons folder ($CNNVIZ_LESSONS): the shipped lesson and one of theirs."""
    where = tmp_path_factory.mktemp("lessons")
    shutil.copy(ROOT / "lessons" / "cnn_tutorial.toml", where)
    (where / "mine.toml").write_text(MINE)
    (where / "train.toml").write_text(TRAIN)
    return where


@pytest.fixture(scope="module")
def url(tmp_path_factory, folder, user_data):
    env = {"CNNVIZ_LESSONS": str(folder), "CNNVIZ_USER_CHECKPOINTS": str(tmp_path_factory.mktemp("ckpt")),
           "CNNVIZ_USER_DATA": str(user_data)}
    with serve(tmp_path_factory.mktemp("server"), env) as address:
        yield address


def _question_px(pg) -> float:
    """The computed font size of the step's question, which must stand in the main area."""
    question = pg.locator("[data-testid='stMain'] .st-key-lesson_question p").first
    expect(question).to_be_visible()
    return float(question.evaluate("e => getComputedStyle(e).fontSize")[:-2])


def _body_px(pg) -> float:
    caption = pg.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first
    return float(caption.evaluate("e => getComputedStyle(e).fontSize")[:-2])


def _hidden(pg) -> int:
    return pg.get_by_text("Predict first, then press Reveal").count()


def _reveal(pg) -> None:
    pg.get_by_role("button", name="Reveal the answer").click()
    wait_idle(pg)


def test_a_step_asks_on_the_page_and_hides_its_answer_until_reveal(projector, url, artifacts):
    projector.goto(f"{url}/?lesson=cnn_tutorial&step=1&present=1")
    wait_idle(projector)
    assert _question_px(projector) >= 20 and _question_px(projector) > _body_px(projector)  # it stands out
    main = projector.locator("[data-testid='stMain']")
    expect(main.get_by_text("Step 1 of 9")).to_be_visible()
    assert _hidden(projector) == 2
    assert main.get_by_text("Output size O").count() == 0 and main.locator(".katex").count() == 0
    assert projector.locator("[data-testid='stSidebar'] .st-key-lesson_question").count() == 0
    _reveal(projector)
    expect(main.get_by_text("Output size O")).to_be_visible()
    expect(main.locator(".katex").first).to_be_visible()  # the formula renders a moment after the rerun
    assert _hidden(projector) == 0
    answer = main.locator("[data-testid='stAlertContentSuccess']")
    expect(answer).to_contain_text("each side loses K - 1 = 4 pixels.")  # in full, its last words too
    box = answer.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= H, box  # on the 720 px screen, not cut off
    assert projector.locator("[data-testid='stException']").count() == 0

    projector.goto(f"{url}/playground?lesson=cnn_tutorial&step=4&present=1")  # the README's two pictures
    wait_idle(projector)
    assert _hidden(projector) == 2
    projector.screenshot(path=str(artifacts / "lesson_predict.jpg"), type="jpeg", quality=80)
    _reveal(projector)
    assert _hidden(projector) == 0
    projector.screenshot(path=str(artifacts / "lesson_reveal.jpg"), type="jpeg", quality=80)

    projector.goto(f"{url}/?lesson=cnn_tutorial&step=2&present=0")  # out of presenter mode: still >= 16 px
    wait_idle(projector)
    assert _question_px(projector) >= 16 and _hidden(projector) == 2


def test_a_teachers_own_lesson_hides_what_it_names(projector, url):
    projector.goto(f"{url}/playground?lesson=mine&present=1")
    wait_idle(projector)
    assert _question_px(projector) >= 20
    plots = projector.locator(".js-plotly-plot")
    assert _hidden(projector) == 2 and projector.get_by_text("Convolution output").count() == 0
    before = plots.count()
    _reveal(projector)
    assert _hidden(projector) == 0 and plots.count() == before + 2  # the output and the pooled picture
    expect(projector.locator("[data-testid='stMain'] [data-testid='stAlertContentSuccess']")).to_contain_text(
        "a vertical edge lights up")


def _add_step(pg, question: str, answer: str) -> None:
    side = pg.locator("[data-testid='stSidebar']")
    side.get_by_label("Question (the class predicts)").fill(question)
    side.get_by_label("Answer (shown on Reveal)").fill(answer)
    side.get_by_label("Answer (shown on Reveal)").press("Control+Enter")
    wait_idle(pg)
    side.get_by_role("button", name="Add this view as a step").click()
    wait_idle(pg)
    expect(side.get_by_text("saved.")).to_be_visible()


def test_the_builder_makes_a_two_step_lesson_that_opens_as_a_link(projector, browser, url, folder, tmp_path):
    projector.goto(f"{url}/?w=28&k=3&p=1")
    wait_idle(projector)
    side = projector.locator("[data-testid='stSidebar']")
    side.get_by_text("Build a lesson").click()
    wait_idle(projector)
    side.get_by_label("Lesson title").fill("Sizes and edges")
    side.get_by_label("Lesson title").press("Enter")
    wait_idle(projector)
    _add_step(projector, "A 3x3 kernel, padding 1: how big is the output?", "28 x 28: the same size.")
    side.get_by_role("link", name="Convolution playground").click()
    wait_idle(projector)
    _add_step(projector, "What will this edge kernel's output look like?", "White where flat, colour on edges.")
    with projector.expect_download() as got:
        side.get_by_role("button", name="Download lesson").click()
    saved = tmp_path / got.value.suggested_filename
    got.value.save_as(saved)
    assert saved.name == "sizes-and-edges.toml"
    lesson = lessons.parse(saved.read_text(), saved.name)
    assert [s.page for s in lesson.steps] == ["dimensions", "playground"]
    assert (lesson.steps[0].state["k"], lesson.steps[0].state["p"]) == (3, 1)

    side.get_by_role("button", name="Save into the lessons folder").click()  # this browser is the teacher's
    wait_idle(projector)
    expect(side.get_by_text("Saved as sizes-and-edges")).to_be_visible()
    assert (folder / "sizes-and-edges.toml").read_text() == saved.read_text()  # the same file as the download
    other = browser.new_context(viewport={"width": W, "height": H})  # ...and a student opens the link
    try:
        pg = other.new_page()
        pg.goto(f"{url}/?lesson=sizes-and-edges&step=2")
        wait_idle(pg)
        expect(pg.get_by_text("Step 2 of 2")).to_be_visible()
        expect(pg.get_by_text("What will this edge kernel's output look like?")).to_be_visible()
        assert pg.url.split("?")[0].endswith("/playground") and _hidden(pg) >= 1
        pg.get_by_role("button", name="◀ Back").click()
        wait_idle(pg)
        expect(pg.get_by_text("A 3x3 kernel, padding 1: how big is the output?")).to_be_visible()
        assert pg.get_by_role("spinbutton", name="Kernel K").input_value() == "3"
        assert pg.locator("[data-testid='stException']").count() == 0
    finally:
        other.close()


def test_an_uploaded_lesson_is_checked_and_a_bad_one_is_one_message(projector, url, tmp_path):
    projector.goto(url)
    wait_idle(projector)
    side = projector.locator("[data-testid='stSidebar']")
    side.get_by_text("Build a lesson").click()
    wait_idle(projector)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 40_000 + "]" * 40_000)
    side.locator("input[type=file]").set_input_files(str(deep))
    wait_idle(projector)
    expect(side.get_by_text("deep.json: nested 40,000 levels deep, more than 16")).to_be_visible()
    odd = tmp_path / "odd.toml"
    odd.write_text('title = "<b>bold</b>"\n[[steps]]\npage = "draw"\nquestion = "<img src=x onerror=alert(1)>?"\n'
                   'answer = "a"\n')
    side.locator("input[type=file]").set_input_files(str(odd))
    wait_idle(projector)
    expect(projector.locator(".st-key-lesson_bar").get_by_text("<img src=x onerror=alert(1)>?")).to_be_visible()
    # shown as typed, inert (the question in the lesson bar; the builder's step list shows it as typed too)
    assert projector.locator("[data-testid='stMain'] img[src=x]").count() == 0
    # the link follows the page's last rerun (the window-width reporter's may come after the script went idle)
    projector.wait_for_url(lambda u: "lesson=odd" in u, timeout=30_000)
    assert projector.locator("[data-testid='stException']").count() == 0


def test_a_trainer_step_hides_the_runs_result_until_reveal(projector, url):
    projector.goto(f"{url}/trainer?lesson=train")
    wait_idle(projector)
    assert _hidden(projector) == 0  # nothing to hide before a run
    projector.get_by_role("button", name="Start training").click()
    expect(projector.get_by_text("Predict first, then press Reveal")).to_be_visible(timeout=120_000)  # it ended
    assert projector.get_by_text("How well did it learn?").count() == 0
    assert projector.get_by_text("Test accuracy").count() == 0
    _reveal(projector)
    expect(projector.get_by_text("How well did it learn?")).to_be_visible()
    assert _hidden(projector) == 0 and projector.locator("[data-testid='stException']").count() == 0
