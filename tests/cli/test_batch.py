"""``kinema batch`` as a user meets it."""

import json

from PIL import Image

from kinema.io.probe import probe
from tests.cli.test_main import one_error_line, run
from tests.media import make_video, smooth


def test_gifs_and_snapshots_through_the_command(tmp_path, capsys):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    for k, name in enumerate(("a.gif", "sub/b.gif")):
        frames = [Image.fromarray(smooth(i + 5 * k, 48, 64)).quantize(32) for i in range(6)]
        frames[0].save(src / name, save_all=True, append_images=frames[1:], duration=80, loop=0)
    make_video(src / "c.mp4", 6, size=(48, 64))
    code, _, err = run(capsys, "batch", "gif2video", src, tmp_path / "gifs", "--workers", 1, "--factor", 2, "--engine", "classical", "-q")
    assert code == 0 and "batch: 2 done, 0 already complete, 0 failed" in err
    rows = [json.loads(line) for line in (tmp_path / "gifs" / "kinema-batch.jsonl").read_text().splitlines()]
    assert sorted(r["output"].rsplit("gifs/", 1)[1] for r in rows) == ["a.mp4", "sub/b.mp4"]
    assert all(r["frames_out"] == 12 for r in rows)
    code, _, err = run(capsys, "batch", "snapshot-embed", src, tmp_path / "snaps", "--workers", 1, "--refine", 0, "-q")
    assert code == 0 and "3 done" in err  # GIFs are clips too
    assert all((tmp_path / "snaps" / name).is_file() for name in ("c.png", "a.png", "sub/b.png"))


def test_failures_are_listed_after_the_summary(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    make_video(src / "good.mp4", 3, size=(16, 16))
    (src / "bad.mp4").write_bytes(b"not a video")
    code, _, err = run(capsys, "batch", "convert", src, tmp_path / "out", "--workers", 1, "-q")
    lines = err.strip().splitlines()
    assert code == 1 and "1 done, 0 already complete, 1 failed" in lines[0]
    assert lines[1:] == [f"  failed: {(src / 'bad.mp4').resolve()}: not a readable video (Invalid data found when processing input)"]


def test_usage_errors_are_one_line(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    code, _, err = run(capsys, "batch", "convert", src, tmp_path / "out", "--to", "xyz")
    assert code == 2 and one_error_line(err) and "unknown output format '.xyz'" in err
    code, _, err = run(capsys, "batch", "convert", src, tmp_path / "out", "--address", "auto")
    assert code == 2 and "--address needs --ray" in err
    code, _, err = run(capsys, "batch", "convert", src, tmp_path / "out")
    assert code == 1 and one_error_line(err) and "no input files found" in err
    code, _, err = run(capsys, "batch", "convert", src, src / "out")
    assert code == 1 and "must not contain each other" in err


def test_an_image_sequence_folder_is_one_input(tmp_path, capsys):
    shot = tmp_path / "in" / "shot"
    shot.mkdir(parents=True)
    for i in range(5):
        Image.fromarray(smooth(i, 32, 48)).save(shot / f"{i:04d}.png")
    code, _, err = run(capsys, "batch", "interpolate", tmp_path / "in", tmp_path / "out", "--factor", 2, "--engine", "classical",
                       "--source-fps", 12, "--workers", 1, "-q")  # fmt: skip
    assert code == 0 and "1 done" in err
    info = probe(tmp_path / "out" / "shot.mp4")
    assert info.frame_count == 10 and info.fps == 24


def test_batch_interpolate_adapts_each_video_and_keeps_the_weight_file(tmp_path, capsys):
    from tests.cli.test_main import _tiny_weights

    src = tmp_path / "in"
    src.mkdir()
    for i in range(2):
        make_video(src / f"v{i}.mp4", 8, size=(36, 50), images=[smooth(i + k, 36, 50) for k in range(8)])
    weights = _tiny_weights(tmp_path / "w.safetensors")
    before = weights.read_bytes()
    args = ["batch", "interpolate", src, tmp_path / "out", "--factor", "2", "--weights", weights, "--workers", "1", "-q"]
    code, _, err = run(capsys, *args, "--adapt", "2")
    assert code == 0, err
    assert [probe(tmp_path / "out" / f"v{i}.mp4").frame_count for i in range(2)] == [16, 16]
    assert weights.read_bytes() == before
    for extra, message in ((["--adapt", "2", "--chunk-frames", "4"], "--chunk-frames"), (["--adapt", "2", "--engine", "classical"], "--engine learned")):
        code, _, err = run(capsys, *[a for a in args if a not in ("--weights", weights)], *extra, "-y")
        assert code == 2 and message in one_error_line(err), err
