"""The glossary's tooltips in real Chromium at 1280x720: the "?" beside a jargon label explains the term when
hovered, and presenter mode shows the plain wording. docs/glossary.jpg is this test's screenshot
(test-artifacts/glossary.jpg)."""
from __future__ import annotations

import pytest
from conftest import open_page

from cnnviz import glossary

TOOLTIP = "[data-testid='stTooltipContent']"
OPAQUE = """sel => { let e = document.querySelector(sel), o = 1;
    for (; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity || '1');
    return o > 0.99; }"""


def _metric(page, label: str):
    return page.locator("[data-testid='stMetric']").filter(has_text=label).first


@pytest.mark.browser
def test_hovering_the_question_mark_of_a_jargon_label_explains_it(projector, app_url, artifacts):
    open_page(projector, app_url, "?tab=A+whole+network")
    metric = _metric(projector, "MACs per image")
    metric.scroll_into_view_if_needed()
    metric.locator("[data-testid='stTooltipIcon']").hover()
    tip = projector.locator(TOOLTIP).first
    tip.wait_for(state="visible")
    assert glossary.entry("MACs").sentence.split(":")[0] in tip.inner_text()
    projector.wait_for_function(OPAQUE, arg=TOOLTIP)  # the tooltip has finished fading in: the screenshot shows it
    projector.screenshot(path=str(artifacts / "glossary.jpg"), type="jpeg", quality=80)


@pytest.mark.browser
def test_presenter_mode_says_it_in_plain_words(projector, app_url):
    open_page(projector, app_url, "?tab=A+whole+network&present=1")
    assert _metric(projector, "multiply-adds per image").count() == 1
    assert _metric(projector, "MACs per image").count() == 0
