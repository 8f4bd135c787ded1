"""What the CLI does when the user's files, the disk or a signal get in the way: nothing
a user owns is deleted, nothing half-written is left, and every failure is one line."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kinema.cli import main
from tests.cli.test_main import one_error_line, run
from tests.media import make_video

KINEMA = [sys.executable, "-c", "import sys; from kinema.cli import main; sys.exit(main())"]


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".kinema-" in p.name]


def test_overwrite_never_deletes_a_users_folder(tmp_path, capsys):
    clip = make_video(tmp_path / "clip.mp4", 4)
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    (photos / "a.jpg").write_bytes(b"a photo")
    (photos / "sub" / "b.jpg").write_bytes(b"another")
    boxed = tmp_path / "out.mp4"
    boxed.mkdir()
    (boxed / "notes.txt").write_text("mine")
    before = _tree(tmp_path)
    for output, message in ((photos, "kinema did not write"), (boxed, "is a folder")):
        for command in (("convert", clip, output, "-y"), ("interpolate", clip, output, "--factor", "2", "--engine", "classical", "-y")):
            code, _, err = run(capsys, *command)
            assert code == 1 and message in one_error_line(err), (command, err)
    assert _tree(tmp_path) == before


def test_overwrite_replaces_a_frames_folder_kinema_wrote(tmp_path, capsys):
    clip = make_video(tmp_path / "clip.mp4", 4)
    assert run(capsys, "convert", clip, tmp_path / "frames")[0] == 0
    assert run(capsys, "convert", clip, tmp_path / "frames")[0] == 1  # not without -y
    code, _, err = run(capsys, "interpolate", clip, tmp_path / "frames", "--factor", "2", "--engine", "classical", "-y", "-q")
    assert code == 0, err
    assert len(list((tmp_path / "frames").glob("frame_*.png"))) == 8


@pytest.mark.parametrize("output", [os.devnull, "."])
def test_outputs_that_are_not_outputs_get_one_line_and_leave_nothing(tmp_path, capsys, monkeypatch, output):
    monkeypatch.chdir(tmp_path)
    clip = make_video(tmp_path / "clip.mp4", 4)
    code, _, err = run(capsys, "convert", clip, output, "-y")
    assert code == 1 and one_error_line(err)
    # /dev for /dev/null (not searched below: other tests' folders sit beside tmp_path).
    assert not _temporaries(tmp_path) and (output != os.devnull or not list(Path("/dev").glob(".*kinema-*")))


def test_unbounded_retiming_is_refused_before_any_work(tmp_path, capsys):
    clip = make_video(tmp_path / "clip.mp4", 4)
    for options in (["--factor", "100000000"], ["--fps", "1e9"], ["--slowmo", "100000000"]):
        started = time.monotonic()
        code, _, err = run(capsys, "interpolate", clip, tmp_path / "o.mp4", "--engine", "classical", *options)
        assert code == 1 and "--max-frames" in one_error_line(err), err
        assert time.monotonic() - started < 10
    code, _, err = run(capsys, "interpolate", clip, tmp_path / "o.mp4", "--engine", "classical", "--factor", "3", "--max-frames", "11", "-q")
    assert code == 1 and "over the limit of 11 frames" in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_a_command_group_alone_prints_its_help_once(capsys):
    for group in ("snapshot", "batch", "vsae"):
        code, out, err = run(capsys, group)
        assert code == 2 and "Usage:" in out and "Commands" in out and not err


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root)")


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB file system, and a read-only one (Linux, root)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting needs Linux and root")
    full = tmp_path / "full"
    _mount_tmpfs(full, "256k")
    try:
        yield full
    finally:
        subprocess.run(["umount", "-l", str(full)], check=False)


def test_a_full_or_read_only_disk_fails_in_one_line_with_nothing_left(tmp_path, capsys, small_disk):
    clip = make_video(tmp_path / "clip.mp4", 40, size=(240, 320))
    before = clip.read_bytes()
    for output, extra in ((small_disk / "o.mkv", ["--codec", "ffv1"]), (small_disk / "frames", []), (small_disk / "o.gif", [])):
        code, _, err = run(capsys, "convert", clip, output, "-q", *extra)
        assert code == 1 and "No space left on device" in one_error_line(err), (output, err)
        assert list(small_disk.iterdir()) == []
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    code, _, err = run(capsys, "convert", clip, small_disk / "o.mp4", "-q")
    assert code == 1 and "Read-only file system" in one_error_line(err)
    assert clip.read_bytes() == before


def test_sigterm_stops_like_ctrl_c_and_removes_the_temporary(tmp_path):
    clip = make_video(tmp_path / "clip.mp4", 200, size=(240, 320))
    out = tmp_path / "out"
    out.mkdir()
    command = [*KINEMA, "interpolate", str(clip), str(out / "slow.mkv"), "--codec", "ffv1",
               "--factor", "8", "--engine", "classical", "--quality", "best", "-q"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not _temporaries(out) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert _temporaries(out), "the run never started writing"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 143
    assert process.stderr.read().strip().splitlines()[-1] == "kinema: terminated"
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("where", ["open_writer", "_stage_depth"])
def test_an_interruption_just_after_the_temporary_is_made_removes_it(tmp_path, capsys, monkeypatch, where):
    # The windows a signal can hit before the pipeline's main loop: inside open_writer
    # once the file exists, and while the concurrent stages are set up.
    from kinema.pipelines.interpolate import run as pipeline

    real = getattr(pipeline, where)

    def interrupted(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, where, interrupted)
    clip = make_video(tmp_path / "clip.mp4", 6, size=(48, 64))
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = run(capsys, "interpolate", clip, out / "slow.mkv", "--factor", "2", "--codec", "ffv1", "--engine", "classical", "-q")
    assert code == 130 and err.strip().splitlines()[-1] == "kinema: interrupted"
    assert list(out.iterdir()) == []
    assert not [t.name for t in threading.enumerate() if t.name.startswith("kinema-")]


def test_a_killed_runs_temporary_is_removed_by_the_next_run_of_that_output(tmp_path):
    clip = make_video(tmp_path / "clip.mp4", 200, size=(240, 320))
    out = tmp_path / "out"
    out.mkdir()
    command = [*KINEMA, "convert", str(clip), str(out / "o.mkv"), "--codec", "ffv1", "-q"]
    process = subprocess.Popen(command)
    deadline = time.monotonic() + 60
    while not _temporaries(out) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.kill()
    process.wait()
    left = _temporaries(out)
    if not left:
        pytest.skip("the convert finished before it could be killed")
    keep = out / ".other.kinema-1-0123abcd.part.mkv"  # another output's: not this run's to remove
    keep.write_bytes(b"x")
    assert main(["convert", str(clip), str(out / "o.mkv"), "--codec", "ffv1", "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [keep.name, "o.mkv"]


def test_progress_goes_to_a_log_as_plain_lines(tmp_path, monkeypatch):
    import kinema.cli.common as common

    monkeypatch.setattr(common, "LOG_EVERY", 0.0)
    clip = make_video(tmp_path / "clip.mp4", 6)
    done = subprocess.run([*KINEMA, "convert", str(clip), str(tmp_path / "o.mkv")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # The subprocess has the default period: a short run prints only its summary line.
    assert [line for line in done.stderr.splitlines() if line.startswith("convert:")] == []
    lines = []
    with common.progress_bar("convert", quiet=False) as update:
        monkeypatch.setattr(common.stderr, "print", lambda text, **_: lines.append(text))
        for i in range(1, 4):
            update(i, 3)
    assert lines[0].startswith("convert: 1/3 frames (33 %)") and lines[-1].startswith("convert: 3/3 frames (100 %)")


def test_metadata_that_is_not_utf8_does_not_stop_the_audio_copy(tmp_path, capsys):
    """A fuzzing finding: PyAV refused to open the audio of a file whose tags are not UTF-8."""
    import av

    clip = make_video(tmp_path / "a.mp4", 4, audio=True, options={"movflags": "use_metadata_tags"})
    with av.open(str(clip)) as source, av.open(str(tmp_path / "t.mp4"), "w") as out:
        out.metadata["title"] = "kinemaTAGkinema"
        streams = {s.index: out.add_stream_from_template(s) for s in source.streams}
        for packet in source.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    data = (tmp_path / "t.mp4").read_bytes()
    assert b"kinemaTAGkinema" in data
    (tmp_path / "t.mp4").write_bytes(data.replace(b"kinemaTAGkinema", b"kinema\xff\xfeAGkinema"))
    code, _, err = run(capsys, "convert", tmp_path / "t.mp4", tmp_path / "o.mkv", "--codec", "ffv1", "-q")
    assert code == 0, err


def test_a_damaged_png_frame_is_one_line_on_the_real_stderr(tmp_path):
    """libpng writes to file descriptor 2 itself; only kinema's line may reach the user."""
    from tests.media import make_png_sequence

    folder = make_png_sequence(tmp_path / "seq", 3, size=(40, 60))
    data = bytearray((folder / "img_2.png").read_bytes())
    data[60:80] = bytes(20)
    (folder / "img_2.png").write_bytes(bytes(data))
    done = subprocess.run([*KINEMA, "convert", str(folder), str(tmp_path / "o.mkv")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if line.strip()] == [f"kinema: error: {folder / 'img_2.png'}: not a readable image (empty, truncated or corrupt)"]
