"""Test-time adaptation (``--adapt N``) on clips kinema never trained on.

Protocol: the even frames of a clip are "the user's video"; the engine adapts on them
alone (triplets of consecutive even frames), then synthesizes the midpoint of each pair
of even frames, which is scored against the odd frame it never saw. The same engine
without adaptation is the baseline; adaptation time is reported beside the gain.

    python -m benchmarks.adapt [--steps 0 50 200] [--write]
"""

from __future__ import annotations

import argparse
import time
from itertools import islice
from pathlib import Path

import numpy as np
import torch

from benchmarks.report import write_block
from kinema.engines.learned import LearnedEngine
from kinema.io.probe import open_reader
from kinema.ops.metrics import psnr, ssim
from kinema.pipelines.adapt import AdaptConfig, adapt_engine
from kinema.train.clips import HELD_OUT
from kinema.train.data import DATA_ROOT

#: Clips no training run reads: the validation clip and two of the GIFs.
CLIPS = (HELD_OUT, "gifs/xvfi_x4k_003.gif", "gifs/xvfi_x4k_081.gif")


def load(path: Path, limit: int = 60) -> torch.Tensor:
    return torch.stack([frame.image for frame in islice(open_reader(path), limit)])


def score(engine: LearnedEngine, frames: torch.Tensor) -> tuple[float, float]:
    even, odd = frames[0::2], frames[1::2]
    pairs = min(len(even) - 1, len(odd))
    p, s = [], []
    with torch.inference_mode():
        for i in range(pairs):
            pred = engine.midpoint(even[i : i + 1], even[i + 1 : i + 2])
            p.append(float(psnr(pred, odd[i : i + 1])[0]))
            s.append(float(ssim(pred, odd[i : i + 1])[0]))
    return float(np.mean(p)), float(np.mean(s))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 100])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    lines = ["| clip | frames | " + " | ".join(f"adapt {n}: PSNR / SSIM (s)" for n in args.steps) + " |"]
    lines.append("|" + " --- |" * (2 + len(args.steps)))
    for clip in CLIPS:
        frames = load(args.data / clip)
        cells = []
        for steps in args.steps:
            torch.manual_seed(0)
            engine = LearnedEngine.from_file()  # fresh shipped weights for every setting
            started = time.perf_counter()
            adapt_engine(engine, frames[0::2], AdaptConfig(steps=steps))
            seconds = time.perf_counter() - started
            p, s = score(engine, frames)
            cells.append(f"{p:.2f} / {s:.4f} ({seconds:.0f})")
            print(f"{clip:36s} adapt {steps:4d}: {p:.2f} dB  {s:.4f}  ({seconds:.0f} s)", flush=True)
        h, w = frames.shape[-2:]
        lines.append(f"| {Path(clip).name} ({w}×{h}) | {len(frames)} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n\nMeasured by `python -m benchmarks.adapt --write` (even frames adapt, odd frames score)."
    print(text)
    if args.write:
        write_block("adapt", text)


if __name__ == "__main__":
    main()
