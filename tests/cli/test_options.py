"""The command line as a whole: one device option, one rate parser, a fast start."""

import subprocess
import sys

import pytest
import typer

from kinema.cli import app, main
from tests.cli.test_main import one_error_line, run
from tests.media import make_video

#: Commands that run no network (everything else must take --device).
NO_MODEL = {"info", "convert", "batch convert"}


def _commands(group=None, prefix=""):
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(command, "commands"):
            yield from _commands(command, f"{path} ")
        else:
            yield path, command


COMMANDS = dict(_commands())


def test_every_command_that_runs_a_model_takes_device():
    assert {"interpolate", "pair", "gif2video", "snapshot embed", "vsae fit", "batch interpolate"} <= set(COMMANDS)
    for path, command in COMMANDS.items():
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert ("--device" in options) == (path not in NO_MODEL), path


@pytest.mark.parametrize("path", sorted(p for p, c in COMMANDS.items() if any("--fps" in getattr(x, "opts", []) for x in c.params)))
def test_a_bad_frame_rate_is_a_usage_error_on_every_command(tmp_path, capsys, path):
    clip = make_video(tmp_path / "a.mp4", 3)
    arguments = [str(clip)] * 2 if path.startswith("vsae") else []
    code, _, err = run(capsys, *path.split(), *arguments, str(clip), str(tmp_path / "out.mp4"), "--fps", "abc")
    assert code == 2 and "not a frame rate" in one_error_line(err), err


def test_device_values_are_checked_before_any_work(tmp_path, capsys):
    clip = make_video(tmp_path / "a.mp4", 3)
    code, _, err = run(capsys, "interpolate", clip, tmp_path / "o.mp4", "--factor", "2", "--device", "gpu0")
    assert code == 2 and "not a device" in one_error_line(err)
    import torch

    if not torch.cuda.is_available():
        code, _, err = run(capsys, "interpolate", clip, tmp_path / "o.mp4", "--factor", "2", "--device", "cuda")
        assert code == 2 and "no such CUDA device" in one_error_line(err)
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["info", "CLIP"],
        ["convert", "CLIP", "OUT/a.mkv"],
        ["convert", "CLIP", "OUT/a.gif"],
        ["convert", "CLIP", "OUT/frames"],
        ["interpolate", "--help"],
        ["batch", "interpolate", "--help"],
        ["vsae", "fit", "--help"],
    ],
)
def test_commands_that_run_no_model_do_not_load_torch(tmp_path, args):
    clip = make_video(tmp_path / "a.mp4", 3)
    args = [str(clip) if a == "CLIP" else a.replace("OUT", str(tmp_path)) for a in args] + (["-q"] if args[0] == "convert" else [])
    code = f"import sys; from kinema.cli import main; status = main({args!r}); print('torch' in sys.modules); sys.exit(status)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_main_is_the_console_script_entry_point():
    assert main(["--version"]) == 0


def test_threads_sets_the_budget_of_a_model_command_and_zero_is_a_usage_error(tmp_path, capsys):
    import cv2
    import torch

    clip = make_video(tmp_path / "a.mp4", 3)
    before = torch.get_num_threads(), cv2.getNumThreads()
    try:
        code, _, err = run(capsys, "interpolate", clip, tmp_path / "o.mp4", "--factor", "2", "--engine", "classical", "--threads", "1", "-q")
        assert code == 0, err
        assert (torch.get_num_threads(), cv2.getNumThreads()) == (1, 1)
    finally:  # the rest of the suite runs with the machine's own budget
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])
    code, _, err = run(capsys, "interpolate", clip, tmp_path / "p.mp4", "--factor", "2", "--threads", "0")
    assert code == 2 and not (tmp_path / "p.mp4").exists()
