"""cnnviz.checkpoints under SIGKILL and concurrent saves: a name holds a whole model or none, never a mix.

Children are forked from this test process (torch already imported, models already built), so each of
the many kills costs milliseconds, not a fresh interpreter.
"""
from __future__ import annotations

import os
import random
import select
import signal
import threading
import time

import pytest
import torch

from cnnviz import checkpoints as ck
from cnnviz import store
from cnnviz.arch import PRESETS, build

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytest.fixture(autouse=True)
def user_dir(tmp_path, monkeypatch):
    folder = tmp_path / "user"
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(folder))
    return folder


def _pair(seed: int, name: str = "m") -> tuple[torch.nn.Module, dict]:
    """A small model and its card; the card's fingerprint says which weights belong to it."""
    torch.manual_seed(seed)
    model = build(PRESETS["logistic"])
    card = {"name": name, "spec": PRESETS["logistic"].to_json(), "dataset": "mnist",
            "normalize": [0.1307, 0.3081], "test_accuracy": 50.0, "seed": seed, "fingerprint": _print(model)}
    return model, card


def _print(model: torch.nn.Module) -> float:
    return round(float(sum(p.detach().double().sum() for p in model.parameters())), 6)


def _check_whole(name: str, seeds: set[int]) -> int:
    """Load `name`; its weights must be the ones its card describes. Returns the seed it holds."""
    model, card = ck.load(name)
    assert card.config.seed in seeds and card.name == name
    assert _print(model) == pytest.approx(card.extra["fingerprint"], abs=1e-4), "weights of one save, card of another"
    return card.config.seed


def _fork(work) -> int:
    pid = os.fork()
    if pid == 0:  # the child: save until killed, never return into pytest
        try:
            work()
        finally:
            os._exit(0)
    return pid


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _hidden(folder) -> list[str]:
    """Hidden entries left in the folder (a kill before the first save made it leaves no folder at all)."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")] if folder.exists() else []


def _read_bytes(fd: int, count: int, timeout: float = 60.0) -> None:
    """Read `count` bytes from a pipe; fail (not hang) if the child stops reporting."""
    deadline = time.monotonic() + timeout
    while count:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, "the saving child stopped reporting"
        count -= len(os.read(fd, count))


@pytest.mark.slow
def test_sigkill_at_random_moments_while_saving_over_a_name(user_dir):
    """The child reports each finished save; the kill comes after a random number of them (0-2), then a
    random moment inside the next. Counting saves, not guessing their time, keeps both outcomes (killed
    before or after a swap) in the test on any machine: a forked child's first save is 2-3x slower than
    the warm ones measured here, and on CI every kill once landed before it."""
    pairs = {seed: _pair(seed) for seed in (1, 2)}
    t0 = time.perf_counter()
    for seed in (2, 1, 2, 1):
        ck.save(*pairs[seed], overwrite=True)
    one_save = (time.perf_counter() - t0) / 4
    rng = random.Random(13)
    held = []
    for round_ in range(60):
        ready_r, ready_w = os.pipe()

        def work(round_=round_, ready_w=ready_w):
            i = round_
            while True:
                os.write(ready_w, b"x")  # ready, then one byte per finished save
                ck.save(*pairs[1 + i % 2], overwrite=True)
                i += 1
        pid = _fork(work)
        os.close(ready_w)
        _read_bytes(ready_r, 1 + rng.randrange(3))
        time.sleep(rng.uniform(0.0, 3 * one_save))
        _kill(pid)
        os.close(ready_r)
        assert ck.available()[-1] == "m", f"round {round_}: the name vanished"  # listing also cleans up
        held.append(_check_whole("m", {1, 2}))
        assert _hidden(user_dir) == [], f"round {round_}: leftovers {_hidden(user_dir)}"
    assert set(held) == {1, 2}, held  # the kills landed both before and after a swap


@pytest.mark.parametrize("step", [1, 2])
def test_sigkill_right_after_each_rename_of_a_swap(user_dir, monkeypatch, step):
    """Deterministic: die right after the 1st rename (old moved away) or the 2nd (new in)."""
    old, new = _pair(1), _pair(2)
    ck.save(*old)

    def work():
        calls = [0]
        real = os.rename

        def rename(src, dst):
            real(src, dst)
            calls[0] += 1
            if calls[0] == step:
                os.kill(os.getpid(), signal.SIGKILL)
        monkeypatch.setattr(os, "rename", rename)
        ck.save(*new, overwrite=True)
    os.waitpid(_fork(work), 0)
    assert "m" in ck.available()
    assert _check_whole("m", {1, 2}) == (1 if step == 1 else 2)  # killed mid-swap: the old model is back
    assert _hidden(user_dir) == []


def test_sigkill_while_saving_a_new_name_lists_nothing_half_made(user_dir):
    model, card = _pair(3, "fresh")
    rng = random.Random(7)
    for _ in range(15):
        def work():
            while True:
                ck.save(model, dict(card))
        pid = _fork(work)
        time.sleep(rng.uniform(0.0, 0.03))
        _kill(pid)
        for name in ck.available():
            if name.startswith("fresh"):
                _check_whole(name, {3})
        assert _hidden(user_dir) == []


def test_two_processes_saving_one_default_name_lose_nothing(user_dir):
    rounds = 15
    pairs = [_pair(10 + i) for i in range(2)]
    start = time.time() + 0.5  # both children start saving at the same moment

    def work(i):
        def run():
            time.sleep(max(0.0, start - time.time()))
            for _ in range(rounds):
                ck.save(*pairs[i])
        return run
    pids = [_fork(work(i)) for i in range(2)]
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    names = [n for n in ck.available() if n == "m" or n.startswith("m-")]
    assert len(names) == 2 * rounds  # every save kept, each in its own folder
    seeds = [_check_whole(n, {10, 11}) for n in names]
    assert seeds.count(10) == seeds.count(11) == rounds


def test_threads_saving_one_default_name_lose_nothing(user_dir):
    pairs = [_pair(20 + i) for i in range(4)]
    barrier = threading.Barrier(4)
    folders, errors = [], []

    def run(i):
        barrier.wait()
        try:
            for _ in range(5):
                folders.append(ck.save(*pairs[i]).name)
        except Exception as err:  # noqa: BLE001  (reported by the assertion below)
            errors.append(err)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(set(folders)) == 20
    assert sorted(folders) == sorted(n for n in ck.available() if n == "m" or n.startswith("m-"))
    for name in folders:
        _check_whole(name, {20, 21, 22, 23})


def test_a_stale_temporary_folder_of_a_dead_saver_is_removed_and_never_listed(user_dir):
    ck.save(*_pair(1))
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    leftover = user_dir / f"{store.TEMP}{store.HOST}-{dead}-abc-m"
    leftover.mkdir()
    (leftover / ck.CARD).write_text("{}")
    live = user_dir / f"{store.TEMP}{store.HOST}-{os.getpid()}-abc-m"  # a save still running here
    live.mkdir()
    assert ck.available()[-1] == "m"
    assert not leftover.exists() and live.exists()
    os.utime(live, (time.time() - store.STALE_SECONDS - 1,) * 2)  # any save this old has died
    ck.available()
    assert not live.exists()
