"""The learned engine in float32, float16 and bfloat16: what half precision costs in PSNR,
and what it gains in speed, on the device given.

Each precision runs the default learned engine (``LearnedConfig.precision``: the network
under ``torch.autocast``, flows, warps and the full-size composition in float32) over
Middlebury-other and DAVIS; PSNR is compared triplet by triplet with float32 run in the
same process. Speed: in-between frames per second on 1280×720 frames (the best of three
passes over ten pairs), the engine alone, with the guide's DIS on the CPU as always.

    python -m benchmarks.precision [--device cuda] [--sets middlebury davis] [--write]

On a CPU without half-precision units the low precisions are slow (the table says how
slow); the rows that matter for ``Precision.AUTO`` are the CUDA ones.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.report import write_block
from benchmarks.triplets import load_triplets
from benchmarks.vfi import speed_frames
from kinema.engines.learned import LearnedConfig, LearnedEngine, Precision
from kinema.ops.metrics import psnr
from kinema.train.data import DATA_ROOT

PRECISIONS = (Precision.FLOAT32, Precision.FLOAT16, Precision.BFLOAT16)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def scores(engine: LearnedEngine, triplets) -> list[float]:
    out = []
    for tr in triplets:
        with torch.inference_mode():
            pred = engine.midpoint(tr.a.to(engine.device), tr.b.to(engine.device)).cpu()
        out.append(float(psnr(pred, tr.truth)[0]))
    return out


def speed(engine: LearnedEngine, clip: torch.Tensor, pairs: int) -> float:
    """In-between frames per second over ``pairs`` consecutive pairs, best of three."""
    clip = clip.to(engine.device)
    best = float("inf")
    for _ in range(3):
        _sync(engine.device)
        started = time.perf_counter()
        with torch.inference_mode():
            for i in range(pairs):
                engine.interpolate_window(clip[i : i + 1], clip[i + 1 : i + 2], [0.5])
        _sync(engine.device)
        best = min(best, time.perf_counter() - started)
    return pairs / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sets", nargs="+", default=["middlebury", "davis"])
    parser.add_argument("--pairs", type=int, default=10, help="720p pairs timed per pass")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    device = torch.device(args.device)
    started = time.time()
    sets = {name: list(load_triplets(args.data, name)) for name in args.sets}
    clip = speed_frames(args.data)[: args.pairs + 1]
    columns = " | ".join(f"{name} ({len(t)}) PSNR, mean / worst Δ" for name, t in sets.items())
    lines = [f"| precision | {columns} | 720p in-betweens / s |", "|" + " --- |" * (len(sets) + 2)]
    reference: dict[str, list[float]] = {}
    for precision in PRECISIONS:
        engine = LearnedEngine.from_file(config=LearnedConfig(precision=precision), device=device)
        cells = []
        for name, triplets in sets.items():
            values = scores(engine, triplets)
            reference.setdefault(name, values)
            delta = np.array(values) - np.array(reference[name])
            cells.append(f"{np.mean(values):.3f} ({delta.mean():+.4f} / {delta.min():+.4f})")
        line = f"| {precision.value} | {' | '.join(cells)} | {speed(engine, clip, args.pairs):.2f} |"
        lines.append(line)
        print(line, flush=True)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{platform.machine()} CPU, {args.threads} threads"
    lines += [
        "",
        f"Δ: against float32 in the same run, triplet by triplet (dB). `Precision.AUTO` is float16 on CUDA, float32 elsewhere. "
        f"Measured on {where}, torch {torch.__version__}, in {time.time() - started:.0f} s by `python -m benchmarks.precision --device {args.device}`.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        print(f"wrote {write_block('precision-' + device.type, text)}")


if __name__ == "__main__":
    main()
