"""Caches shared by the pages (not a page: app.py lists the pages). The library stays free of streamlit."""
import streamlit as st

from cnnviz import backprop, checkpoints, data, owndata, ownsplits, probe, registry, serverwide, units


@st.cache_resource(show_spinner="Loading the dataset into memory…")
def load_split(name: str, split: str) -> data.Split:
    """One copy per process of a dataset split, whichever page asks first (MNIST test is ~31 MB)."""
    return data.load(name, split)


@st.cache_resource(show_spinner="Preparing your dataset (split, augmented)…", max_entries=8)
def _own_splits(key: str, seed: int, fingerprint: str) -> tuple[data.Split, data.Split]:
    return ownsplits.splits(key, seed)


def splits(name: str, seed: int = 0) -> tuple[data.Split, data.Split]:
    """(train, test) of any dataset: MNIST's family from the shared cache, an own one re-read when it changed."""
    if registry.is_own(name):
        return _own_splits(name, seed, owndata.fingerprint(name))
    return load_split(name, "train"), load_split(name, "test")


def downloader() -> data.Downloader:
    """The one Downloader of this server: every session sees the same "downloading…" or "failed" state.

    Not a cache (any client can clear those): a fresh Downloader would start a second download of the same files.
    """
    return serverwide.single("dataset downloader", data.Downloader)


@st.cache_resource(show_spinner="Loading the model…")
def load_model(name: str, stamp: float):
    """(model, card) of a checkpoint, once per process; `stamp` (its mtime) makes a retrained model reload."""
    return checkpoints.load(name)


@st.cache_resource(show_spinner=False, max_entries=8)
def random_copy(name: str, stamp: float):
    """The model with its weights re-randomised (Draw's saliency sanity check)."""
    return probe.randomized(load_model(name, stamp)[0])


@st.cache_resource(show_spinner=False, max_entries=8)
def untrained_model(preset: str):
    """A preset with fresh weights (seed 0): *How it learns* on a network that knows nothing yet."""
    return backprop.untrained(preset)


@st.cache_resource(show_spinner="Finding the test images that excite each channel (once per model)…",
                   max_entries=8)
def strongest(name: str, stamp: float) -> tuple[dict, data.Split]:
    """(units.strongest of every conv layer over the model's test set, that test set); cached in the
    checkpoint's folder too, so a restart reads it back."""
    model, card = load_model(name, stamp)
    test = splits(card["dataset"])[1]
    return units.cached_strongest(name, model, test.images), test


@st.cache_resource(show_spinner="Growing an input that excites this channel…", max_entries=64)
def dream(name: str, stamp: float, layer: str, channel: int) -> units.Dream:
    """The input grown for one channel (a few hundred small steps on one image)."""
    model, card = load_model(name, stamp)
    return units.dream(model, layer, channel, tuple(card["normalize"]))
