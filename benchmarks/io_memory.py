"""Peak memory and speed of streaming a 720p H.264 file through ``VideoReader``.

Reading must not hold the video: peak RSS should be flat in the number of frames.
Each measurement runs in a fresh process (``ru_maxrss`` is a high-water mark).

    python -m benchmarks.io_memory                 # print the table
    python -m benchmarks.io_memory --write        # and write benchmarks/results/ and the doc
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from kinema.io import VideoOptions, VideoWriter
from kinema.types import Frame


def make_clip(path: Path, frames: int, width: int = 1280, height: int = 720) -> Path:
    """A moving textured 720p clip, written with kinema's own writer (ultrafast preset:
    the point is reading, not encoding)."""
    rng = np.random.default_rng(0)
    texture = torch.from_numpy(rng.random((3, height, width * 2), dtype=np.float32))
    options = VideoOptions(preset="ultrafast", crf=23)
    with VideoWriter(path, options=options, time_base=Fraction(1, 25), rate=Fraction(25)) as writer:
        for i in range(frames):
            shift = (7 * i) % width
            image = texture[:, :, shift : shift + width]
            writer.write(Frame(image=image, pts=Fraction(i, 25), duration=Fraction(1, 25), index=i))
    return path


def measure(path: Path) -> dict:
    """Run in a child process: read every frame, report peak RSS and speed."""
    code = (
        "import json, resource, sys, time\n"
        "from kinema.io import VideoReader\n"
        "t = time.perf_counter(); n = 0; s = 0.0\n"
        f"for f in VideoReader({str(path)!r}):\n"
        "    n += 1; s += float(f.image[0, 0, 0])\n"
        "dt = time.perf_counter() - t\n"
        "print(json.dumps({'frames': n, 'seconds': dt, 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def baseline_rss() -> float:
    code = "import resource, kinema.io; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[250, 500, 1000])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="shared data folder (adds a real clip)")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/ and the doc that quotes it")
    args = parser.parse_args()
    rows = [f"| imports only (`import kinema.io`) | – | – | {baseline_rss():.0f} |"]
    with tempfile.TemporaryDirectory() as tmp:
        clips = [(f"synthetic 1280×720 H.264, {n} frames", make_clip(Path(tmp) / f"c{n}.mp4", n)) for n in args.frames]
        real = args.data / "videos" / "imageio_cockatoo.mp4"
        if real.is_file():
            clips.append((f"`{real.name}` (1280×720 H.264, shared data)", real))
        for label, path in clips:
            r = measure(path)
            rows.append(f"| {label} | {r['frames']} | {r['frames'] / r['seconds']:.0f} | {r['peak_rss_mb']:.0f} |")
    table = "\n".join(
        [
            "| input | frames read | frames/s (decode → float tensor) | peak RSS (MB) |",
            "| --- | ---: | ---: | ---: |",
            *rows,
        ]
    )
    print(table)
    if args.write:
        from benchmarks.report import write_block

        write_block("io_memory", table + f"\n\nMeasured {time.strftime('%Y-%m-%d')} on this 2-core CPU machine by `python -m benchmarks.io_memory --write`.")


if __name__ == "__main__":
    main()
