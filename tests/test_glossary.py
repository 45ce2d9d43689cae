"""The glossary (cnnviz.glossary): one plain sentence per term, found where a page uses it."""
from __future__ import annotations

import pytest

from cnnviz import glossary

ISSUE_TERMS = ["bf16", "MACs", "one-cycle", "label smoothing", "(x−μ)/σ", "Σ patch × kernel on 16 input channels",
               "rank similarity"]


@pytest.mark.parametrize("text", ISSUE_TERMS)
def test_every_term_a_teacher_found_unexplained_has_an_entry(text):
    assert glossary.find(text) and glossary.help_for(text)


def test_entries_are_one_short_plain_sentence_each():
    names = [t.name for t in glossary.TERMS]
    assert len(names) == len(set(names))
    for t in glossary.TERMS:
        assert t.sentence.endswith(".") and len(t.sentence) <= 200, t.name
        assert t.sentence.count(". ") == 0, t.name  # one sentence
        assert t.regex.search(t.name) or t.name in ("normalisation", "feature map", "dense layer", "pooling"), t.name


def test_help_names_each_term_once_in_glossary_order():
    text = "Adam, lr 0.005, one-cycle, bf16; Adam again"
    said = glossary.help_for(text)
    assert said.count("**Adam**") == 1 and said.index("**bf16**") < said.index("**one-cycle**")
    assert glossary.help_for("Draw a digit") is None


def test_plain_wording_for_presenter_mode():
    assert glossary.plain("bf16, one-cycle, 1.2 M MACs") == "half-size numbers, rise-then-fall step size, " \
                                                            "1.2 M multiply-adds"
    assert glossary.plain("softmax") == "softmax"  # no plainer word: kept, and explained by its tooltip


def test_words_inside_other_words_are_not_terms():
    assert not glossary.find("Adamant batchelor emaciated, transcript")
