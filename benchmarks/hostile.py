"""Hostile sizes: peak memory of ``kinema info`` / ``kinema convert`` on inputs whose size
is absurd or merely huge, each in a fresh process (GNU time's maximum resident set).

    python -m benchmarks.hostile [--files 100000] [--write]
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import cv2
import numpy as np

from benchmarks.report import write_block
from tests.media import make_gif, make_video

KINEMA = [sys.executable, "-c", "import sys; from kinema.cli import main; sys.exit(main())"]
#: The ceiling each case must stay under.
CEILING_MB = 2048


def _png(path: Path, width: int, height: int, *, claim: tuple[int, int] | None = None) -> Path:
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = 200
    cv2.imwrite(str(path), image)
    if claim is not None:
        data = bytearray(path.read_bytes())
        data[16:24] = struct.pack(">II", *claim)
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
        path.write_bytes(bytes(data))
    return path


def _mp4_claiming(path: Path, frames: int, *, sizes_too: bool) -> Path:
    """A 3-frame MP4 whose sample tables claim ``frames``: the time table alone, or the
    size table too."""
    make_video(path, 3, size=(16, 16), options={"movflags": "faststart"})
    data = bytearray(path.read_bytes())
    stts = data.find(b"stts")
    data[stts + 12 : stts + 16] = struct.pack(">I", frames)
    if sizes_too:
        stsz = data.find(b"stsz")
        data[stsz + 12 : stsz + 16] = struct.pack(">I", frames)
    path.write_bytes(bytes(data))
    return path


def _measure(args: list[str]) -> tuple[int, float, str]:
    """(exit status, peak RSS in MB, the last stderr line)."""
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *KINEMA, *args], capture_output=True, text=True, timeout=1800)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    peak_kb = int(lines[-1]) if lines and lines[-1].strip().isdigit() else -1
    message = next((line for line in reversed(lines[:-1]) if line.startswith("kinema:") or line.startswith("wrote")), "")
    return done.returncode, peak_kb / 1024, message


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000, help="tiny PNG files in the big folder")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/ and the doc that quotes it")
    args = parser.parse_args(argv)
    if shutil.which("time") is None and not Path("/usr/bin/time").exists():
        raise SystemExit("needs GNU time (apt-get install time)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bomb = tmp / "bomb"
        bomb.mkdir()
        _png(bomb / "f1.png", 16, 16, claim=(65535, 65535))
        _png(bomb / "f2.png", 16, 16)
        gif = make_gif(tmp / "bomb.gif", [100, 100])
        data = bytearray(gif.read_bytes())
        data[6:10] = struct.pack("<HH", 65535, 65535)
        gif.write_bytes(bytes(data))
        cases = [("PNG header claiming 65535×65535 (`info`)", ["info", str(bomb)]),
                 ("GIF screen claiming 65535×65535 (`info`)", ["info", str(gif)])]  # fmt: skip
        for sizes_too in (False, True):
            claim = _mp4_claiming(tmp / f"claim{int(sizes_too)}.mp4", 100_000, sizes_too=sizes_too)
            what = "time and size tables" if sizes_too else "time table"
            cases.append((f"a {claim.stat().st_size:,}-byte MP4 whose {what} {'claim' if sizes_too else 'claims'} 100,000 frames (`convert`)", ["convert", str(claim), str(tmp / f"claim{int(sizes_too)}.mkv"), "--codec", "ffv1", "-q"]))
        for name, (w, h) in (("8K 4:1", (7680, 1920)), ("8K 1:4", (1920, 7680))):
            folder = tmp / name.replace(" ", "").replace(":", "x")
            folder.mkdir()
            for i in range(3):
                _png(folder / f"f{i}.png", w, h)
            cases.append((f"{name} ({w}×{h}), 3 PNG frames → FFV1 (`convert`)", ["convert", str(folder), str(tmp / f"{folder.name}.mkv"), "--codec", "ffv1", "-q"]))
        many = tmp / "many"
        many.mkdir()
        seed = _png(many / "f0.png", 8, 8).read_bytes()
        for i in range(1, args.files):
            (many / f"f{i}.png").write_bytes(seed)
        cases.append((f"a folder of {args.files:,} 8×8 PNGs (`info`)", ["info", str(many)]))
        cases.append((f"a folder of {args.files:,} 8×8 PNGs → FFV1 (`convert`)", ["convert", str(many), str(tmp / "many.mkv"), "--codec", "ffv1", "-q"]))
        for name, command in cases:
            status, peak, message = _measure(command)
            rows.append(f"| {name} | {status} | {peak:.0f} MB | {'yes' if 0 < peak < CEILING_MB else 'NO'} | {message[:110]} |")
            print(rows[-1], flush=True)
    text = "| input | exit | peak RSS | under the ceiling | what kinema said |\n| --- | --- | --- | --- | --- |\n" + "\n".join(rows)
    text += f"\n\nCeiling {CEILING_MB} MB. `python -m benchmarks.hostile --files {args.files}` (GNU time, one fresh process per case)."
    print(text)
    if args.write:
        write_block("hostile", text)


if __name__ == "__main__":
    main()
