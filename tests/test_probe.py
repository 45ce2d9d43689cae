"""cnnviz.probe: activations match cnnviz.dims, hooks never linger, saliency and verdicts make sense."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch import nn

from cnnviz import arch, dims, probe
from cnnviz.card import Card
from cnnviz.figures import draw as figs


def _card(**fields) -> Card:
    """A model card with these fields (an older card's: label_smoothing at the top level)."""
    return Card.from_json({"name": "m", "spec": arch.PRESETS["keras_small"].to_json(), "dataset": "mnist",
                           "normalize": [0.1307, 0.3081], "test_accuracy": 90.0} | fields)


def _hooks_left(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def _assert_shapes_match_dims(model: nn.Module, spec: arch.Spec) -> None:
    x = torch.randn(1, *spec.input_shape)
    acts = probe.activations(model, x)
    rows = dims.table(spec)
    assert list(acts) == [row.name for row in rows]  # every layer, in forward order
    for row in rows:
        assert tuple(acts[row.name].shape[1:]) == row.out_shape, row.name
        assert not acts[row.name].requires_grad and acts[row.name].device.type == "cpu"
    assert _hooks_left(model) == 0


@pytest.mark.parametrize("name", sorted(arch.PRESETS))
def test_preset_activation_shapes_equal_dims_table(name):
    torch.manual_seed(0)
    spec = arch.PRESETS[name]
    _assert_shapes_match_dims(arch.build(spec).eval(), spec)


def test_shipped_checkpoint_activation_shapes_equal_dims_table():
    from cnnviz import checkpoints
    names = checkpoints.available()
    assert "tutorial_a" in names
    for name in names:
        model, card = checkpoints.load(name)
        _assert_shapes_match_dims(model, card.network)


def test_no_hook_left_when_forward_raises():
    model = arch.build(arch.PRESETS["tutorial_a"]).eval()
    with pytest.raises(RuntimeError):
        probe.activations(model, torch.zeros(1, 3, 28, 28))  # 3 channels into a 1-channel conv
    assert _hooks_left(model) == 0


def test_no_hook_left_when_the_block_raises():
    model = arch.build(arch.PRESETS["logistic"]).eval()
    with pytest.raises(KeyError):
        with probe.capture(model) as outputs:
            assert _hooks_left(model) == 2
            model(torch.zeros(1, 1, 28, 28))
            raise KeyError("boom")
    assert set(outputs) == {"flatten", "fc1"} and _hooks_left(model) == 0


def test_capture_selected_layers_keeps_graph():
    model = arch.build(arch.PRESETS["tutorial_a"]).eval()
    with probe.capture(model, ["conv2"], detach=False) as outputs:
        model(torch.zeros(1, 1, 28, 28))
    assert list(outputs) == ["conv2"] and outputs["conv2"].requires_grad


def test_look_probabilities_and_verdict():
    torch.manual_seed(0)
    model = arch.build(arch.PRESETS["tutorial_a"]).eval()
    x = torch.randn(1, 1, 28, 28)
    result = probe.look(model, x).inspection
    assert result.probs.shape == (10,) and result.probs.sum() == pytest.approx(1.0, abs=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(result.probs, probe.probabilities(model(x)), atol=1e-6)
    assert result.verdict.index == int(np.argmax(result.probs))
    assert _hooks_left(model) == 0


def test_verdict_notes():
    sure = probe.verdict(np.array([0.01] * 9 + [0.91]))
    assert sure.label == "9" and sure.note is None
    low = probe.verdict(np.array([0.45, 0.3, 0.25] + [0.0] * 7))
    assert low.label == "0" and "Not sure" in low.note and "45%" in low.note
    torn = probe.verdict(np.array([0.0, 0.62, 0.0, 0.0, 0.0, 0.0, 0.0, 0.38, 0.0, 0.0]))
    assert torn.label == "1" and torn.runner_up == 7 and "Torn between 1" in torn.note
    named = probe.verdict(np.array([0.2, 0.8]), labels=("cat", "dog"))
    assert named.label == "dog"
    assert probe.verdict(np.array([0.45, 0.3, 0.25] + [0.0] * 7), low=0.3).note.startswith("Torn")  # not "Not sure"


def test_last_conv_is_found_from_the_modules():
    assert probe.last_conv(arch.build(arch.PRESETS["conv32_64"])) == "conv2"
    assert probe.last_conv(arch.build(arch.PRESETS["logistic"])) is None


def test_saliency_grad_cam_and_input_gradient():
    torch.manual_seed(0)
    model = arch.build(arch.PRESETS["tutorial_a"]).eval()
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 6:22, 12:16] = 2.0  # a bar
    sal = probe.saliency(model, x)
    assert sal.layer == "conv2" and sal.target == int(model(x).argmax())
    assert sal.grad_cam.shape == (28, 28) and sal.input_gradient.shape == (28, 28)
    for m in (sal.grad_cam, sal.input_gradient):
        assert m.min() >= 0 and m.max() <= 1.0 + 1e-6
    assert sal.input_gradient.max() == pytest.approx(1.0)
    assert _hooks_left(model) == 0 and all(p.grad is None for p in model.parameters())


def test_saliency_without_conv_and_bad_target():
    model = arch.build(arch.PRESETS["logistic"]).eval()
    sal = probe.saliency(model, torch.randn(1, 1, 28, 28), target=3)
    assert sal.grad_cam is None and sal.layer is None and sal.target == 3
    # logistic regression: the input gradient is |weight row 3| (scaled)
    w = model.fc1.weight[3].detach().abs().reshape(28, 28).numpy()
    np.testing.assert_allclose(sal.input_gradient, w / w.max(), atol=1e-6)
    with pytest.raises(ValueError, match="target class 12"):
        probe.saliency(model, torch.randn(1, 1, 28, 28), target=12)
    with pytest.raises(ValueError, match="one input"):
        probe.saliency(model, torch.randn(2, 1, 28, 28))


def test_check_input():
    probe.check_input((1, 28, 28))
    with pytest.raises(ValueError, match="3×32×32"):
        probe.check_input((3, 32, 32))


def test_class_labels_from_the_card():
    assert probe.class_labels(_card()) == probe.DIGITS
    assert probe.class_labels(_card(dataset="fashion-mnist"))[0] == "T-shirt"
    assert probe.class_labels(_card(dataset="a dataset of another version")) == probe.DIGITS  # unknown: digits


def test_look_agrees_with_activations_and_saliency():
    torch.manual_seed(0)
    model = arch.build(arch.PRESETS["keras_small"]).eval()
    x = torch.randn(1, 1, 28, 28)
    seen, alone = probe.look(model, x), probe.activations(model, x)
    assert list(seen.inspection.activations) == list(alone) == model.spec.layer_names()
    assert all(torch.allclose(seen.inspection.activations[k], v, atol=1e-6) for k, v in alone.items())
    np.testing.assert_allclose(seen.inspection.probs, probe.probabilities(alone["fc1"]), atol=1e-6)
    assert not any(v.requires_grad for v in seen.inspection.activations.values())
    np.testing.assert_allclose(seen.saliency().grad_cam, probe.saliency(model, x).grad_cam, atol=1e-6)
    assert list(seen.kernels) == ["conv1", "conv2"] and seen.kernels["conv2"].shape == (16, 8, 5, 5)
    assert probe.look(model, x, unsure=1.01).inspection.verdict.note.startswith("Not sure")  # the threshold is used
    assert "Not sure" not in (probe.look(model, x, unsure=0.0).inspection.verdict.note or "")
    assert _hooks_left(model) == 0 and all(p.grad is None for p in model.parameters())


def test_capture_ignores_forwards_of_other_threads():
    # The page shares one cached model between sessions (threads): hooks must only record their own forward.
    model = arch.build(arch.PRESETS["logistic"]).eval()
    with probe.capture(model) as outputs:
        other = threading.Thread(target=lambda: model(torch.ones(1, 1, 28, 28)))
        other.start()
        other.join()
        assert outputs == {}
        model(torch.zeros(1, 1, 28, 28))
    assert set(outputs) == {"flatten", "fc1"} and float(outputs["flatten"].abs().sum()) == 0.0


def test_randomized_copy_and_similarity():
    spec = arch.PRESETS["tutorial_a"]
    model = arch.build(spec).eval()
    a, b = probe.randomized(model, seed=3), probe.randomized(model, seed=3)
    assert a.spec == spec and not a.training
    assert torch.equal(a.conv1.weight, b.conv1.weight)                     # seeded: the same copy every time
    assert not torch.equal(a.conv1.weight, probe.randomized(model, seed=4).conv1.weight)
    state = torch.get_rng_state()
    probe.randomized(model)
    assert torch.equal(state, torch.get_rng_state())                       # the global generator is untouched
    m = np.arange(16, dtype=np.float32).reshape(4, 4)
    assert probe.similarity(m, m * 2 + 1) == pytest.approx(1.0)
    assert probe.similarity(m, -m) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="16 vs 9"):
        probe.similarity(m, np.zeros((3, 3)))


def test_look_computes_saliency_only_when_asked_and_then_once():
    """A stroke on Draw needs the maps and the answer; the backward of saliency waits for the 'Why' switch."""
    torch.manual_seed(0)
    model = arch.build(arch.PRESETS["tutorial_a"]).eval()
    x = torch.rand(1, 1, 28, 28)
    calls = []
    backward = torch.autograd.grad

    def counting(*args, **kwargs):
        calls.append(1)
        return backward(*args, **kwargs)

    torch.autograd.grad = counting
    try:
        look = probe.look(model, x)
        assert calls == [] and _hooks_left(model) == 0
        assert figs.layer_views(look) and calls == []  # the detail view runs no backward pass
        first = look.saliency()
        assert len(calls) == 1 and look.saliency() is first  # computed once, then kept
    finally:
        torch.autograd.grad = backward
    direct = probe.saliency(model, x)
    assert first.target == look.inspection.verdict.index == direct.target
    np.testing.assert_allclose(first.input_gradient, direct.input_gradient, atol=1e-6)
    np.testing.assert_allclose(first.grad_cam, direct.grad_cam, atol=1e-6)


def test_look_for_card_uses_the_cards_classes_and_its_models_threshold():
    torch.manual_seed(0)
    model = arch.build(arch.PRESETS["keras_small"]).eval()
    x = torch.randn(1, 1, 28, 28)
    named = probe.look_for_card(model, x, _card(classes=list("abcdefghij")))
    assert named.inspection.verdict.labels == tuple("abcdefghij")
    plain, smoothed = (probe.look_for_card(model, x, _card(label_smoothing=e)) for e in (0.0, 0.24))
    assert 0.1 < plain.inspection.verdict.confidence < 0.5  # random weights: low, but above smoothing 0.24's 0.1
    assert plain.inspection.verdict.note.startswith("Not sure")
    assert "Not sure" not in (smoothed.inspection.verdict.note or "")  # novelty.low_top(0.24) = 0.1, its floor
