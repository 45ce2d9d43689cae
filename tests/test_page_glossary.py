"""Plain words on every page (cnnviz.glossary, app_pages/shell/words.py): each jargon term a page shows in a
markdown, caption, metric or widget (label and options) is explained by that element's own tooltip; every
jargon-looking token is a glossary term or a name on an explicit list; presenter mode reads the plain wording."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import arch, checkpoints, glossary
from tests import pagewalk

ROOT = Path(__file__).resolve().parents[1]
# capitals (MACs, SGD), words with digits (bf16, conv1), Greek letters and the partial-derivative sign
TOKEN = re.compile(r"\b[A-Z]{2,}s?\b|\b[A-Za-z]+\d+\b|[μσΣ∂]")
ALLOWED = {"MNIST": "the dataset's name", "CPU": "the machine's processor, named as the sidebar does",
           "GPU": "likewise", "PNG": "a file type", "RGB": "a picture's colours", "JSON": "a file type",
           "QR": "the QR code the class scans", "EMNIST": "a dataset's name", "KMNIST": "a dataset's name"}


def _missing(text: str, help: str | None) -> list[str]:
    return [t.name for t in glossary.find(text) if t.sentence not in (help or "")]


@pytest.mark.slow
def test_every_term_a_page_shows_is_explained_by_the_element_that_shows_it():
    unexplained = [f"{state} | {what} | {text[:70]!r}: {missing}" for state, at in pagewalk.walked()
                   for what, text, help in pagewalk.texts(at) if (missing := _missing(text, help))]
    assert not unexplained, "\n".join(unexplained)


def _names() -> set[str]:
    """Names of things, not jargon: the presets and the models a page lists."""
    return set(arch.PRESETS) | set(checkpoints.available())


@pytest.mark.slow
def test_every_jargon_token_on_a_page_is_a_glossary_term_or_an_allowed_name():
    names, strays = _names(), set()
    for state, at in pagewalk.walked():
        for _, text, _ in pagewalk.texts(at):
            for term in glossary.TERMS:  # a term's own text (bf16, conv1, Grad-CAM) is explained: set it aside
                text = term.regex.sub(" ", text)
            strays |= {(state, t) for t in TOKEN.findall(text) if t not in ALLOWED and t not in names}
    assert not strays, sorted(strays)


def test_the_token_pattern_finds_the_issues_jargon():
    found = TOKEN.findall(" ".join(["bf16", "MACs", "(x−μ)/σ", "Σ patch", "fp16 conv1", "∂L/∂z"]))
    assert {"bf16", "MACs", "μ", "σ", "Σ", "fp16", "conv1", "∂"} <= set(found)


def test_presenter_mode_reads_plain_words_and_still_explains_the_term():
    at = AppTest.from_file(str(ROOT / "app_pages" / "dimensions.py"), default_timeout=60)
    at.session_state["present"] = True
    at.run()
    assert not at.exception
    macs = next(m for m in at.metric if "per image" in m.label and "Memory" not in m.label)
    assert macs.label == "multiply-adds per image"
    assert glossary.entry("MACs").sentence in macs.proto.help
    at.session_state["present"] = False
    at.run()
    assert any(m.label == "MACs per image" for m in at.metric)  # the usual wording outside presenter mode
