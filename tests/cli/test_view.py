"""``kinema view`` as a user meets it: bad input and options before anything is served,
the printed address, the token off loopback, and Ctrl-C / SIGTERM stopping it cleanly."""

import json
import re
from dataclasses import replace
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from PIL import Image

from kinema.io.snapshot_file import read_snapshot, write_snapshot
from kinema.pipelines.snapshot import EmbedConfig, embed, load_model
from tests.cli.test_main import one_error_line, run
from tests.media import make_video, make_zero_frame_video


def test_view_refuses_bad_input_and_bad_options(tmp_path, capsys, fitted):
    clip = make_video(tmp_path / "a.mp4", 6)
    net, digest = load_model("snapshot-5")
    snap = embed(make_video(tmp_path / "clip.mp4", 5, size=(32, 48)), tmp_path / "snap.png", EmbedConfig(refine=0), model="snapshot-5", net=net, digest=digest).output
    image, info = read_snapshot(snap)  # a snapshot whose weights are not these
    foreign = write_snapshot(tmp_path / "foreign.png", image, replace(info, digest="0" * 16))
    video, model = fitted
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00" * 1000)
    plain = tmp_path / "plain.png"  # a picture, but no snapshot: no kinema metadata
    Image.new("RGB", (16, 16)).save(plain)
    for args in ([garbage], [tmp_path / "missing.mp4"], [make_zero_frame_video(tmp_path / "empty.mp4")], [plain], [model.output, "--video", clip], [foreign]):
        code, _, err = run(capsys, "view", "--no-open", *args)
        assert code == 1 and one_error_line(err), (args, err)
    for args in ([], [clip, "--port", "70000"], [model.output], [clip, "--video", video], [clip, "--compare", clip]):
        code, _, err = run(capsys, "view", "--no-open", *args)
        assert code == 2, (args, err)


def _start(*args) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "kinema.cli", "view", "--no-open", "--port", "0", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    found = re.search(r"(http://\S+)", line)
    assert found, (line, process.stderr.read() if process.poll() is not None else "")
    return process, found.group(1)


def _get(url: str, headers=None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize("stop, status, said", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_view_serves_its_files_on_loopback_and_stops_cleanly(tmp_path, stop, status, said):
    clip = make_video(tmp_path / "a.mp4", 6)
    process, url = _start(clip)
    try:
        assert url.startswith("http://127.0.0.1:") and "token" not in url
        code, body = _get(url + "api/items")
        assert code == 200 and json.loads(body)["items"][0]["name"] == "a.mp4"
    finally:
        process.send_signal(stop)
        _, err = process.communicate(timeout=20)
    assert process.returncode == status and err.strip().splitlines()[-1] == f"kinema: {said}"


def test_view_off_loopback_prints_a_token_and_needs_it(tmp_path):
    clip = make_video(tmp_path / "a.mp4", 6)
    process, url = _start(clip, "--host", "0.0.0.0")
    try:
        token = re.search(r"token=([\w-]+)", url).group(1)
        base = url.split("?")[0].replace("0.0.0.0", "127.0.0.1")
        assert _get(base + "api/items")[0] == 403
        assert _get(base + "api/items", {"Authorization": "Token nope"})[0] == 403
        assert _get(base + "api/items", {"Authorization": f"Token {token}"})[0] == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert "not a loopback address" in err
