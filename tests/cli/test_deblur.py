"""``kinema deblur`` and ``interpolate --deblur`` as a user meets them (tiny networks)."""

from tests.cli.test_main import one_error_line, run
from tests.media import make_video
from tests.pipelines.test_deblur import frames_of, tiny_weights


def test_deblur_and_interpolate_deblur_run_and_report(tmp_path, capsys):
    clip = make_video(tmp_path / "in.mp4", 8)
    weights = tiny_weights(tmp_path / "d.safetensors")
    code, _, err = run(capsys, "deblur", clip, tmp_path / "out.mp4", "--deblur-weights", weights)
    assert code == 0 and "wrote" in err and len(frames_of(tmp_path / "out.mp4")) == 8
    code, _, err = run(capsys, "deblur", clip, tmp_path / "auto.mp4", "--deblur-weights", weights, "--auto")
    assert code == 0 and "blur check on 3 frames" in err and "deblurring" in err
    code, _, err = run(capsys, "interpolate", clip, tmp_path / "x2.mp4", "--factor", "2", "--engine", "classical", "--deblur", "on", "--deblur-weights", weights)
    assert code == 0 and "source frames deblurred" in err and len(frames_of(tmp_path / "x2.mp4")) == 16


def test_deblur_refuses_bad_input_and_bad_options(tmp_path, capsys):
    clip = make_video(tmp_path / "in.mp4", 4)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00" * 500)
    weights = tiny_weights(tmp_path / "d.safetensors")
    code, _, err = run(capsys, "deblur", garbage, tmp_path / "o.mp4", "--deblur-weights", weights)
    assert code == 1 and "garbage.mp4" in one_error_line(err)
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(weights.read_bytes()[:-100])
    code, _, err = run(capsys, "deblur", clip, tmp_path / "o.mp4", "--deblur-weights", damaged)
    assert code == 1 and "damaged.safetensors" in one_error_line(err)
    assert not (tmp_path / "o.mp4").exists()
    code, _, err = run(capsys, "interpolate", clip, tmp_path / "o.mp4", "--factor", "2", "--deblur", "maybe")
    assert code == 2 and "--deblur" in err
    code, _, err = run(capsys, "deblur", clip, clip, "-y", "--deblur-weights", weights)
    assert code == 1 and one_error_line(err)
