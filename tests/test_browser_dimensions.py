"""Browser: the real app in Chromium; the calculator computes a preset's shapes on the page."""
import re

import pytest
from conftest import open_page, wait_idle

pytestmark = pytest.mark.browser


def test_a_deep_link_gets_the_whole_app_shell(browser, app_url):
    # a fresh tab opening /draw directly must still run app.py: titled menu, sidebar captions
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    open_page(page, app_url, "draw")
    sidebar = page.locator("[data-testid='stSidebar']").inner_text()
    assert "Dimension calculator" in sidebar and "Computing on" in sidebar, sidebar
    assert "app_pages" not in sidebar and "\napp\n" not in f"\n{sidebar}\n"
    context.close()


def test_calculator_preset_shapes_in_chromium(page, app_url, artifacts):
    open_page(page, app_url, "")  # the calculator is the default page, at /
    assert page.get_by_text("Dimension calculator").first.is_visible()
    page.get_by_role("tab", name="A whole network").click()
    # choose the keras_small preset in the selectbox
    page.get_by_role("combobox", name="Start from a preset").click()
    page.get_by_role("option", name="keras_small", exact=True).click()
    wait_idle(page)
    grid = page.locator("[data-testid='stDataFrame']").last
    grid.scroll_into_view_if_needed()
    text = page.locator("[data-testid='stMetric']").all_inner_texts()
    assert any("5,994" in t for t in text), text
    # the results grid is drawn on a canvas; the same shapes are in the text line and the figure's labels
    flow = page.locator("p", has_text="Shapes:").inner_text()
    assert ("input 1×28×28 → conv1 8×24×24 → pool1 8×12×12 → conv2 16×8×8 → pool2 16×4×4 → flatten 256 → fc1 10"
            in flow), flow
    labels = page.locator(".annotation-text").evaluate_all("els => els.map(e => e.textContent)")
    for label in ["conv18×24×24", "pool18×12×12", "conv216×8×8", "pool216×4×4", "flatten256", "fc110"]:
        assert label in labels, (label, labels)
    page.screenshot(path=str(artifacts / "calculator_keras_small.png"), full_page=True)


def test_single_layer_error_is_a_message_not_a_traceback(page, app_url, artifacts):
    open_page(page, app_url, "")  # the calculator is the default page, at /
    kernel = page.get_by_role("spinbutton", name="Kernel K")
    kernel.fill("9")
    kernel.press("Enter")
    wait_idle(page)
    alert = page.locator("[data-testid='stAlert']").filter(has_text="Impossible layer")
    assert "kernel 9 > input 5" in alert.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifacts / "calculator_impossible.png"))


def test_train_this_network_hands_the_network_to_the_trainer(page, app_url):
    open_page(page, app_url, "")
    page.get_by_role("tab", name="A whole network").click()
    page.get_by_role("combobox", name="Start from a preset").click()
    page.get_by_role("option", name="lenet5", exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name="Train this network").click()
    page.wait_for_url(re.compile(r"/trainer(\?.*)?$"))  # the trainer's link carries its settings (?lr=...)
    wait_idle(page)
    assert page.get_by_role("combobox", name="Network").input_value() == "the network from the calculator"
    assert page.get_by_text("handed over by the Dimension calculator").first.is_visible()


def test_a_new_networks_training_time_follows_the_page_without_a_click(page, app_url):
    """The estimate's batches are timed in the background (a cold server: ~3 s): the page shows up first with
    "Timing a few training batches…", then the measured time replaces it by itself."""
    import json
    from urllib.parse import quote
    layers = json.dumps([{"type": "conv", "out_channels": 13, "kernel_size": 3}, {"type": "relu"},  # timed nowhere else
                         {"type": "maxpool", "kernel_size": 2}, {"type": "flatten"},
                         {"type": "linear", "out_features": 10}])
    page.goto(f"{app_url}/?tab={quote('A whole network')}&net=logistic&layers={quote(layers)}")
    timing = page.locator("[data-testid='stCaptionContainer']", has_text="Timing a few training batches")
    timing.first.wait_for(timeout=60_000)
    assert "Fits: this network needs" in timing.first.inner_text()
    done = page.locator("[data-testid='stCaptionContainer']", has_text="of training (")
    done.first.wait_for(timeout=60_000)  # no click: the page redrew itself once the batches were timed
    wait_idle(page)
    assert not timing.count() and "Fits: this network needs" in done.first.inner_text()
