"""Training scripts under a real 2-process torchrun, against the same runs in one process."""

import csv
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from kinema.models.gif2video import CCDNet
from kinema.train.distributed import Replica
from tests.media import smooth


def _train(data, out, *, processes: int) -> subprocess.CompletedProcess:
    script = ["-m", "kinema.train.run_gif2video", "ccdnet", "--tiny", "--data", str(data), "--sources", "photos", "--held-out", "photos",
              "--out", str(out), "--steps", "6", "--batch", "4", "--eval-every", "1", "--crop", "32", "--threads", "1"]  # fmt: skip
    launcher = [sys.executable] if processes == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    return subprocess.run(launcher + script, capture_output=True, text=True, timeout=300)


def test_torchrun_two_processes_match_one_process_on_the_same_global_batch(tmp_path):
    photos = tmp_path / "data" / "photos"
    photos.mkdir(parents=True)
    for i in range(3):
        Image.fromarray(smooth(5 * i, 72, 96)).save(photos / f"p{i}.png")
    runs = {}
    for processes in (1, 2):
        done = _train(tmp_path / "data", tmp_path / f"run{processes}", processes=processes)
        assert done.returncode == 0, done.stderr[-3000:]
        with open(tmp_path / f"run{processes}" / "log.csv") as handle:
            runs[processes] = [float(row["loss"]) for row in csv.DictReader(handle)]
    assert len(runs[1]) == len(runs[2]) == 6
    assert runs[1][0] != runs[1][-1]  # it trained
    np.testing.assert_allclose(runs[2], runs[1], rtol=1e-5)
    one, _ = CCDNet.load(tmp_path / "run1" / "ccdnet.safetensors")
    two, meta = CCDNet.load(tmp_path / "run2" / "ccdnet.safetensors")
    for (name, a), b in zip(one.state_dict().items(), two.state_dict().values()):
        np.testing.assert_allclose(b.numpy(), a.numpy(), atol=1e-5, err_msg=name)


@pytest.mark.parametrize("what", ["interp", "snapshot", "snapshot-decoder"])
def test_training_loops_under_torchrun_match_one_process(tmp_path, what):
    """The interpolator's loop (with guide presets picked by global sample index) and the
    snapshot loop (both stages; JPEG drawn per batch) on synthetic data."""
    losses = {}
    for processes in (1, 2):
        launcher = [sys.executable] if processes == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
        done = subprocess.run(launcher + ["-m", "tests.train.ranks", what, str(tmp_path / f"run{processes}")], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        with open(tmp_path / f"run{processes}" / "log.csv") as handle:
            losses[processes] = [float(row["loss"]) for row in csv.DictReader(handle)]
    assert len(losses[1]) == 4 and losses[1][0] != losses[1][-1]
    np.testing.assert_allclose(losses[2], losses[1], rtol=1e-5)


def test_shares_split_the_global_batch_evenly():
    assert [Replica(r, 2).share(8) for r in range(2)] == [slice(0, 4), slice(4, 8)]
    with pytest.raises(ValueError, match="divide evenly"):
        Replica(0, 3).share(8)
