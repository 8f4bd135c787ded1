import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kinema.io.atomic import AtomicOutput, check_output, discard_unfinished, remove_stale_temporaries
from kinema.types import KinemaError, OutputExistsError


def test_commit_moves_into_place_and_discard_removes(tmp_path):
    out = AtomicOutput(tmp_path / "a.mp4")
    assert out.path.suffix == ".mp4" and out.path.parent == tmp_path and out.path.name.startswith(".")
    out.path.write_bytes(b"x")
    out.commit()
    assert (tmp_path / "a.mp4").read_bytes() == b"x"
    other = AtomicOutput(tmp_path / "b.mp4")
    other.path.write_bytes(b"y")
    other.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]


def test_discard_unfinished_removes_only_what_was_neither_committed_nor_discarded(tmp_path):
    done = AtomicOutput(tmp_path / "done.mkv")
    done.path.write_bytes(b"x")
    done.commit()
    dropped = AtomicOutput(tmp_path / "dropped.mkv")
    dropped.discard()
    file, folder = AtomicOutput(tmp_path / "left.mkv"), AtomicOutput(tmp_path / "frames", directory=True)
    (folder.path / "frame_000000.png").write_bytes(b"png")
    assert discard_unfinished() == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["done.mkv"]
    assert discard_unfinished() == 0
    file.discard()  # its owner aborting later is harmless


def _kinema_folder(folder, frames=2):
    folder.mkdir()
    for i in range(frames):
        (folder / f"frame_{i:06d}.png").write_bytes(b"png")
    (folder / "kinema.json").write_text(json.dumps({"format": "kinema image sequence", "version": 1, "frames": []}))
    return folder


def test_a_frames_folder_kinema_wrote_is_replaced_whole(tmp_path):
    _kinema_folder(tmp_path / "d")
    out = AtomicOutput(tmp_path / "d", directory=True, overwrite=True)
    (out.path / "frame_000000.png").write_text("new")
    out.commit()
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["frame_000000.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


@pytest.mark.parametrize(
    "extra",
    [
        lambda d: (d / "a.jpg").write_bytes(b"user photo"),  # a user's file among the frames
        lambda d: (d / "sub").mkdir(),  # a user's folder
        lambda d: (d / "kinema.json").unlink(),  # frames without kinema's sidecar
        lambda d: (d / "kinema.json").write_text("{}"),  # someone else's kinema.json
    ],
)
def test_replacing_never_deletes_a_folder_kinema_did_not_write(tmp_path, extra):
    folder = _kinema_folder(tmp_path / "photos")
    extra(folder)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(OutputExistsError, match="kinema did not write"):
        check_output(folder, overwrite=True)
    with pytest.raises(OutputExistsError, match="kinema did not write"):
        AtomicOutput(folder, directory=True, overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"]  # no temporary made


def test_a_file_output_never_replaces_a_folder_and_a_folder_never_replaces_a_file(tmp_path):
    (tmp_path / "out.mp4").mkdir()
    (tmp_path / "out.mp4" / "mine.txt").write_text("keep")
    with pytest.raises(OutputExistsError, match="is a folder"):
        check_output(tmp_path / "out.mp4", overwrite=True)
    with pytest.raises(OutputExistsError, match="is a folder"):
        AtomicOutput(tmp_path / "out.mp4", overwrite=True)
    (tmp_path / "frames").write_text("a file")
    with pytest.raises(OutputExistsError, match="not a folder"):
        check_output(tmp_path / "frames", overwrite=True)
    with pytest.raises(OutputExistsError, match="not a regular file"):
        check_output(Path(os.devnull), overwrite=True, directory=False)
    with pytest.raises(OutputExistsError, match="not a folder"):
        check_output(Path(os.devnull), overwrite=True)
    # The folder is refused when it appears during the write, too.
    late = AtomicOutput(tmp_path / "late.mp4", overwrite=True)
    (tmp_path / "late.mp4").mkdir()
    with pytest.raises(OutputExistsError, match="is a folder"):
        late.commit()
    late.discard()
    assert (tmp_path / "out.mp4" / "mine.txt").read_text() == "keep" and (tmp_path / "frames").read_text() == "a file"
    assert not [p for p in tmp_path.iterdir() if ".kinema-" in p.name]


def test_an_output_that_appears_while_writing_is_not_replaced(tmp_path):
    first, second = AtomicOutput(tmp_path / "o.mp4"), AtomicOutput(tmp_path / "o.mp4")
    first.path.write_bytes(b"first")
    second.path.write_bytes(b"second")
    first.commit()
    with pytest.raises(OutputExistsError, match="appeared while writing"):
        second.commit()
    second.discard()
    assert (tmp_path / "o.mp4").read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["o.mp4"]


def test_stale_temporaries_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".o.kinema-{dead}-0123abcd.part.mp4"
    stale_dir = tmp_path / f".o.kinema-{dead}-4567abcd.part"
    other_output = tmp_path / f".p.kinema-{dead}-0123abcd.part.mp4"
    stale.write_bytes(b"half")
    stale_dir.mkdir()
    other_output.write_bytes(b"half")
    live = AtomicOutput(tmp_path / "o.mp4")  # the next writer of o.mp4 removes its stale temporary
    assert not stale.exists() and stale_dir.exists() and other_output.exists()
    assert remove_stale_temporaries(tmp_path / "o.mp4") == 0 and live.path.exists()  # this process: alive
    assert remove_stale_temporaries(tmp_path / "o") == 1 and not stale_dir.exists()
    live.discard()


def test_an_unwritable_folder_fails_before_any_work(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(KinemaError, match="cannot write in"):
            AtomicOutput(folder / "x.mp4")
    finally:
        folder.chmod(0o755)


def test_check_output_refuses_input_and_existing(tmp_path):
    src = tmp_path / "in.mp4"
    src.write_bytes(b"x")
    with pytest.raises(OutputExistsError, match="overwrite the input"):
        check_output(src, overwrite=True, inputs=(src,))
    with pytest.raises(OutputExistsError, match="--overwrite"):
        check_output(src, overwrite=False)
    (tmp_path / "frames").mkdir()
    with pytest.raises(OutputExistsError, match="input"):
        check_output(tmp_path / "frames" / "out.mp4", overwrite=True, inputs=(tmp_path / "frames",))
    with pytest.raises(KinemaError, match="does not exist"):
        AtomicOutput(tmp_path / "nope" / "x.mp4")
