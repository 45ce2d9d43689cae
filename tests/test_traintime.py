"""cnnviz.traintime: the training-time estimate is measured on this machine (fake clocks here: no timed asserts)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from cnnviz import budget, trainstep, traintime
from cnnviz.arch import PRESETS
from cnnviz.spec import Spec
from cnnviz.trainconfig import TrainConfig


class FakeMachine:
    """A clock that only moves when a batch runs: each batch takes `step_s`."""

    def __init__(self, step_s: float) -> None:
        self.now, self.step_s, self.batches = 0.0, step_s, 0

    def run(self, n: int) -> None:
        self.now += n * self.step_s
        self.batches += n

    def clock(self) -> float:
        return self.now


def test_a_slower_step_gives_a_proportionally_longer_estimate():
    """The estimate comes from timing real batches, not from a constant MAC rate."""
    fast, slow = FakeMachine(0.01), FakeMachine(0.03)
    per = {m.step_s: traintime.seconds_per_batch(m.run, clock=m.clock) for m in (fast, slow)}
    assert per == {0.01: pytest.approx(0.01), 0.03: pytest.approx(0.03)}
    assert fast.batches == traintime.WARMUP + traintime.TIMED  # warm-up batches are run, not timed
    assert slow.batches == traintime.WARMUP + 17  # 17 x 0.03 s passed the 0.5 s budget
    config = TrainConfig()  # the trainer's defaults: 704 batches of 128 on MNIST
    runs = [traintime.run_seconds(PRESETS["tutorial_a"], config, 60_000, per_batch=per[s]) for s in (0.01, 0.03)]
    assert runs == [pytest.approx(704 * 0.01), pytest.approx(704 * 0.03)]


def test_a_slow_network_is_timed_on_fewer_batches():
    slow = FakeMachine(0.2)
    assert traintime.seconds_per_batch(slow.run, clock=slow.clock) == pytest.approx(0.2)
    assert slow.batches == traintime.WARMUP + 3  # 0.6 s of timing passed the 0.5 s budget
    slower = FakeMachine(2.0)
    assert traintime.seconds_per_batch(slower.run, clock=slower.clock) == pytest.approx(2.0)
    assert slower.batches == traintime.WARMUP + 1  # one batch at least


def test_the_measurement_is_real_batches_of_that_network_and_kept_for_the_process(monkeypatch):
    clock, made = FakeMachine(0.0), []

    def step_runner(spec, config, num_classes, images=None):  # stands in for the loop's own step
        made.append((spec.name, config.batch_size, num_classes, images))
        step_s = 0.02 if spec.name == "tutorial_a" else 0.001
        return lambda n: setattr(clock, "now", clock.now + n * step_s)

    monkeypatch.setattr(trainstep, "step_runner", step_runner)
    monkeypatch.setattr(traintime, "time", SimpleNamespace(perf_counter=clock.clock))
    traintime._measured.cache_clear()
    try:
        config = TrainConfig(batch_size=64)
        assert traintime.batch_seconds(PRESETS["tutorial_a"], config) == pytest.approx(0.02)
        assert traintime.batch_seconds(PRESETS["tutorial_a"], config) == pytest.approx(0.02)  # remembered
        assert traintime.batch_seconds(PRESETS["logistic"], config) == pytest.approx(0.001)
        assert made == [("tutorial_a", 64, 10, 64), ("logistic", 64, 10, 64)]  # measured once per network
    finally:
        traintime._measured.cache_clear()



def test_without_measuring_the_time_is_known_only_once_measured(monkeypatch):
    """The calculator asks with measure=False (no batches run while its page is drawn), measures in the background,
    and shows the same number afterwards."""
    clock = FakeMachine(0.0)
    monkeypatch.setattr(trainstep, "step_runner", lambda spec, config, num_classes, images=None:
                        lambda n: setattr(clock, "now", clock.now + n * 0.05))
    monkeypatch.setattr(traintime, "time", SimpleNamespace(perf_counter=clock.clock))
    traintime._measured.cache_clear()
    spec = PRESETS["tutorial_a"]
    try:
        before = traintime.default_run(spec, measure=False)
        assert before.ok and before.estimate.seconds is None and "of training" not in before.message
        assert traintime.default_pending(spec) and clock.now == 0.0  # nothing was run
        assert traintime.known_batch_seconds(spec, TrainConfig()) is None
        measured = traintime.default_run(spec)
        assert not traintime.default_pending(spec)
        after = traintime.default_run(spec, measure=False)
        assert after.estimate.seconds == measured.estimate.seconds == pytest.approx(704 * 0.05)
        assert after.message == measured.message and "about 35 s of training" in after.message
        from cnnviz.spec import Spec
        seven = Spec.from_json({"input_shape": [1, 28, 28], "layers": [{"type": "flatten"},
                                                                     {"type": "linear", "out_features": 7}]})
        assert not traintime.default_pending(seven)  # not a 10-class network: no run to time, nothing to wait for
    finally:
        traintime._measured.cache_clear()

def test_one_stalled_batch_does_not_make_the_estimate():
    """A shared machine can stall one batch for seconds (a 0.5 s window once said 408 s for a 10 s run)."""
    machine = FakeMachine(0.01)
    plain_run = machine.run

    def run(n: int) -> None:
        plain_run(n)
        if machine.batches == traintime.WARMUP + 3:  # the third timed batch waits 5 s for a core
            machine.now += 5.0

    assert traintime.seconds_per_batch(run, clock=machine.clock) == pytest.approx(0.01)


def test_a_big_network_is_timed_on_fewer_images():
    assert traintime.probe_images(PRESETS["tutorial_a"], 128) == 128
    big = Spec.from_json({"input_shape": [1, 28, 28], "layers": [
        {"type": "conv", "out_channels": 512, "kernel_size": 3, "padding": 1}, {"type": "relu"},
        {"type": "conv", "out_channels": 512, "kernel_size": 3, "padding": 1}, {"type": "relu"},
        {"type": "flatten"}, {"type": "linear", "out_features": 10}]})
    assert 1 <= traintime.probe_images(big, 128) < 128


def test_a_network_too_big_for_memory_is_refused_without_being_built(monkeypatch):
    monkeypatch.setattr(trainstep, "step_runner", lambda *a, **k: pytest.fail("built a network that cannot fit"))
    huge = Spec.from_json({"input_shape": [1, 28, 28], "layers": [
        {"type": "flatten"}, {"type": "linear", "out_features": 1_600_000}, {"type": "linear", "out_features": 10}]})
    verdict = traintime.verdict(huge, TrainConfig(), 60_000, 10_000, free_bytes=6 * budget.GiB)
    assert not verdict.ok and "Too big for this server" in verdict.message
    with pytest.raises(ValueError, match="Too big for this server"):
        traintime.require(huge, TrainConfig(), 60_000, 10_000)


def test_a_network_that_is_not_a_classifier_gets_memory_but_no_time(monkeypatch):
    monkeypatch.setattr(trainstep, "step_runner", lambda *a, **k: pytest.fail("timed a network that cannot train"))
    spec = Spec.from_json({"input_shape": [3, 64, 64], "layers": [{"type": "conv", "out_channels": 4,
                                                                    "kernel_size": 3}]})
    verdict = traintime.default_run(spec)
    assert verdict.ok and verdict.estimate.seconds is None and "of training" not in verdict.message


def test_the_verdict_says_the_measured_time_and_the_run(monkeypatch):
    monkeypatch.setattr(traintime, "batch_seconds", lambda spec, config, num_classes=10: 0.05)
    verdict = traintime.default_run(PRESETS["tutorial_a"])
    assert verdict.estimate.seconds == pytest.approx(704 * 0.05)
    assert verdict.message.endswith("; about 35 s of training (704 batches of 128).")
    monkeypatch.setenv("CNNVIZ_MAX_TRAIN_MINUTES", "0.5")
    refused = traintime.verdict(PRESETS["tutorial_a"], TrainConfig(), 60_000, 10_000)
    assert not refused.ok and "704 batches of 128 would take about 35 s here; the limit is 30 s" in refused.message


def test_a_real_measurement_is_positive():
    traintime._measured.cache_clear()
    assert traintime.batch_seconds(PRESETS["logistic"], TrainConfig(batch_size=16)) > 0
