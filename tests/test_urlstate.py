"""URL-state codec: valid states round-trip; hostile query values are dropped with a note, never raised."""
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnviz.urlstate import MAX_VALUE_CHARS, Bool, Choice, Float, Grid, Int, Text, address, decode, encode

SCHEMA = {
    "stride": Int(1, 4, default=1),
    "lr": Float(1e-5, 100.0, default=0.05),
    "relu": Bool(False),
    "kernel": Choice(("outline", "sobel_x", "blur"), "outline"),
    "crop": Choice(("full", 7, 16, 28), "full"),
    "name": Text(20, ""),
    "grid": Grid((3, 5)),
}

states = st.fixed_dictionaries({}, optional={
    "stride": st.integers(1, 4),
    "lr": st.floats(1e-5, 100.0),
    "relu": st.booleans(),
    "kernel": st.sampled_from(SCHEMA["kernel"].options),
    "crop": st.sampled_from(SCHEMA["crop"].options),
    "name": st.text(st.characters(categories=("L", "N", "Zs", "P")), max_size=20).filter(str.isprintable),
    "grid": st.integers(0, 1).flatmap(lambda i: st.lists(st.lists(st.integers(-99, 99), min_size=(3, 5)[i],
                                                                 max_size=(3, 5)[i]), min_size=(3, 5)[i],
                                                         max_size=(3, 5)[i])),
})


@given(states)
def test_a_valid_state_round_trips(state):
    params = encode(SCHEMA, state)
    assert all(isinstance(v, str) for v in params.values())
    back = decode(SCHEMA, params)
    assert back.notes == []
    for name, value in state.items():
        if name not in params:  # left out because it is the default
            assert value == SCHEMA[name].default
        elif name == "grid":
            assert back.values[name] == tuple(tuple(float(v) for v in row) for row in value)
        elif name == "lr":
            assert math.isclose(back.values[name], value, rel_tol=1e-9)
        else:
            assert back.values[name] == value and type(back.values[name]) is type(value)


@given(st.dictionaries(st.text(max_size=30), st.one_of(st.text(max_size=500), st.lists(st.text(max_size=20)),
                                                       st.integers(), st.none(), st.floats()), max_size=12))
def test_any_query_never_raises_and_keeps_only_valid_values(params):
    out = decode(SCHEMA, params)
    assert set(out.values) <= set(SCHEMA)
    for name, value in out.values.items():
        assert encode(SCHEMA, {name: value}, skip_defaults=False)  # everything kept is itself valid
    assert len(out.values) + len(out.notes) == len(params)  # each parameter either kept or noted


@given(st.sampled_from(sorted(SCHEMA)), st.text(max_size=60))
def test_random_text_for_every_field_is_kept_only_when_valid(name, text):
    out = decode(SCHEMA, {name: text})
    assert (name in out.values) != bool(out.notes)


@pytest.mark.parametrize("name, value, reason", [
    ("stride", "99", "outside 1 to 4"),
    ("stride", "9" * 2001, "characters long"),
    ("stride", "9" * 300, "outside 1 to 4"),
    ("stride", "-99999999999999999999", "outside 1 to 4"),
    ("stride", "1e3", "not a whole number"),
    ("stride", "2.5", "not a whole number"),
    ("stride", "__import__('os').system('rm -rf /')", "not a whole number"),
    ("lr", "nan", "not a number"),
    ("lr", "inf", "not a number"),
    ("lr", "1e308", "outside"),
    ("lr", "1e999", "outside"),
    ("lr", "0x10", "not a number"),
    ("lr", "1_000", "not a number"),
    ("relu", "yes please", "not 1 or 0"),
    ("kernel", "outline; drop table", "not one of outline"),
    ("crop", "8", "not one of full, 7, 16, 28"),
    ("name", "a\x00b", "control characters"),
    ("name", "x" * 21, "longer than 20"),
    ("grid", "1,2;3,4", "not a square grid of 3x3 or 5x5"),
    ("grid", "1,2,3;4,5,6;7,8,nan", "a cell is not a number"),
    ("grid", "1,2,3;4,5,6;7,8,1e9", "a cell is outside"),
])
def test_hostile_values_are_dropped_with_a_note_naming_them(name, value, reason):
    out = decode(SCHEMA, {name: value})
    assert out.values == {}
    assert len(out.notes) == 1 and out.notes[0].startswith(name) and reason in out.notes[0], out.notes


def test_a_ten_kilobyte_value_unknown_keys_and_lists_are_ignored():
    out = decode(SCHEMA, {"kernel": "a" * 10_000, "stride": ["1", "2"], "evil": "1", "relu": ["1"],
                          "present": "1"}, known=("present",))
    assert out.values == {"relu": True}
    assert any(f"at most {MAX_VALUE_CHARS}" in n for n in out.notes)
    assert any("given 2 times" in n for n in out.notes)
    assert any("'evil' ignored: this page has no such setting" in n for n in out.notes)
    assert len(out.notes) == 3  # "present" belongs to the app: skipped silently


def test_too_many_parameters_are_ignored_unread():
    out = decode(SCHEMA, {f"k{i}": "1" for i in range(10_000)})
    assert out.values == {} and len(out.notes) == 65 and "9936 more" in out.notes[-1]


def test_encode_refuses_an_invalid_state_naming_it():
    with pytest.raises(ValueError, match=r"stride=9"):
        encode(SCHEMA, {"stride": 9})
    with pytest.raises(ValueError, match=r"kernel='nope'"):
        encode(SCHEMA, {"kernel": "nope"})
    with pytest.raises(ValueError, match="relu"):
        encode(SCHEMA, {"relu": 1})


def test_defaults_are_left_out_of_the_link_unless_asked():
    assert encode(SCHEMA, {"stride": 1, "kernel": "blur"}) == {"kernel": "blur"}
    assert encode(SCHEMA, {"stride": 1}, skip_defaults=False) == {"stride": "1"}


def test_choice_keeps_the_option_type():
    assert decode(SCHEMA, {"crop": "16"}).values == {"crop": 16}
    assert decode(SCHEMA, {"crop": "full"}).values == {"crop": "full"}


def test_a_choice_needs_distinct_options():
    with pytest.raises(ValueError, match="distinct"):
        Choice((1, "1"))


def test_a_text_field_s_check_drops_the_value_with_its_message_as_the_note():
    def one_word(text: str) -> None:
        if " " in text:
            raise ValueError(f"{text.count(' ')} spaces in it")
    schema = {"name": Text(20, "", check=one_word)}
    assert decode(schema, {"name": "cnn"}).values == {"name": "cnn"}
    out = decode(schema, {"name": "a b c"})
    assert out.values == {} and out.notes == ["name='a b c' ignored: 2 spaces in it"]
    with pytest.raises(ValueError, match="cannot put name='a b' in a link: 1 spaces in it"):
        encode(schema, {"name": "a b"})


def test_address_is_the_page_url_with_the_query_encoded():
    assert address("http://h:8501/playground/", {"src": "Photo", "r": "2"}) == "http://h:8501/playground?src=Photo&r=2"
    assert address("http://h:8501/", {}) == "http://h:8501"
    assert address("", {"name": "a b&c"}) == "?name=a+b%26c"
