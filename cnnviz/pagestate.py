"""The declared state of each page: what its link carries (urlstate schemas), with the widget keys it lives under.

One schema per page, built from the same option lists the page's widgets show, so a link or a lesson can only
ask for what the page can display. The bounds are the widgets' own bounds. A new widget whose choice a teacher
would want to share gets a line here, with its widget key, and the page builds the widget from it
(app_pages/shell/fields.py: bounds, options, key; the default lives here, see app_pages/shell/ui.py).
"""
from __future__ import annotations

from collections.abc import Sequence

from cnnviz import backprop, editor, kernels, pictures, registry
from cnnviz.arch import PRESETS
from cnnviz.trainconfig import OPTIMIZERS, TrainConfig
from cnnviz.urlstate import Bool, Choice, Float, Grid, Int, Schema, Text

PAGES = ("dimensions", "playground", "trainer", "draw", "learn")  # st.navigation's url paths, "" being dimensions

CALC_TABS = ("One layer", "A whole network")
PG_SOURCES = ("Photo", "Pattern", "MNIST digit", "Upload")
PG_CUSTOM = ("custom 3x3", "custom 5x5")
PG_CROPS = ("full", 7, 16, 28, 64, 128)
PG_PADDING = ("valid", "same", "number")
PG_POOL = ("none", "max", "avg")
PG_STEP_TABS = ("Step through one pixel", "Pooling step", "Output sizes")
TRAIN_BATCHES = (16, 32, 64, 100, 128, 256, 512)
TRAIN_OPTIMIZERS = OPTIMIZERS
DRAW_SOURCES = ("Draw", "Random MNIST test digit", "Upload a picture")
DRAW_DEFAULT = "tutorial_a"  # the model Draw opens with when the session has not chosen one
LEARN_SOURCES = DRAW_SOURCES[:2]  # How it learns: a drawing or a test digit (a step needs the right label)


def active_model(choice: object, models: Sequence[str]) -> str | None:
    """The model *Draw a digit* uses: the session's `choice` (the last one picked or trained) when it is one of
    `models`, else DRAW_DEFAULT when shipped, else the first; None when there is none. The sidebar names the
    same one before the page has run."""
    if isinstance(choice, str) and choice in models:
        return choice
    return DRAW_DEFAULT if DRAW_DEFAULT in models else (models[0] if models else None)


def dimensions(models: Sequence[str] = ()) -> Schema:
    """The calculator: tab, the one-layer numbers, the preset (or a trained model's network) and input shape."""
    nets = list(PRESETS) + [f"checkpoint: {m}" for m in models]
    return {
        "tab": Choice(CALC_TABS, key="calc_tab"),
        "layer": Choice(("Convolution", "Pooling"), key="calc_kind"),
        "w": Int(1, 4096, 5, key="calc_w"),
        "k": Int(1, 512, 3, key="calc_k"),
        "p": Int(0, 512, 1, key="pad"),
        "s": Int(1, 512, 1, key="calc_s"),
        "d": Int(1, 64, 1, key="dil"),
        "net": Choice(nets, "tutorial_a" if "tutorial_a" in nets else nets[0], key="calc_net"),
        "c": Int(1, 1024, None, key="calc_in_c"),   # no default: the chosen network's own input shape
        "h": Int(1, 1024, None, key="calc_in_h"),
        "iw": Int(1, 1024, None, key="calc_in_w"),
        "layers": Text(2000, "", key="calc_layers", check=editor.check_layers),  # a network's layers, or refused
    }


def playground() -> Schema:
    """The playground: picture source and its options, kernel (named or a custom grid), conv/pool settings, pixel."""
    return {
        "src": Choice(PG_SOURCES, "Photo", key="pg_source"),
        "photo": Choice(pictures.PHOTOS, key="pg_photo"),
        "pattern": Choice(pictures.PATTERNS, key="pg_pattern"),
        "psize": Int(3, 32, 7, key="pg_pattern_size"),
        "digit": Int(0, 9999, 0, key="pg_digit"),
        "crop": Choice(PG_CROPS, "full", key="pg_crop"),
        "cr": Float(0.0, 1.0, 0.5, key="pg_crop_r"),
        "cc": Float(0.0, 1.0, 0.5, key="pg_crop_c"),
        "kernel": Choice(tuple(kernels.NAMED) + PG_CUSTOM, "outline", key="pg_kernel"),
        "grid": Grid((3, 5), key="pg_custom"),
        "conv": Bool(True, key="pg_conv"),
        "stride": Int(1, 4, 1, key="pg_stride"),
        "pad": Choice(PG_PADDING, "valid", key="pg_pad_mode"),
        "p": Int(0, 16, 1, key="pg_pad"),
        "dil": Int(1, 4, 1, key="pg_dilation"),
        "rgb": Bool(False, key="pg_rgb"),
        "relu": Bool(False, key="pg_relu"),
        "pool": Choice(PG_POOL, key="pg_pool"),
        "psz": Int(2, 4, 2, key="pg_pool_size"),
        "pst": Int(1, 4, 2, key="pg_pool_stride"),
        "tab": Choice(PG_STEP_TABS, key="pg_step_tab"),
        "r": Int(0, 4096, None, key="pg_pos_r"),
        "col": Int(0, 4096, None, key="pg_pos_c"),
        "pr": Int(0, 4096, None, key="pg_ppos_r"),
        "pc": Int(0, 4096, None, key="pg_ppos_c"),
    }


def trainer() -> Schema:
    """The trainer's settings: network, dataset, optimizer, learning rate, batch, epochs, seed, batch cap; their
    defaults are TrainConfig's (the learning rate follows the optimizer: trainconfig.DEFAULT_LR)."""
    default = TrainConfig()
    return {
        "net": Choice(tuple(PRESETS), ..., key="net"),  # no default: the calculator's network comes first
        "data": Choice(tuple(registry.keys()), default.dataset, key="dataset"),  # the MNIST family + your own
        "opt": Choice(TRAIN_OPTIMIZERS, default.optimizer, key="opt"),
        "lr": Float(1e-5, 100.0, None, key="lr"),
        "batch": Choice(TRAIN_BATCHES, default.batch_size, key="batch"),
        "epochs": Float(0.1, 50.0, default.epochs, key="epochs"),
        "seed": Int(0, 2**31 - 1, default.seed, key="seed"),
        "cap": Int(0, 100_000, 0, key="max_batches"),
        # overfitting and its cures (cnnviz.overfit): the widgets take what TrainConfig refuses (N = 0, p = 1,
        # a weight decay of 1e6), so a student who tries them reads why not
        "n": Int(0, 10_000_000, None, key="train_n"),
        "aug": Bool(default.augment, key="train_aug"),
        "drop": Float(0.0, 1.0, default.dropout, key="train_drop"),
        "wd": Float(0.0, 1e9, default.weight_decay, key="train_wd"),
    }


def draw(models: Sequence[str]) -> Schema:
    """The draw page: model(s), input source, the test digit shown, the brush."""
    names = tuple(models) or (DRAW_DEFAULT,)
    return {
        "model": Choice(names, active_model(None, names), key="draw_model"),
        "compare": Bool(False, key="draw_compare"),
        "model2": Choice(names, names[min(1, len(names) - 1)], key="draw_model_2"),
        "src": Choice(DRAW_SOURCES, key="draw_source"),
        "digit": Int(0, 9999, None, key="draw_digit"),
        "brush": Int(8, 40, 20, key="draw_brush"),
    }


def learn(models: Sequence[str]) -> Schema:
    """How it learns: the model (a checkpoint or an untrained preset), the image, the right label, the learning rate."""
    names = tuple(backprop.choices(list(models)))
    return {
        "model": Choice(names, active_model(None, list(models)) or names[0], key="learn_model"),
        "src": Choice(LEARN_SOURCES, key="learn_source"),
        "digit": Int(0, 9999, None, key="learn_digit"),
        "label": Int(0, 999, None, key="learn_label"),   # no default: the test digit's own label, else 0
        # 0.01: one step on one image visibly raises the right class without (usually) jumping it to ~100%
        "lr": Choice(backprop.LEARNING_RATES, 0.01, key="learn_lr"),
    }


def widget_keys(page: str) -> list[str]:
    """The session-state keys of a page's linkable widgets ([] for a page without a schema, such as "class")."""
    return [field.key or name for name, field in schema(page).items()] if (page or "dimensions") in PAGES else []


def schema(page: str, models: Sequence[str] = ()) -> Schema:
    """The schema of a page by its url path ("" or "dimensions", "playground", "trainer", "draw", "learn")."""
    page = page or "dimensions"
    if page not in PAGES:
        raise ValueError(f"no page {page!r}; pages: {', '.join(PAGES)}")
    return {"dimensions": lambda: dimensions(models), "playground": playground, "trainer": trainer,
            "draw": lambda: draw(models), "learn": lambda: learn(models)}[page]()
