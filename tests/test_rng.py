"""cnnviz.rng: each run owns its generators; seed 0 gives the same weights alone or beside another run."""
from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from cnnviz import data, rng
from cnnviz import train as tr
from cnnviz.arch import PRESETS, Spec, build
from cnnviz.trainconfig import TrainConfig


def test_generators_are_fresh_and_seeded():
    a, b = rng.run_generators(0), rng.run_generators(0)
    assert torch.equal(torch.rand(5, generator=a.init), torch.rand(5, generator=b.init))
    assert not torch.equal(torch.rand(5, generator=a.init), torch.rand(5, generator=a.dropout))
    for bad in (-1, 1.5, True, "0", 2**63):
        with pytest.raises(ValueError, match="seed must be"):
            rng.run_generators(bad)


def test_init_draws_from_its_generator_only_and_matches_torchs_distribution():
    before = torch.random.get_rng_state()
    one = rng.build(PRESETS["tutorial_a"], rng.run_generators(3).init)
    two = rng.init_weights(build(PRESETS["tutorial_a"]), rng.run_generators(3).init)
    assert not torch.equal(torch.random.get_rng_state(), before)  # arch.build drew from the global generator
    for (name, p), q in zip(one.state_dict().items(), two.state_dict().values()):
        assert torch.equal(p, q), name
    torch.manual_seed(3)  # the same weights as the old global seeding gave: retraining a card's seed still works
    for p, q in zip(build(PRESETS["tutorial_a"]).state_dict().values(), one.state_dict().values()):
        assert torch.equal(p, q)
    fc = one.fc1  # torch's default: weights and biases within +-1/sqrt(fan_in)
    bound = 1 / fc.in_features ** 0.5
    assert fc.weight.abs().max() <= bound and fc.bias.abs().max() <= bound
    assert fc.weight.std() > bound / 2  # spread out, not all zero


def test_seeded_dropout_keeps_the_same_units_for_the_same_seed_and_scales_like_torch():
    x = torch.ones(4, 1000)
    drop = [rng.SeededDropout(0.5, rng.run_generators(1).dropout) for _ in range(2)]
    a, b = drop[0](x), drop[1](x)
    assert torch.equal(a, b) and set(a.unique().tolist()) == {0.0, 2.0}
    assert 0.4 < (a == 0).float().mean() < 0.6
    assert torch.equal(drop[0].eval()(x), x)
    model = rng.own_dropout(build(PRESETS["keras_small"]), rng.run_generators(1).dropout)
    assert any(isinstance(m, rng.SeededDropout) for m in model.modules())
    assert not any(isinstance(m, rng.SeededDropout) for m in rng.own_dropout(model, None).modules())
    assert isinstance(rng.SeededDropout(1.0, rng.run_generators(1).dropout)(x), torch.Tensor)


@pytest.fixture(scope="module")
def digits(data_root):
    test = data.load("mnist", "test", root=data_root, download=False)
    return data.Split("mnist", "train", test.images[:1024], test.labels[:1024], test.mean, test.std)


def _weights(digits, seed: int) -> dict[str, torch.Tensor]:
    config = TrainConfig(batch_size=64, max_batches=12, seed=seed, precision="fp32", val_every=0)
    return tr.train(PRESETS["keras_small"], config, digits).model.state_dict()  # keras_small has dropout


def test_seed_0_gives_the_same_weights_alone_or_beside_another_run(digits):
    torch.manual_seed(99)
    state = torch.random.get_rng_state()
    alone = _weights(digits, 0)
    assert torch.equal(torch.random.get_rng_state(), state), "a run touched the process-wide generator"
    out: dict[int, dict] = {}
    start = threading.Barrier(3)
    stop = threading.Event()

    def run(seed):
        start.wait()
        out[seed] = _weights(digits, seed)

    def noise():  # another page drawing random numbers all the while
        start.wait()
        while not stop.is_set():
            torch.rand(100)
            torch.nn.functional.dropout(torch.ones(100), 0.5)
    threads = [threading.Thread(target=run, args=(s,)) for s in (0, 7)] + [threading.Thread(target=noise)]
    for t in threads:
        t.start()
    for t in threads[:2]:
        t.join(120)
    stop.set()
    threads[2].join(10)
    for name, value in alone.items():
        assert torch.equal(out[0][name], value), name
    assert not torch.equal(out[7]["conv1.weight"], alone["conv1.weight"])


def test_batchnorm_gets_a_deterministic_reset():
    spec = PRESETS["tutorial_a"].to_json()
    spec["layers"].insert(1, {"type": "batchnorm"})
    model = rng.build(Spec.from_json(spec), rng.run_generators(0).init)
    assert torch.equal(model.bn1.running_var, torch.ones(16)) and torch.equal(model.bn1.weight, torch.ones(16))
    assert int(model.bn1.num_batches_tracked) == 0


def test_the_trained_model_keeps_plain_dropout(digits):
    config = TrainConfig(batch_size=64, max_batches=1, precision="fp32", val_every=0)
    model = tr.train(PRESETS["keras_small"], config, digits).model
    assert all(type(m) is nn.Dropout for m in model.modules() if isinstance(m, nn.Dropout))
