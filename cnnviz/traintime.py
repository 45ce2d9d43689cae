"""How long a training run will take on this machine: measured, not assumed.

The one estimate the Dimension calculator and the trainer both show (`verdict`, `run_seconds`) is the run's
batches x the seconds one batch of *that* network takes here, timed on a few real training batches
(`trainstep.step_runner`: the loop's own step, precision, optimizer and model order, on random images) and kept
per network, batch size, optimizer, precision and device for the life of the process. A constant MAC rate
cannot know the machine (docs/performance.md has the numbers); bench/estimate_vs_run.py checks the estimate.

Timing in the server process measures the machine as it is now: when another run trains beside it, the
estimate is for a shared machine, which is what the next run will get too.
"""
from __future__ import annotations

import json
import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from cnnviz import budget, data, dims, trainconfig, trainstep
from cnnviz import train as tr
from cnnviz.device import pick_device
from cnnviz.spec import Spec
from cnnviz.trainconfig import TrainConfig

WARMUP = 2             # batches run before timing: the first ones pay for oneDNN's kernel setup
TIMED = 20             # batches timed at most...
TIME_BUDGET_S = 0.5    # ...and no longer than about this (a big network gets fewer, at least one)
PROBE_S = 0.25         # a calibration batch whose arithmetic guess is longer is made of fewer images
IDLE_MACS_PER_S = 80e9  # the fastest this kind of machine trained (tutorial_a ~9,200 img/s): sizes the probe only


def seconds_per_batch(run: Callable[[int], None], warmup: int = WARMUP, batches: int = TIMED,
                      budget_s: float = TIME_BUDGET_S, clock: Callable[[], float] | None = None) -> float:
    """Seconds per batch of `run(n)` (n batches, done on return), timed after `warmup` batches.

    The median of up to `batches` batches, timed one by one until `budget_s` has passed. The median, not the
    mean: on a shared machine one batch of the few timed here can stall for seconds (seen: a 0.5 s window
    that said 408 s for a 10 s run), where a whole run spreads such stalls over hundreds of batches."""
    if batches < 1 or warmup < 0:
        raise ValueError(f"need batches >= 1 and warmup >= 0, got batches={batches!r}, warmup={warmup!r}")
    clock = clock or time.perf_counter
    run(warmup)
    times: list[float] = []
    start = clock()
    while len(times) < batches and (not times or clock() - start < budget_s):
        before = clock()
        run(1)
        times.append(clock() - before)
    return statistics.median(times)


def probe_images(spec: Spec, batch_size: int) -> int:
    """Images per calibration batch: the whole batch, or fewer when the MAC count says it would take long."""
    guess = 3 * dims.totals(spec).macs / IDLE_MACS_PER_S  # seconds per image, at best
    return max(1, min(batch_size, int(PROBE_S / guess) if guess > 0 else batch_size))


class _Memo:
    """The measured seconds per batch, kept per key for the life of the process; `peek` never measures."""

    def __init__(self, measure: Callable[..., float], size: int = 128) -> None:
        self._measure, self._size = measure, size
        self._lock = threading.Lock()
        self._known: dict[tuple, float] = {}

    def __call__(self, *key) -> float:
        if (known := self.peek(*key)) is not None:
            return known
        value = self._measure(*key)  # outside the lock: seconds of batches must not block a peek
        with self._lock:
            if len(self._known) >= self._size:
                self._known.pop(next(iter(self._known)))  # the oldest
            self._known[key] = value
        return value

    def peek(self, *key) -> float | None:
        with self._lock:
            return self._known.get(key)

    def cache_clear(self) -> None:
        with self._lock:
            self._known.clear()


def _measure(spec_json: str, batch_size: int, optimizer: str, precision: str, device: str, classes: int) -> float:
    spec = Spec.from_json(json.loads(spec_json))
    config = TrainConfig(optimizer=optimizer, batch_size=batch_size, precision=precision, device=device)
    images = probe_images(spec, batch_size)
    return seconds_per_batch(trainstep.step_runner(spec, config, classes, images)) * batch_size / images


_measured = _Memo(_measure)


def _key(spec: Spec, config: TrainConfig, num_classes: int) -> tuple:
    return (json.dumps(spec.to_json(), sort_keys=True), config.batch_size, config.optimizer, config.precision,
            config.device or str(pick_device()), num_classes)


def batch_seconds(spec: Spec, config: TrainConfig, num_classes: int = 10) -> float:
    """Seconds one training batch of `spec` takes here (timed once per network and settings, then remembered).

    The key: network, batch size, optimizer, precision and device; kept for the life of the process."""
    tr.check_trainable(spec, num_classes)
    return _measured(*_key(spec, config, num_classes))


def known_batch_seconds(spec: Spec, config: TrainConfig, num_classes: int = 10) -> float | None:
    """`batch_seconds` if it was measured already, else None (nothing is run)."""
    tr.check_trainable(spec, num_classes)
    return _measured.peek(*_key(spec, config, num_classes))


def run_seconds(spec: Spec, config: TrainConfig, n_train: int, num_classes: int = 10,
                per_batch: float | None = None, measure: bool = True) -> float | None:
    """How long the run will train here: its batches x `per_batch` (default: `batch_seconds`, measured; None when
    measure=False and it was not measured yet)."""
    if per_batch is None:
        per_batch = (batch_seconds if measure else known_batch_seconds)(spec, config, num_classes)
    per = per_batch
    return None if per is None else trainconfig.total_batches(n_train, config) * per


def verdict(spec: Spec, config: TrainConfig, n_train: int, n_test: int, num_classes: int = 10,
            free_bytes: int | None = None, limit_seconds: float | None = None, measure: bool = True) -> budget.Verdict:
    """Does the run fit? Memory first, by arithmetic, then the measured time: the one estimate both pages show.

    Nothing is built for a network too big. A network that is not a 28x28 classifier of `num_classes` gets no
    time (there is no run to time); measure=False gives no time either until it has been measured."""
    est = budget.for_run(spec, config, n_train, n_test)
    memory = budget.check(replace(est, seconds=None), free_bytes, math.inf)
    try:
        tr.check_trainable(spec, num_classes)
    except ValueError:
        return memory
    if not memory.ok:
        return memory
    return budget.check(replace(est, seconds=run_seconds(spec, config, n_train, num_classes, measure=measure)),
                        free_bytes, limit_seconds)


def require(spec: Spec, config: TrainConfig, n_train: int, n_test: int, num_classes: int = 10) -> budget.Verdict:
    """`verdict`, raising ValueError with its message when the run does not fit (the trainer, before building)."""
    fits = verdict(spec, config, n_train, n_test, num_classes)
    if not fits.ok:
        raise ValueError(fits.message)
    return fits


def default_run(spec: Spec, free_bytes: int | None = None, measure: bool = True) -> budget.Verdict:
    """`verdict` for the run the trainer starts from (TrainConfig() on all of MNIST): the calculator's estimate.

    No time limit here (the trainer's epochs can be lowered); the trainer then shows the same number.
    measure=False: no batches are run now (the time is in it once measured, see `default_pending`)."""
    config = TrainConfig()
    return verdict(spec, config, data.SIZES["train"], data.SIZES["test"], free_bytes=free_bytes,
                   limit_seconds=math.inf, measure=measure)


def default_pending(spec: Spec, free_bytes: int | None = None) -> bool:
    """True while the default run's time is still to be measured: a trainable network that fits in memory.

    On a cold server the first measurement costs about a second (the
    first batches set up oneDNN): the calculator shows its page first and measures in the background."""
    fits = default_run(spec, free_bytes, measure=False)
    if not fits.ok or fits.estimate.seconds is not None:
        return False
    try:
        tr.check_trainable(spec)
    except ValueError:
        return False
    return True
