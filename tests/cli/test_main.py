"""The CLI as a user meets it: one line on stderr and a non-zero exit for every bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

from kinema.cli import main
from tests.media import make_gif, make_png_sequence, make_video, make_zero_frame_video


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("kinema: error: ")
    return lines[0]


def test_info_text_and_json(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 10, audio=True)
    code, out, _ = run(capsys, "info", src)
    assert code == 0 and "frames     10" in out and "aac" in out
    code, out, _ = run(capsys, "info", src, "--json")
    data = json.loads(out)
    assert code == 0 and data["frames"] == 10 and data["fps"]["exact"] == "25/1" and data["audio"]["codec"] == "aac"
    assert data["vfr"] is False and data["alpha"] is False


def test_convert_writes_output_and_reports(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 5)
    code, _, err = run(capsys, "convert", src, tmp_path / "o.gif", "--colors", "64", "--no-dither")
    assert code == 0 and (tmp_path / "o.gif").is_file() and "5 frames" in err


def _truncated(tmp_path):
    data = make_video(tmp_path / "full.mp4", 30).read_bytes()
    (tmp_path / "trunc.mp4").write_bytes(data[: len(data) // 2])
    return tmp_path / "trunc.mp4"


def _corrupt(tmp_path):
    (tmp_path / "corrupt.mp4").write_bytes(np.random.default_rng(0).bytes(4096))
    return tmp_path / "corrupt.mp4"


def _empty(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    return tmp_path / "empty.mp4"


def _zero_frames(tmp_path):
    return make_zero_frame_video(tmp_path / "zero.mp4")


BAD_INPUTS = {
    "missing": (lambda p: p / "nope.mp4", "no such file"),
    "empty": (_empty, "empty"),
    "truncated": (_truncated, "not a readable video"),
    "corrupt": (_corrupt, "not a readable video"),
    "zero frames": (_zero_frames, "no video"),
    "empty folder": (lambda p: (p / "d").mkdir() or p / "d", "no images"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_get_one_line_and_exit_1(tmp_path, capsys, case):
    make, message = BAD_INPUTS[case]
    src = make(tmp_path)
    for args in (("info", src), ("convert", src, tmp_path / "out.mp4")):
        code, _, err = run(capsys, *args)
        assert code == 1 and message in one_error_line(err)
    assert not (tmp_path / "out.mp4").exists()


def test_bad_outputs_and_options(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 3)
    (tmp_path / "exists.mp4").write_bytes(b"x")
    cases = [
        (("convert", src, src, "--overwrite"), 1, "overwrite the input"),
        (("convert", src, tmp_path / "exists.mp4"), 1, "--overwrite"),
        (("convert", src, tmp_path / "o.xyz"), 1, "unknown output format"),
        (("convert", src, tmp_path / "o.webm"), 1, "unknown output format"),
        (("convert", src, tmp_path / "o.mp4", "--codec", "ffv1"), 1, "cannot be written to .mp4"),
        (("convert", src, tmp_path / "o.mp4", "--crf", "99"), 2, "crf"),
        (("convert", src, tmp_path / "o.mp4", "--crf", "70"), 2, "crf"),
        (("convert", src, tmp_path / "o.mp4", "--preset", "warp9"), 2, "preset"),
        (("convert", src, tmp_path / "o.gif", "--colors", "1"), 2, "colours"),
        (("convert", src, tmp_path / "o", "--bit-depth", "12"), 2, "bit depth"),
        (("convert", src, tmp_path / "o.gif", "--loop", "-5"), 2, "loop"),
        (("convert", src, tmp_path / "o.mp4", "--source-fps", "abc"), 2, "frame rate"),
        (("gif2video", src, tmp_path / "o.mp4", "--fps", "abc"), 2, "frame rate"),
        (("convert", src, tmp_path / "o.mp4", "--crf", "abc"), 2, "--crf"),
        (("convert", src, tmp_path / "o.mp4", "--codec", "xvid"), 2, "--codec"),
        (("convert", src), 2, "Missing argument 'output'"),
        (("frobnicate",), 2, "frobnicate"),
        (("info", tmp_path, "--source-fps", "abc"), 2, "frame rate"),
        (("batch", "convert", tmp_path, tmp_path / "b", "--workers", "0"), 2, "--workers must be ≥ 1"),
    ]
    for args, want, message in cases:
        code, _, err = run(capsys, *args)
        assert code == want and message in one_error_line(err), (args, err)
    assert (tmp_path / "exists.mp4").read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "exists.mp4"]


def test_odd_sizes_one_frame_16bit_and_rgba_gif(tmp_path, capsys):
    odd = make_video(tmp_path / "odd.mkv", 2, size=(7, 5), codec="ffv1", pix_fmt="bgr0")
    assert run(capsys, "convert", odd, tmp_path / "odd.mp4")[0] == 0
    code, _, err = run(capsys, "convert", odd, tmp_path / "odd2.mp4", "--odd-size", "error")
    assert code == 1 and "odd" in one_error_line(err)
    one = make_video(tmp_path / "one.mp4", 1)
    assert run(capsys, "convert", one, tmp_path / "one.gif")[0] == 0
    seq16 = make_png_sequence(tmp_path / "seq16", 3, bit_depth=16)
    code, out, _ = run(capsys, "info", seq16)
    assert code == 0 and "16-bit" in out
    assert run(capsys, "convert", seq16, tmp_path / "l16.mkv", "--codec", "ffv1")[0] == 0
    rgba = make_gif(tmp_path / "t.gif", [100, 100], transparent=True)
    code, out, _ = run(capsys, "info", rgba)
    assert code == 0 and "alpha" in out and "no alpha" not in out
    assert run(capsys, "convert", rgba, tmp_path / "t.mp4")[0] == 0  # composited on black


def test_console_script_runs(tmp_path):
    src = make_video(tmp_path / "a.mp4", 2)
    proc = subprocess.run([sys.executable, "-m", "kinema.cli", "info", str(src), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0 and json.loads(proc.stdout)["frames"] == 2


def test_interpolate_classical_end_to_end(tmp_path, capsys):
    clip = make_video(tmp_path / "in.mp4", 6, size=(36, 50))
    code, _, err = run(capsys, "interpolate", str(clip), str(tmp_path / "out.mp4"), "--factor", "2", "--engine", "classical", "-q")
    assert code == 0, err
    from kinema.io.probe import probe

    info = probe(tmp_path / "out.mp4")
    assert info.frame_count == 12 and info.fps == 50
    code, _, err = run(capsys, "interpolate", str(clip), str(tmp_path / "out.mp4"), "--factor", "2", "--engine", "classical", "-q", "-y", "--profile")
    assert code == 0 and err.startswith("profile: decode ") and "engine" in err and err.count("\n") == 1


def _tiny_weights(path):
    import torch

    from kinema.models.interp import InterpConfig, InterpNet

    torch.manual_seed(0)
    return InterpNet(InterpConfig.tiny()).save(path)


def test_interpolate_learned_with_own_weights_and_adaptation(tmp_path, capsys):
    from kinema.io.probe import probe
    from tests.media import smooth

    clip = make_video(tmp_path / "in.mp4", 8, size=(36, 50), images=[smooth(i, 36, 50) for i in range(8)])
    weights = _tiny_weights(tmp_path / "w.safetensors")
    before = weights.read_bytes()
    args = ["interpolate", str(clip), str(tmp_path / "out.mp4"), "--factor", "2", "--engine", "learned", "--weights", str(weights)]
    code, _, err = run(capsys, *args, "--adapt", "2", "-q")
    assert code == 0, err
    assert probe(tmp_path / "out.mp4").frame_count == 16
    assert weights.read_bytes() == before  # adaptation never writes the weight file


@pytest.mark.parametrize(
    "options, code, message",
    [
        (["--engine", "classical", "--adapt", "5"], 2, "--adapt needs --engine learned"),
        (["--engine", "learned", "--adapt", "-1"], 2, "steps must be ≥ 0"),
        (["--engine", "classical", "--weights", "w.safetensors"], 2, "--weights applies"),
        (["--engine", "learned", "--weights", "missing.safetensors"], 1, "no such weight file"),
    ],
)
def test_learned_engine_option_errors(tmp_path, capsys, options, code, message):
    clip = make_video(tmp_path / "in.mp4", 3)
    options = [str(tmp_path / o) if o.endswith(".safetensors") else o for o in options]
    got, _, err = run(capsys, "interpolate", str(clip), str(tmp_path / "out.mp4"), "--factor", "2", *options)
    assert got == code and message in one_error_line(err)
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    "options",
    [[], ["--factor", "2", "--fps", "30"], ["--factor", "0"], ["--fps", "abc"], ["--factor", "2", "--quality", "ultra"]],
)
def test_interpolate_wrong_options_exit_2(tmp_path, capsys, options):
    clip = make_video(tmp_path / "in.mp4", 3)
    code, _, err = run(capsys, "interpolate", str(clip), str(tmp_path / "out.mp4"), *options)
    assert code == 2, err
    assert one_error_line(err).startswith("kinema: error:")
    assert not (tmp_path / "out.mp4").exists()


def test_pair_writes_one_file_or_one_per_time(tmp_path, capsys):
    import cv2

    from tests.media import pattern

    for name, shift in (("a.png", 0), ("b.png", 4)):
        cv2.imwrite(str(tmp_path / name), np.roll(pattern(0, 30, 40), shift, axis=1))
    code, out, err = run(capsys, "pair", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "mid.png"))
    assert code == 0, err
    assert (tmp_path / "mid.png").is_file()
    code, out, err = run(capsys, "pair", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--t", "0.25", "--t", "0.75", "-o", str(tmp_path / "many"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == ["a_t0.2500.png", "a_t0.7500.png"]
    cv2.imwrite(str(tmp_path / "small.png"), pattern(1, 10, 10))
    code, _, err = run(capsys, "pair", str(tmp_path / "a.png"), str(tmp_path / "small.png"), "-o", str(tmp_path / "x.png"))
    assert code == 1 and "same size" in one_error_line(err)
    code, _, err = run(capsys, "pair", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "mid.mp4"))
    assert code == 1 and "one frame is written as an image" in one_error_line(err)
    code, _, err = run(capsys, "pair", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--t", "2", "-o", str(tmp_path / "y.png"))
    assert code == 2
    code, _, err = run(capsys, "pair", str(tmp_path / "missing.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "z.png"))
    assert code == 1 and "no such image" in one_error_line(err)


def test_existing_output_is_refused_before_adaptation_starts(tmp_path, capsys, monkeypatch):
    import kinema.pipelines.adapt

    clip = make_video(tmp_path / "in.mp4", 4)
    (tmp_path / "out.mp4").write_bytes(b"keep")
    weights = _tiny_weights(tmp_path / "w.safetensors")
    monkeypatch.setattr(kinema.pipelines.adapt, "adapt_to_video", lambda *a, **k: pytest.fail("adapted before checking the output"))
    code, _, err = run(capsys, "interpolate", str(clip), str(tmp_path / "out.mp4"), "--factor", "2", "--weights", str(weights), "--adapt", "5")
    assert code == 1 and "exists" in one_error_line(err)
    assert (tmp_path / "out.mp4").read_bytes() == b"keep"


def _gif_models(folder):
    from kinema.models.gif2video import CCDNet, CCDNetConfig, DitherConfig, DitherNet

    folder.mkdir()
    CCDNet(CCDNetConfig.tiny(colors=32)).save(folder / "gif-flat-32.safetensors")
    CCDNet(CCDNetConfig.tiny(colors=32, dithered=True)).save(folder / "gif-dither-32.safetensors")
    DitherNet(DitherConfig.tiny()).save(folder / "dither.safetensors")
    return folder


def test_gif2video_end_to_end_and_errors(tmp_path, capsys):
    gif = make_gif(tmp_path / "in.gif", [100, 100, 200])
    models = _gif_models(tmp_path / "models")
    code, _, err = run(capsys, "gif2video", str(gif), str(tmp_path / "out.mp4"), "--factor", "2", "--models", str(models), "--engine", "classical", "--dither", "no")
    assert code == 0, err
    assert "6 frames" in err and "32-colour flat model" in err and "kept consistent" in err
    # An untrained classifier cannot tell how the GIF was made: kinema says so and keeps it.
    code, _, err = run(capsys, "gif2video", str(gif), str(tmp_path / "kept.mp4"), "--models", str(models))
    assert code == 0 and "kept as it is" in err, err
    code, _, err = run(capsys, "gif2video", str(gif), str(tmp_path / "out.mp4"), "--models", str(models))
    assert code == 1 and "exists" in one_error_line(err)
    not_gif = make_png_sequence(tmp_path / "seq") / "img_1.png"
    code, _, err = run(capsys, "gif2video", str(not_gif), str(tmp_path / "o.mp4"), "--models", str(models))
    assert code == 1 and "GIF" in one_error_line(err)
    code, _, err = run(capsys, "gif2video", str(gif), str(tmp_path / "o2.mp4"), "--factor", "2", "--fps", "30")
    assert code == 2
    code, _, err = run(capsys, "gif2video", str(gif), str(tmp_path / "o3.mp4"), "--models", str(tmp_path))
    assert code == 1 and "no GIF restoration weights" in one_error_line(err)
