"""``kinema cuts`` as a user meets it, with the shipped detector."""

import json
from fractions import Fraction

import numpy as np
from PIL import Image

from tests.cli.test_main import one_error_line, run
from tests.media import make_video, make_zero_frame_video
from tests.pipelines.test_transitions import _scene


def test_cuts_lists_a_hard_cut_as_json_and_draws_a_sheet(tmp_path, capsys):
    images = [_scene(i, 0 if i < 20 else 1).round().astype(np.uint8) for i in range(40)]
    clip = make_video(tmp_path / "cut.mp4", 40, time_base=Fraction(1, 25), images=images)
    code, out, _ = run(capsys, "cuts", clip, "--json", "--sheet", tmp_path / "sheet.png")
    assert code == 0
    data = json.loads(out)
    assert [(t["kind"], t["first"]) for t in data["transitions"]] == [("cut", 20)]
    assert data["transitions"][0]["start"] == 0.8
    assert Image.open(tmp_path / "sheet.png").size[0] > 0
    code, out, err = run(capsys, "cuts", clip)
    assert code == 0 and out.split()[:3] == ["cut", "frame", "20"] and "1 transition" in err


def test_cuts_refuses_bad_input_and_bad_options(tmp_path, capsys):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00" * 1000)
    code, _, err = run(capsys, "cuts", garbage)
    assert code == 1 and "garbage.mp4" in one_error_line(err)
    code, _, err = run(capsys, "cuts", make_zero_frame_video(tmp_path / "empty.mp4"))
    assert code == 1 and one_error_line(err)
    clip = make_video(tmp_path / "a.mp4", 8)
    code, _, err = run(capsys, "cuts", clip, "--sheet", tmp_path / "sheet.jpg")
    assert code == 2 and ".png" in err
    (tmp_path / "taken.png").write_bytes(b"mine")
    code, _, err = run(capsys, "cuts", clip, "--sheet", tmp_path / "taken.png")
    assert code == 1 and (tmp_path / "taken.png").read_bytes() == b"mine"
