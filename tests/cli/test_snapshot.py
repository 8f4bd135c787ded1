"""``kinema snapshot`` as a user meets it."""

import torch
from PIL import Image

from kinema.io.probe import probe
from kinema.models.snapshot import SnapshotConfig, SnapshotNet
from tests.cli.test_main import one_error_line, run
from tests.media import make_video, smooth


def _models(folder):
    folder.mkdir()
    torch.manual_seed(0)
    SnapshotNet(SnapshotConfig.tiny(frames=5)).save(folder / "snapshot-5.safetensors")
    SnapshotNet(SnapshotConfig.tiny(frames=5, jpeg_robust=True)).save(folder / "snapshot-5-jpeg.safetensors")
    return folder


def test_embed_expand_preview(tmp_path, capsys):
    models = _models(tmp_path / "w")
    src = make_video(tmp_path / "a.mp4", 12, size=(24, 32), images=[smooth(i, 24, 32) for i in range(12)])
    code, _, err = run(capsys, "snapshot", "embed", src, tmp_path / "s.png", "--start", 2, "--models", models)
    assert code == 0 and "5 frames from 2 every 1 in one 32x24 picture" in err
    code, _, err = run(capsys, "snapshot", "expand", tmp_path / "s.png", tmp_path / "s.mp4", "--factor", 2, "--engine", "classical", "--models", models, "-q")
    assert code == 0 and probe(tmp_path / "s.mp4").frame_count == 9
    code, _, err = run(capsys, "snapshot", "embed", src, tmp_path / "s.jpg", "--models", models)
    assert code == 0 and "snapshot-5-jpeg" in err  # a .jpg output picks the JPEG-robust weights
    code, _, err = run(capsys, "snapshot", "preview", src, tmp_path / "p.png", "--count", 2, "--stride", 1, "--models", models, "-q")
    assert code == 0 and "2 snapshots in a 64x24 sheet" in err


def test_errors_are_one_line(tmp_path, capsys):
    models = _models(tmp_path / "w")
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    code, _, err = run(capsys, "snapshot", "expand", tmp_path / "plain.png", tmp_path / "o.mp4", "--models", models)
    assert code == 1 and "no kinema snapshot metadata" in one_error_line(err)
    src = make_video(tmp_path / "a.mp4", 4, size=(16, 16))
    code, _, err = run(capsys, "snapshot", "embed", src, tmp_path / "s.png", "--models", models)
    assert code == 1 and "read only 4" in one_error_line(err)
    code, _, err = run(capsys, "snapshot", "embed", src, tmp_path / "s.png", "--frames", 9, "--models", models)
    assert code == 1 and "no snapshot weights named 'snapshot-9'" in one_error_line(err)
    code, _, err = run(capsys, "snapshot", "embed", src, tmp_path / "s.gif", "--models", models)
    assert code == 1 and ".png (lossless) or .jpg" in one_error_line(err)
    code, _, err = run(capsys, "snapshot", "embed", src, tmp_path / "s.png", "--stride", 0, "--models", models)
    assert code == 2 and "stride" in one_error_line(err)
    assert not list(tmp_path.glob("s.*"))


def test_a_snapshot_resaved_without_its_metadata_can_still_be_expanded(tmp_path, capsys):
    models = _models(tmp_path / "w")
    src = make_video(tmp_path / "a.mp4", 12, size=(24, 32), images=[smooth(i, 24, 32) for i in range(12)])
    assert run(capsys, "snapshot", "embed", src, tmp_path / "s.jpg", "--models", models, "--refine", 0)[0] == 0
    with Image.open(tmp_path / "s.jpg") as picture:  # another program keeps the pixels, not the comment
        Image.frombytes("RGB", picture.size, picture.convert("RGB").tobytes()).save(tmp_path / "resaved.jpg", quality=95)
    args = ["snapshot", "expand", tmp_path / "resaved.jpg", tmp_path / "o.mp4", "--models", models, "--factor", 1, "-q"]
    code, _, err = run(capsys, *args)
    assert code == 1 and "pass --frames K" in one_error_line(err)
    code, _, err = run(capsys, *args, "--frames", 5, "--jpeg-robust")
    assert code == 0, err
    assert probe(tmp_path / "o.mp4").frame_count == 5
    code, _, err = run(capsys, *args, "--frames", 7)
    assert code == 2 and "--frames must be one of 5, 9" in one_error_line(err)
