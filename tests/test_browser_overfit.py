"""Overfitting in real Chromium: a link trains tutorial_a on 200 images; the result says, in plain words, how far
apart its training and test accuracies are; the augmentation preview shows before a run."""
from __future__ import annotations

import re

import pytest
from conftest import open_page, wait_idle
from test_browser_trainer import TO_TOP


@pytest.mark.browser
@pytest.mark.slow
def test_200_images_overfit_in_the_browser_and_the_result_says_so(projector, app_url, artifacts):
    page = projector
    page.set_default_timeout(60_000)
    open_page(page, app_url, "trainer?net=tutorial_a&n=200&batch=32&epochs=30&aug=1")
    assert page.locator("figcaption", has_text="augmented").count() == 7  # one image as it is, 7 augmented
    page.get_by_text("Augment the training images").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "trainer_overfit_settings_1280x720.png"))
    open_page(page, app_url, "trainer?net=tutorial_a&n=200&batch=32&epochs=30&aug=0")
    assert page.locator("figcaption", has_text="augmented").count() == 0
    page.get_by_role("button", name="Start training").click()
    page.get_by_role("button", name="Save checkpoint").wait_for(timeout=240_000)
    wait_idle(page)
    page.evaluate(TO_TOP)
    page.wait_for_timeout(300)
    said = page.get_by_text(re.compile(r"^On 200 of the images it trained on it got")).first
    said.wait_for()
    text = said.inner_text()
    seen, held = (float(v) for v in re.findall(r"(\d+\.\d)%", text)[:2])
    assert seen - held > 5 and "It overfitted" in text  # 7-10 points over 3 seeds (bench/overfit.py)
    page.screenshot(path=str(artifacts / "trainer_overfit_1280x720.png"))
