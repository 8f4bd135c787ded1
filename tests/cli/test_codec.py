"""``kinema codec encode | decode`` and ``kinema info`` on a .kvc, as a user meets them."""

import json

from kinema.io.probe import open_reader
from tests.cli.test_main import one_error_line, run
from tests.engines.test_codec import tiny_codec
from tests.media import make_video


def test_encode_info_decode(tmp_path, capsys):
    clip = make_video(tmp_path / "in.mp4", 5, size=(32, 48), audio=True)
    weights = tiny_codec().save(tmp_path / "codec.safetensors")
    code, _, err = run(capsys, "codec", "encode", clip, tmp_path / "c.kvc", "--weights", weights, "--quality", "1", "--gop", "2", "--adapt", "2")
    assert code == 0 and "level 1" in err and "audio is not carried" in err
    code, out, _ = run(capsys, "info", tmp_path / "c.kvc", "--json")
    assert code == 0 and json.loads(out)["frames"] == 5 and json.loads(out)["gops"] == 3
    code, _, err = run(capsys, "codec", "decode", tmp_path / "c.kvc", tmp_path / "out.mp4", "--weights", weights)
    assert code == 0 and "5 frames" in err and len(list(open_reader(tmp_path / "out.mp4"))) == 5


def test_bad_options_damaged_streams_and_other_weights(tmp_path, capsys):
    clip = make_video(tmp_path / "in.mp4", 4, size=(32, 48))
    weights = tiny_codec().save(tmp_path / "codec.safetensors")
    other = tiny_codec(seed=3).save(tmp_path / "other.safetensors")
    code, _, err = run(capsys, "codec", "encode", clip, tmp_path / "c.kvc", "--weights", weights, "--quality", "1", "--bpp", "0.1")
    assert code == 2 and "--quality" in err
    code, _, err = run(capsys, "codec", "encode", clip, tmp_path / "c.kvc", "--weights", weights, "--quality", "7")
    assert code == 2 and "--quality" in err
    assert run(capsys, "codec", "encode", clip, tmp_path / "c.kvc", "--weights", weights, "--gop", "2")[0] == 0
    code, _, err = run(capsys, "codec", "decode", tmp_path / "c.kvc", tmp_path / "o.mp4", "--weights", other)
    assert code == 1 and "another codec model" in one_error_line(err) and not (tmp_path / "o.mp4").exists()
    blob = (tmp_path / "c.kvc").read_bytes()
    (tmp_path / "cut.kvc").write_bytes(blob[: len(blob) * 3 // 4])
    code, _, err = run(capsys, "codec", "decode", tmp_path / "cut.kvc", tmp_path / "cut.mp4", "--weights", weights)
    assert code == 1 and "frames before it" in one_error_line(err)
    assert 1 <= len(list(open_reader(tmp_path / "cut.mp4"))) < 4
    (tmp_path / "garbage.kvc").write_bytes(b"\x00" * 100)
    code, _, err = run(capsys, "codec", "decode", tmp_path / "garbage.kvc", tmp_path / "g.mp4", "--weights", weights)
    assert code == 1 and "not a kinema coded video" in one_error_line(err)
    code, _, err = run(capsys, "info", tmp_path / "garbage.kvc")
    assert code == 1 and one_error_line(err)
