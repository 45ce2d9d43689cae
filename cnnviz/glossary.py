"""Plain words for the jargon a page shows: one sentence per term, for a 15-year-old.

A page asks `help_for(text)` for the tooltip of a label, caption or heading (every term in it, explained), and in
presenter mode `plain(text)` for the same text with the jargon swapped for its plain wording where one exists.
`tests/test_page_glossary.py` walks every page and checks that each jargon term it shows is explained there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A term, the pattern that finds it in a text, its one-sentence explanation, and (optionally) the plain
    wording presenter mode shows instead."""

    name: str
    pattern: str
    sentence: str
    plain: str | None = None

    @property
    def regex(self) -> re.Pattern:
        return _compiled(self.pattern)


_CACHE: dict[str, re.Pattern] = {}


def _compiled(pattern: str) -> re.Pattern:
    if pattern not in _CACHE:
        _CACHE[pattern] = re.compile(pattern)
    return _CACHE[pattern]


TERMS: tuple[Term, ...] = (
    Term("bf16", r"\bbf16\b", "bf16 stores each number in 16 bits instead of 32: half the memory, a little less "
         "precision, often faster.", "half-size numbers"),
    Term("float16", r"\b(?:float16|fp16)\b", "float16 stores each weight in 16 bits instead of 32: the file is half "
         "as big and the answers barely change.", "half-size numbers"),
    Term("MACs", r"\bMACs?\b", "A MAC is one multiply-and-add (weight × input, added to a sum): the work a network "
         "does is counted in them.", "multiply-adds"),
    Term("one-cycle", r"\bone-cycle\b", "One-cycle is a learning-rate schedule: the step size rises for a while, "
         "then falls to almost nothing by the end.", "rise-then-fall step size"),
    Term("label smoothing", r"\b[Ll]abel smoothing\b", "Label smoothing trains towards 'about 90% sure' instead "
         "of '100% sure', so the network does not become overconfident.", "not-quite-100% targets"),
    Term("normalisation", r"\(x\s*[−-]\s*μ\)\s*/\s*σ|\bnormali[sz](?:ed|ation)\b", "Normalising shifts and scales "
         "the pixels (subtract the average μ, divide by the spread σ) so they are centred on 0, which helps "
         "training.", "shifted and scaled"),
    Term("Σ", r"Σ", "Σ means 'add up all of these'.", "sum of"),
    Term("rank similarity", r"\brank similarity\b", "Rank similarity compares two heatmaps by the order of their "
         "pixels: 1 means the same brightest-to-darkest order, 0 means unrelated.", "how alike"),
    Term("Grad-CAM", r"\bGrad-CAM\b", "Grad-CAM colours the parts of the picture that the last conv layer's maps "
         "used most for this answer.", "where the network looked"),
    Term("input gradient", r"\binput gradient\b", "The input gradient says, for every pixel, how much the answer "
         "would change if that pixel got a little brighter.", "pixel influence"),
    Term("saliency", r"\bsaliency\b", "A saliency map is a heatmap of which pixels mattered most for the answer.",
         "which pixels mattered"),
    Term("logit", r"\blogits?\b", "A logit is the raw score of a class before softmax turns the scores into "
         "probabilities.", "raw score"),
    Term("softmax", r"\bsoftmax\b", "Softmax turns the 10 raw scores into probabilities that are all positive and "
         "add up to 100%.", None),
    Term("cross-entropy", r"\bcross-entropy\b", "The cross-entropy loss is −log of the probability the network "
         "gave the right answer: 0 when it was sure and right, large when it was sure and wrong.", "error"),
    Term("epoch", r"\bepochs?\b", "An epoch is one pass over every training image.", None),
    Term("batch", r"\bbatch(?:es)?\b", "A batch is the handful of images the network looks at before it nudges its "
         "weights once.", None),
    Term("learning rate", r"\blearning rate\b|\blr\b", "The learning rate is the size of each nudge to the weights: "
         "too small learns slowly, too big jumps past the answer.", "step size"),
    Term("SGD", r"\bSGD\b", "SGD (stochastic gradient descent) nudges every weight a little downhill on the error, "
         "one batch at a time.", "plain downhill steps"),
    Term("momentum", r"\bmomentum\b", "Momentum lets the downhill steps keep some of their previous direction, like a "
         "rolling ball.", None),
    Term("Adam", r"\bAdam\b", "Adam is a way of taking the downhill steps that adapts the step size for every "
         "weight.", None),
    Term("dropout", r"\b[Dd]ropout\b", "Dropout switches off a random share of the units at every training step, so "
         "the network cannot rely on any single one.", None),
    Term("weight decay", r"\bweight decay\b", "Weight decay gently pulls every weight towards 0 at every step, "
         "which keeps the network from memorising.", None),
    Term("augmentation", r"\baugment(?:ation|ed)\b", "Augmentation shows the network slightly moved, turned or "
         "resized copies of the training images, so it learns the shape and not the exact pixels.", None),
    Term("overfitting", r"\boverfit(?:ting|ted|s)?\b", "A network overfits when it memorises its training images: "
         "right on them, much worse on images it has never seen.", None),
    Term("held-out", r"\bheld-out\b", "Held-out images are kept away from training, to test the network on "
         "pictures it has never seen.", "unseen"),
    Term("receptive field", r"\breceptive field\b", "A unit's receptive field is the patch of the input picture it "
         "can see.", None),
    Term("ReLU", r"\bReLU\b|\brelu\d*\b", "ReLU keeps positive numbers and turns negative ones into 0.", None),
    Term("tanh", r"\btanh\d*\b", "tanh squashes any number into the range −1 to 1.", None),
    Term("stride", r"\b[Ss]tride\b", "The stride is how many pixels the kernel moves between two outputs.", None),
    Term("padding", r"\b[Pp]adding\b", "Padding adds a border of zeros around the input so the kernel can sit on "
         "its edges too.", None),
    Term("dilation", r"\b[Dd]ilation\b", "Dilation spreads the kernel's cells apart, so it sees a wider area with "
         "the same number of weights.", None),
    Term("kernel", r"\b[Kk]ernels?\b", "A kernel is a small grid of weights that slides over the picture; at each "
         "place it multiplies and adds.", None),
    Term("feature map", r"\b(?:feature )?maps?\b", "A feature map is a conv layer's output for one kernel: bright "
         "where the kernel's pattern was found.", None),
    Term("pooling", r"\b(?:max|average|avg)[ -]?pool(?:ing)?\d*\b|\bpool\d\b", "Pooling shrinks each map, keeping "
         "the largest (max) or the average value of every small window.", None),
    Term("gradient", r"\bgradients?\b", "A gradient says how much the error would change if a number changed a "
         "little, and in which direction.", None),
    Term("backpropagation", r"\bback-?prop(?:agation)?\b|\bbackward\b", "Backpropagation sends the error back "
         "through the layers to work out every weight's gradient.", None),
    Term("bias", r"\bbias\b", "The bias is a number added after the multiply-and-add, so a unit can switch on more "
         "or less easily.", None),
    Term("dense layer", r"\b(?:fc\d|FC|dense|fully connected|linear)\b", "A dense (fully connected) layer multiplies "
         "every input by its own weight and adds them all up, for every output.", None),
    Term("conv layer", r"\bconv\d*\b", "A conv layer slides each of its kernels over the maps before it and makes one "
         "new map per kernel.", None),
    Term("CNN", r"\bCNNs?\b", "A CNN (convolutional neural network) is a network that starts with conv layers: small "
         "kernels slid over the picture.", None),
    Term("∂", r"∂", "∂L/∂z reads 'how much L changes when z changes a little': a gradient.", None),
    Term("flatten", r"\b[Ff]latten\b", "Flatten lays the maps out as one long list of numbers for the dense layers.",
         None),
)


# How to read the Draw page's "Why" heatmaps, in one line each (the page shows them under the heatmaps)
READ_SALIENCY = "How to read it: bright = the pixels that pushed the answer most; dark = pixels that hardly mattered."
READ_SANITY = ("The same maps from a network with random weights, which learned nothing: where they look alike, "
               "the heatmap shows the strokes themselves, not what training taught.")


def find(text: str) -> list[Term]:
    """The terms `text` uses, in the order of the glossary."""
    return [t for t in TERMS if t.regex.search(text or "")]


def entry(name: str) -> Term:
    """The term called `name`; KeyError naming the close ones otherwise."""
    for t in TERMS:
        if t.name == name:
            return t
    raise KeyError(f"no glossary entry {name!r}")


def help_for(*texts: str) -> str | None:
    """A tooltip explaining every term the texts use (Markdown, one line each), or None when they use none."""
    seen = [t for t in TERMS if any(t.regex.search(x or "") for x in texts)]
    return "\n\n".join(f"**{t.name}**: {t.sentence}" for t in seen) or None


def plain(text: str) -> str:
    """`text` with each term that has a plain wording replaced by it (presenter mode)."""
    for t in TERMS:
        if t.plain:
            text = t.regex.sub(t.plain, text)
    return text
