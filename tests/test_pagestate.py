"""Page schemas: each default is a value its own field accepts; option lists are the widgets' lists."""
import pytest

from cnnviz import kernels, pagestate
from cnnviz.arch import PRESETS
from cnnviz.urlstate import decode, encode


@pytest.mark.parametrize("page", pagestate.PAGES)
def test_every_default_encodes_and_round_trips(page):
    schema = pagestate.schema(page, ["tutorial_a", "lenet5"])
    state = {name: f.default for name, f in schema.items() if f.default is not None}
    params = encode(schema, state, skip_defaults=False)
    assert decode(schema, params).values == state
    keys = [f.key or n for n, f in schema.items()]
    assert len(set(keys)) == len(keys)  # one widget key per parameter


def test_options_follow_the_library():
    assert set(kernels.NAMED) < set(pagestate.playground()["kernel"].options)
    assert set(PRESETS) == set(pagestate.trainer()["net"].options)
    assert "checkpoint: lenet5" in pagestate.dimensions(["lenet5"])["net"].options


def test_a_custom_kernel_link():
    got = decode(pagestate.playground(), {"kernel": "custom 3x3", "grid": "0,1,0;1,-4,1;0,1,0"})
    assert got.notes == [] and got.values["grid"][1] == (1.0, -4.0, 1.0)


def test_unknown_page_is_a_value_error():
    with pytest.raises(ValueError, match="no page 'nope'"):
        pagestate.schema("nope")


@pytest.mark.parametrize("page", pagestate.PAGES)
def test_no_page_parameter_collides_with_the_apps_own(page):
    from app_pages.ui import APP_PARAMS  # present, lesson, step: on every page's URL

    assert not set(pagestate.schema(page, ["tutorial_a"])) & set(APP_PARAMS)
