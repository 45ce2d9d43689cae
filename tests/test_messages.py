"""cnnviz.messages: no absolute server path reaches a visitor."""
from __future__ import annotations

import pytest
from PIL import Image

from cnnviz.messages import no_paths


@pytest.mark.parametrize("text, shown", [
    ("cannot identify image file '/home/teacher/cnnviz/data/own/x/a.png'", "cannot identify image file 'a.png'"),
    ("[Errno 13] Permission denied: '/srv/app/checkpoints/user/m'", "[Errno 13] Permission denied: 'm'"),
    (r"[WinError 5] Access is denied: 'C:\Users\t\cnnviz\ck\m'", "[WinError 5] Access is denied: 'm'"),
    ("see ~/cnnviz/data and /tmp/x/", "see data and x"),
    ("batch 3/10 at 2.5 img/s, 1/2 done", "batch 3/10 at 2.5 img/s, 1/2 done"),  # fractions are not paths
    ("shape 16/32 and a/b stay", "shape 16/32 and a/b stay"),
])
def test_absolute_paths_are_cut_to_their_last_part(text, shown):
    assert no_paths(text) == shown


def test_a_real_pillow_error_loses_its_folder(tmp_path):
    bad = tmp_path / "deep" / "folder" / "broken.png"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a picture")
    with pytest.raises(OSError) as err:
        Image.open(bad)
    assert str(tmp_path) in str(err.value) and str(tmp_path) not in no_paths(err.value)
    assert "broken.png" in no_paths(err.value)


def test_a_failed_training_run_shows_no_server_path(tmp_path):
    from cnnviz.runner import Runner

    def work(on_progress, stop):
        raise OSError(28, "No space left on device", str(tmp_path / "x" / "run.tmp"))
    runner = Runner(work).start()
    runner.stop(timeout=10)
    snap = runner.snapshot()
    assert snap.state == "failed" and "run.tmp" in snap.message and str(tmp_path) not in snap.message
