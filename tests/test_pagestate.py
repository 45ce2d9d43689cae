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
    from app_pages.shell.ui import APP_PARAMS  # present, lesson, step: on every page's URL

    assert not set(pagestate.schema(page, ["tutorial_a"])) & set(APP_PARAMS)


@pytest.mark.parametrize("choice, models, active", [
    (None, ["lenet5", "tutorial_a"], "tutorial_a"),          # nothing chosen yet: Draw's default
    ("lenet5", ["lenet5", "tutorial_a"], "lenet5"),          # picked on Draw, or just trained
    ("deleted", ["lenet5", "tutorial_a"], "tutorial_a"),     # a choice that is gone
    (None, ["mine", "lenet5"], "mine"),                      # no tutorial_a: the first
    (["lenet5"], ["lenet5"], "lenet5"),                      # not a name: as if nothing was chosen
    ("tutorial_a", [], None),                                # no model at all
])
def test_active_model_is_the_one_draw_uses(choice, models, active):
    assert pagestate.active_model(choice, models) == active
    if models:
        assert pagestate.draw(models)["model"].default == pagestate.active_model(None, models)
