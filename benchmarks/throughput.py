"""Whole commands, file to file: frames written per second, CPU use and peak memory.

Each row is one fresh process timed by GNU time (wall clock, user + system CPU of it and
the children it waited for, maximum resident set of the largest), on the same clips in
the same run:

* ``ffmpeg`` decode + encode of the same output (frames doubled by repetition): the floor
  any retimer pays for reading and writing;
* ``ffmpeg minterpolate`` (mci, aobmc, bidir), the usual CPU tool;
* ``kinema interpolate --factor 2`` with the classical and the learned engine: as the
  command runs it (concurrent stages, the default), with the stages serial
  (``concurrent=False``; the same frames), and the learned engine at ``--quality fast``;
* at 720p also ``gif2video`` (beside ffmpeg turning the same GIF into H.264), ``snapshot
  embed`` / ``expand``, ``kinema batch`` on a folder of four clips with one and with two
  workers, one long clip whole and in parts on two workers, and 4K peak memory.

Clips: the first 60 frames of ``videos/imageio_cockatoo.mp4`` (1280×720, 20 fps), the
same frames scaled to 1920×1080 and 3840×2160 (8 frames), and a 240-frame 720p clip (the
60 frames forwards, backwards, forwards, backwards). Every video output is H.264, CRF 18,
preset medium.

    python -m benchmarks.throughput [--frames 60] [--sizes 720 1080] [--no-extras] [--device cuda] [--write]
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
KINEMA = [sys.executable, "-c", "import sys; from kinema.cli import main; sys.exit(main())"]
SERIAL = (
    "import sys; from pathlib import Path; from kinema.cli.common import make_engine; "
    "from kinema.cli.options import EngineName, Quality, use_threads; "
    "from kinema.pipelines.interpolate import InterpolateConfig, interpolate_video; use_threads(None); "
    "interpolate_video(Path(sys.argv[1]), Path(sys.argv[2]), InterpolateConfig(factor=2, concurrent=False, overwrite=True), "
    "engine=make_engine(EngineName(sys.argv[3]), Quality.balanced, None, sys.argv[4]), device=sys.argv[4])"
)


def make_clip(source: Path, out: Path, frames: int, height: int, *, bounce: int = 1) -> Path:
    """The first ``frames`` frames of ``source`` at ``height`` lines (16:9), H.264 CRF 12;
    ``bounce`` > 1 plays them forwards and backwards in turn, ``bounce`` times."""
    with av.open(str(source)) as container, av.open(str(out), "w") as sink:
        stream = container.streams.video[0]
        enc = sink.add_stream("libx264", rate=stream.average_rate)
        enc.width, enc.height, enc.pix_fmt = height * 16 // 9, height, "yuv420p"
        enc.codec_context.options = {"crf": "12", "preset": "fast"}
        picked = []
        for i, frame in enumerate(container.decode(stream)):
            if i == frames:
                break
            picked.append(frame.reformat(width=enc.width, height=enc.height, format="yuv420p", interpolation="AREA").to_ndarray())
        for k in range(bounce):
            for plane in picked if k % 2 == 0 else picked[::-1]:
                sink.mux(enc.encode(av.VideoFrame.from_ndarray(plane, format="yuv420p")))
        sink.mux(enc.encode())
    return out


def make_gif(ffmpeg: str, clip: Path, out: Path) -> Path:
    """The clip as a 256-colour GIF (ffmpeg's palettegen / paletteuse, one global palette)."""
    graph = "split[a][b];[a]palettegen[p];[b][p]paletteuse"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(clip), "-vf", graph, str(out)], check=True)
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
    """Frames in a video file, or in every video file of a folder."""
    if path.is_dir():
        return sum(frame_count(p) for p in sorted(path.rglob("*.mp4")))
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def measure(label: str, command: list[str], out: Path, rows: list[tuple[str, dict]], clip: str) -> None:
    result = timed([str(out) if part == "OUT" else part for part in command])
    result["frames"] = frame_count(out)
    rows.append((label, result))
    print(f"{clip} {label:44s} {result['wall']:6.1f} s  {result['frames'] / result['wall']:6.2f} frames/s  "
          f"CPU {result['cpu'] / result['wall']:.2f} cores  {result['rss']:.0f} MB", flush=True)  # fmt: skip


def retime_rows(clip: Path, work: Path, ffmpeg: str, device: str = "cpu") -> list[tuple[str, dict]]:
    """Doubling the frame rate of ``clip``: the floor, minterpolate and kinema (the learned
    engine's network on ``device``)."""
    with av.open(str(clip)) as container:
        rate = container.streams.video[0].average_rate
    out = work / f"{clip.stem}-out.mp4"
    cases = [
        ("ffmpeg decode + encode (the floor)", [ffmpeg, "-v", "error", "-y", "-i", str(clip), "-vf", f"fps={2 * rate}", *ENCODE, "OUT"]),
        ("ffmpeg minterpolate", [ffmpeg, "-v", "error", "-y", "-i", str(clip), "-vf", MINTERPOLATE.format(fps=2 * rate), *ENCODE, "OUT"]),
    ]
    on = [] if device == "cpu" else ["--device", device]
    where = "" if device == "cpu" else f" ({device})"
    for engine in ("classical", "learned"):
        placed = on if engine == "learned" else []
        label = f"kinema {engine}{where if placed else ''}"
        cases.append((label, [*KINEMA, "interpolate", str(clip), "OUT", "--factor", "2", "--engine", engine, *placed, "-y", "-q"]))
        cases.append((f"{label}, serial stages", [sys.executable, "-c", SERIAL, str(clip), "OUT", engine, device if placed else "cpu"]))
    cases.append((f"kinema learned{where} --quality fast", [*KINEMA, "interpolate", str(clip), "OUT", "--factor", "2", "--quality", "fast", *on, "-y", "-q"]))
    rows: list[tuple[str, dict]] = []
    for label, command in cases:
        measure(label, command, out, rows, clip.stem)
    return rows


def extra_rows(clip: Path, data: Path, work: Path, ffmpeg: str, frames: int) -> dict[str, list[tuple[str, dict]]]:
    """gif2video, snapshots, batch and memory rows (720p)."""
    sections: dict[str, list[tuple[str, dict]]] = {}
    gif = make_gif(ffmpeg, clip, work / "clip.gif")
    rows: list[tuple[str, dict]] = []
    measure("ffmpeg GIF → H.264 (the floor)", [ffmpeg, "-v", "error", "-y", "-i", str(gif), *ENCODE, "OUT"], work / "gif-floor.mp4", rows, "gif")
    measure("kinema gif2video", [*KINEMA, "gif2video", str(gif), "OUT", "-y", "-q"], work / "gif.mp4", rows, "gif")
    sections["720p GIF (256 colours, ffmpeg palette)"] = rows
    rows = []
    snapshot = work / "snapshot.png"
    measure("kinema snapshot embed (5 frames)", [*KINEMA, "snapshot", "embed", str(clip), "OUT", "-y"], snapshot, rows, "snapshot")
    rows[-1][1]["frames"] = 1
    measure("kinema snapshot expand (5 frames)", [*KINEMA, "snapshot", "expand", str(snapshot), "OUT", "-y"], work / "expanded.mp4", rows, "snapshot")
    sections["720p snapshot"] = rows
    rows = []
    folder = work / "folder"
    folder.mkdir()
    for k in range(4):
        make_clip(data / SOURCE, folder / f"clip{k}.mp4", frames // 2, 720)
    cores = len(os.sched_getaffinity(0))
    for workers in (1, 2):
        command = [*KINEMA, "batch", "interpolate", str(folder), "OUT", "--factor", "2", "--engine", "classical", "--workers", str(workers), "-q"]
        measure(f"kinema batch, 4 clips, {workers} worker(s) × {max(1, cores // workers)} thread(s)", command, work / f"batch{workers}", rows, "batch")
    (work / "long").mkdir()
    long_clip = make_clip(data / SOURCE, work / "long" / "long.mp4", frames, 720, bounce=4)
    measure(f"kinema classical, {4 * frames} frames, one process", [*KINEMA, "interpolate", str(long_clip), "OUT", "--factor", "2", "--engine", "classical", "-y", "-q"], work / "long-whole.mp4", rows, "long")
    command = [*KINEMA, "batch", "interpolate", str(long_clip.parent), "OUT", "--factor", "2", "--engine", "classical", "--workers", "2", "--chunk-frames", str(frames), "-q"]
    measure(f"kinema batch, {4 * frames} frames in parts of {frames}, 2 workers", command, work / "long-parts", rows, "long")
    sections["720p batch and a long clip (classical engine)"] = rows
    rows = []
    big = make_clip(data / SOURCE, work / "2160p.mp4", 8, 2160)
    for engine in ("classical", "learned"):
        measure(f"kinema {engine}, 8 frames", [*KINEMA, "interpolate", str(big), "OUT", "--factor", "2", "--engine", engine, "-y", "-q"], work / f"4k-{engine}.mp4", rows, "4K")
    sections["2160p memory"] = rows
    return sections


def table(results: dict[str, list[tuple[str, dict]]], frames: int) -> str:
    lines = [
        "| clip | command | wall | frames written / s | × minterpolate | CPU in use | peak RSS |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    cores = len(os.sched_getaffinity(0))
    for clip, rows in results.items():
        reference = dict(rows).get("ffmpeg minterpolate")
        for label, r in rows:
            speed = f"{reference['wall'] / r['wall']:.1f}×" if reference else "—"
            rate = r["frames"] / r["wall"]
            rate_text = f"{rate:.2f}" if rate >= 0.1 else f"{rate:.3f}"
            lines.append(
                f"| {clip} | {label} | {r['wall']:.1f} s | {rate_text} | {speed} | "
                f"{r['cpu'] / r['wall']:.2f} of {cores} cores | {r['rss']:.0f} MB |"
            )
    lines.append("")
    lines.append(
        f"{frames} source frames → {2 * frames - 1}–{2 * frames} written, H.264 CRF 18 medium; {platform.machine()}, "
        f"{cores} cores. CPU in use: user + system seconds of the command and its workers over its wall time; peak RSS: "
        "its largest process. `python -m benchmarks.throughput` (GNU time, one fresh process per row)."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--sizes", type=int, nargs="+", default=[720, 1080])
    parser.add_argument("--no-extras", action="store_true", help="only the retiming rows")
    parser.add_argument("--device", default="cpu", help="where the learned engine's network runs (a GPU run writes its own table)")
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
            results[f"{height}p"] = retime_rows(clip, work, ffmpeg, args.device)
        if not args.no_extras:
            clip = work / "720p.mp4" if 720 in args.sizes else make_clip(args.data / SOURCE, work / "720p.mp4", args.frames, 720)
            results.update(extra_rows(clip, args.data, work, ffmpeg, args.frames))
    text = table(results, args.frames)
    print(text)
    if args.write:
        name = "throughput" if args.device == "cpu" else f"throughput-{args.device.split(':')[0]}"
        print(f"wrote {write_block(name, text)}")


if __name__ == "__main__":
    main()
