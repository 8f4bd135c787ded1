"""``kinema vsae`` as a user meets it."""

from PIL import Image

from kinema.io.probe import probe
from tests.cli.test_main import one_error_line, run
from tests.media import make_video, smooth


def test_fit_then_map_summary_loop_retime(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 16, size=(24, 32), images=[smooth(i, 24, 32) for i in range(16)])
    model = tmp_path / "a.safetensors"
    code, _, err = run(capsys, "vsae", "fit", src, model, "--epochs", 3, "--width", 4, "-q")
    assert code == 0 and "16 frames at 32x24, 6 steps (3 epochs)" in err and "reconstruction" in err
    code, _, err = run(capsys, "vsae", "map", model, src, tmp_path / "map.png", "--clusters", 2)
    assert code == 0 and "and 2 cluster sheets: 16 frames" in err
    assert Image.open(tmp_path / "map-cluster-2.png").format == "PNG"
    code, _, err = run(capsys, "vsae", "summary", model, src, tmp_path / "s.png", "--segments", 2)
    assert code == 0 and "2 summaries" in err
    code, _, err = run(capsys, "vsae", "loop", model, src, tmp_path / "loop.mp4", "--seconds", 1, "--min-gap", 4, "-q")
    assert code == 0 and probe(tmp_path / "loop.mp4").frame_count == 25
    code, _, err = run(capsys, "vsae", "retime", model, src, tmp_path / "x4.mp4", "--factor", 4, "-q")
    assert code == 0 and probe(tmp_path / "x4.mp4").frame_count == 64


def test_errors_are_one_line(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 8, size=(24, 32))
    other = make_video(tmp_path / "b.mp4", 8, size=(24, 32), images=[smooth(i + 5, 24, 32) for i in range(8)])
    model = tmp_path / "a.safetensors"
    code, _, err = run(capsys, "vsae", "fit", src, model, "--epochs", 1, "--width", 4, "-q")
    assert code == 0
    code, _, err = run(capsys, "vsae", "retime", model, other, tmp_path / "o.mp4", "--factor", 2)
    assert code == 1 and "was fit on a.mp4" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "fit", src, tmp_path / "m.pt")
    assert code == 1 and "written as .safetensors" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "map", src, src, tmp_path / "m.png")
    assert code == 1 and one_error_line(err)  # a video is not a model
    code, _, err = run(capsys, "vsae", "loop", model, src, tmp_path / "l.mp4", "--seconds", 0)
    assert code == 2 and "seconds must be positive" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "map", model, src, tmp_path / "m.jpg")
    assert code == 1 and "written as .png" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "map", model, src, tmp_path / "m.png", "--clusters", 9)
    assert code == 1 and "cannot make 9 clusters of 8 frames" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "summary", model, src, tmp_path / "m.png", "--segments", 0)
    assert code == 2 and "--segments must be ≥ 1" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "fit", src, tmp_path / "m.safetensors", "--device", "cuda")
    assert code == 2 and "--device" in one_error_line(err)


def test_upscale_small_frames_and_refuse_the_wrong_size(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 8, size=(24, 32), images=[smooth(i, 24, 32) for i in range(8)])
    model = tmp_path / "a.safetensors"
    code, _, err = run(capsys, "vsae", "fit", src, model, "--epochs", 2, "--width", 4, "--multi-res", "-q")
    assert code == 0
    small = make_video(tmp_path / "small.mp4", 3, size=(6, 8))
    code, _, err = run(capsys, "vsae", "upscale", model, small, tmp_path / "big.mp4", "--scale", 4, "--reproject", 1, "-q")
    assert code == 0 and "3 frames at 32x24 (4x)" in err
    info = probe(tmp_path / "big.mp4")
    assert (info.width, info.height, info.frame_count) == (32, 24, 3)
    code, _, err = run(capsys, "vsae", "upscale", model, small, tmp_path / "big2.mp4", "--scale", 2)
    assert code == 1 and "2x upscaling needs frames of 16x12, got 8x6" in one_error_line(err)
    assert not (tmp_path / "big2.mp4").exists()
    code, _, err = run(capsys, "vsae", "upscale", model, small, tmp_path / "big3.mp4", "--scale", 0)
    assert code == 2 and "scale must be ≥ 1" in one_error_line(err)
