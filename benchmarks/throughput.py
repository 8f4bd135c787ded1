"""Whole commands, file to file: frames written per second, CPU use and peak memory.

Each row is one fresh process timed by GNU time (wall clock, user + system CPU, maximum
resident set), on the same clip in the same run:

* ``ffmpeg`` decode + encode of the same output (frames doubled by repetition): the floor
  any retimer pays for reading and writing;
* ``ffmpeg minterpolate`` (mci, aobmc, bidir), the usual CPU tool;
* ``kinema interpolate --factor 2`` with the classical and the learned engine, with the
  decode and encode stages concurrent (the default) and serial (``concurrent=False``,
  the same frames).

Clips: the first 60 frames of ``videos/imageio_cockatoo.mp4`` (1280×720, 20 fps), and the
same frames scaled to 1920×1080. Every output is H.264, CRF 18, preset medium.

    python -m benchmarks.throughput [--frames 60] [--sizes 720 1080] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import av

from benchmarks.report import write_block
from kinema.train.data import DATA_ROOT

SOURCE = "videos/imageio_cockatoo.mp4"
ENCODE = ["-c:v", "libx264", "-crf", "18", "-preset", "medium", "-pix_fmt", "yuv420p"]
MINTERPOLATE = "minterpolate=fps={fps}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir"
SERIAL = (
    "import sys; from pathlib import Path; from kinema.cli.common import make_engine; "
    "from kinema.cli.options import EngineName, Quality; "
    "from kinema.pipelines.interpolate import InterpolateConfig, interpolate_video; "
    "interpolate_video(Path(sys.argv[1]), Path(sys.argv[2]), InterpolateConfig(factor=2, concurrent=False, overwrite=True), "
    "engine=make_engine(EngineName(sys.argv[3]), Quality.balanced, None, 'cpu'))"
)


def make_clip(source: Path, out: Path, frames: int, height: int) -> Path:
    """The first ``frames`` frames of ``source`` at ``height`` lines (16:9), H.264 CRF 12."""
    with av.open(str(source)) as container, av.open(str(out), "w") as sink:
        stream = container.streams.video[0]
        enc = sink.add_stream("libx264", rate=stream.average_rate)
        enc.width, enc.height, enc.pix_fmt = height * 16 // 9, height, "yuv420p"
        enc.codec_context.options = {"crf": "12", "preset": "fast"}
        for i, frame in enumerate(container.decode(stream)):
            if i == frames:
                break
            sized = frame.reformat(width=enc.width, height=enc.height, format="yuv420p", interpolation="AREA")
            sink.mux(enc.encode(sized))
        sink.mux(enc.encode())
    return out


def timed(command: list[str]) -> dict:
    """Run ``command`` under GNU time: wall seconds, CPU seconds and peak RSS (MB)."""
    report = Path(tempfile.mktemp(suffix=".time"))
    done = subprocess.run(["/usr/bin/time", "-o", str(report), "-f", "%e %U %S %M", *command], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {done.stderr.strip()[-400:]}")
    wall, user, system, rss = report.read_text().split()[-4:]
    report.unlink()
    return {"wall": float(wall), "cpu": float(user) + float(system), "rss": int(rss) / 1024}


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def rows_for(clip: Path, work: Path, ffmpeg: str) -> list[tuple[str, dict]]:
    with av.open(str(clip)) as container:
        rate = container.streams.video[0].average_rate
    kinema = [sys.executable, "-c", "import sys; from kinema.cli import main; sys.exit(main())"]
    cases = [
        ("ffmpeg decode + encode (the floor)", [ffmpeg, "-v", "error", "-y", "-i", str(clip), "-vf", f"fps={2 * rate}", *ENCODE]),
        ("ffmpeg minterpolate", [ffmpeg, "-v", "error", "-y", "-i", str(clip), "-vf", MINTERPOLATE.format(fps=2 * rate), *ENCODE]),
    ]
    for engine in ("classical", "learned"):
        cases.append((f"kinema {engine}, concurrent stages", [*kinema, "interpolate", str(clip), "OUT", "--factor", "2", "--engine", engine, "-y", "-q"]))
        cases.append((f"kinema {engine}, serial", [sys.executable, "-c", SERIAL, str(clip), "OUT", engine]))
    rows = []
    for k, (label, command) in enumerate(cases):
        out = work / f"out{k}.mp4"
        command = [str(out) if part == "OUT" else part for part in command]
        if command[0] == ffmpeg:
            command.append(str(out))
        result = timed(command)
        result["frames"] = frame_count(out)
        rows.append((label, result))
        print(f"{clip.stem} {label:36s} {result['wall']:6.1f} s  {result['frames'] / result['wall']:5.2f} frames/s  "
              f"CPU {result['cpu'] / result['wall']:.2f} cores  {result['rss']:.0f} MB", flush=True)  # fmt: skip
    return rows


def table(results: dict[str, list[tuple[str, dict]]], frames: int) -> str:
    lines = [
        "| clip | command | wall | frames written / s | × minterpolate | CPU in use | peak RSS |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for clip, rows in results.items():
        reference = dict(rows)["ffmpeg minterpolate"]
        for label, r in rows:
            speed = reference["wall"] / r["wall"]
            lines.append(
                f"| {clip} | {label} | {r['wall']:.1f} s | {r['frames'] / r['wall']:.2f} | {speed:.1f}× | "
                f"{r['cpu'] / r['wall']:.2f} of {os.cpu_count()} cores | {r['rss']:.0f} MB |"
            )
    lines.append("")
    lines.append(
        f"{frames} source frames → {2 * frames - 1}–{2 * frames} written, H.264 CRF 18 medium; "
        f"{platform.machine()}, {os.cpu_count()} cores. `python -m benchmarks.throughput` (GNU time, one fresh process per row)."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--sizes", type=int, nargs="+", default=[720, 1080])
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/ and the doc that quotes it")
    args = parser.parse_args()
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("ffmpeg is not installed (Debian/Ubuntu: apt-get install ffmpeg)")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for height in args.sizes:
            clip = make_clip(args.data / SOURCE, work / f"{height}p.mp4", args.frames, height)
            results[f"{height}p"] = rows_for(clip, work, ffmpeg)
    text = table(results, args.frames)
    print(text)
    if args.write:
        print(f"wrote {write_block('throughput', text)}")


if __name__ == "__main__":
    main()
