"""``run_gif ccdnet --init``: a fine-tune names its starting weights by digest, so the
record stays true after the starting file is replaced (as shipped weights are)."""

import subprocess
import sys

from PIL import Image

from benchmarks.gif2video import recipe
from kinema.models.checkpoint import tensor_digest
from kinema.models.gif2video import CCDNet
from tests.media import smooth


def _run(data, out, *extra) -> None:
    args = [sys.executable, "-m", "kinema.train.run_gif2video", "ccdnet", "--tiny", "--data", str(data), "--sources", "photos", "--held-out", "photos",
            "--out", str(out), "--steps", "2", "--batch", "2", "--eval-every", "1", "--crop", "32", "--threads", "1", *extra]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def test_fine_tune_records_the_digest_of_its_initial_weights(tmp_path):
    photos = tmp_path / "data" / "photos"
    photos.mkdir(parents=True)
    for i in range(2):
        Image.fromarray(smooth(3 * i, 48, 64)).save(photos / f"p{i}.png")
    _run(tmp_path / "data", tmp_path / "first")
    start = tmp_path / "first" / "ccdnet.safetensors"
    _run(tmp_path / "data", tmp_path / "second", "--init", str(start), "--colors", "64")
    first, first_meta = CCDNet.load(start)
    second, meta = CCDNet.load(tmp_path / "second" / "ccdnet.safetensors")
    assert first_meta["init_sha256"] is None
    assert meta["init_sha256"] == tensor_digest(first.state_dict())
    assert second.config.colors == 64
    # The benchmark's row label names the starting weights by that digest, whatever the path now holds.
    label = recipe(second, meta, {meta["init_sha256"]: "runs/the-start"})
    assert label.startswith("2 steps from `runs/the-start`")
    assert f"(tensors {meta['init_sha256'][:12]})" in recipe(second, meta, {})
