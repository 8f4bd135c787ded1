import pytest

from kinema.io.atomic import AtomicOutput, check_output
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


def test_directory_replace_needs_overwrite(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "old").write_text("old")
    out = AtomicOutput(tmp_path / "d", directory=True, overwrite=True)
    (out.path / "new").write_text("new")
    out.commit()
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


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
