"""Frame-interpolation benchmark: PSNR / SSIM on the triplet sets, speed at 720p.

Every engine runs in the same process on the same data, so the rows compare fairly:

    python -m benchmarks.vfi                       # full run, print the table
    python -m benchmarks.vfi --write              # and write benchmarks/results/ and the doc
    python -m benchmarks.vfi --limit 20 --skip minterpolate   # quick look
    python -m benchmarks.vfi --sheets out/         # contact sheets of the 3 worst triplets

A new engine is one more entry in ``entries()``. PSNR and SSIM are on 8-bit RGB (peak
255), averaged over the triplets of a set. Speed: in-between frames per second when
doubling the frame rate of the first 11 frames of a real 1280×720 clip, one pair at a
time (minterpolate gets the same 11 frames in one ffmpeg process), best of 3 passes, all
engines timed before any quality run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks.minterpolate import MinterpolateEngine, ffmpeg_path, run_minterpolate
from benchmarks.report import write_block
from benchmarks.triplets import SETS, Triplet, load_triplets
from kinema import weights
from kinema.engines.base import AverageEngine, Engine
from kinema.engines.classical import ClassicalConfig, ClassicalEngine
from kinema.engines.learned import LearnedConfig, LearnedEngine
from kinema.io.pixels import to_hwc
from kinema.io.probe import open_reader
from kinema.ops.bilateral import BilateralConfig
from kinema.ops.metrics import mean_finite, psnr, ssim
from kinema.train.data import DATA_ROOT

SPEED_CLIP = "videos/imageio_cockatoo.mp4"
#: UCF101 is also scored on its first triplets alone, where published CPU runs of RIFE were measured.
FIRST = 50


@dataclass(frozen=True)
class Entry:
    label: str
    make: Callable[[], Engine]
    #: What the row shows, for the table.
    note: str = ""
    #: Ablation rows are measured for quality only.
    speed: bool = True


#: Weights of the learned-engine ablations (trained by the commands in their metadata).
ABLATIONS = Path(__file__).resolve().parent / "weights"


def _learned(weights: Path | None = None, config: Callable[[], LearnedConfig] = LearnedConfig.balanced) -> Callable[[], Engine]:
    return lambda: LearnedEngine.from_file(weights, config())


def entries() -> list[Entry]:
    """The rows of the table, in order. Add an engine here."""
    balanced, best = ClassicalConfig.balanced(), ClassicalConfig.best()
    return [
        Entry("average", AverageEngine, "(a + b) / 2"),
        Entry("minterpolate", MinterpolateEngine, "ffmpeg mci, aobmc, bidir"),
        Entry("DIS plain warp", lambda: ClassicalEngine(ClassicalConfig.plain()), "DIS medium, each input warped by t·flow, averaged"),
        Entry("classical fast", lambda: ClassicalEngine(ClassicalConfig.fast()), "`--quality fast`"),
        Entry("classical balanced", lambda: ClassicalEngine(balanced), "`--engine classical`"),
        Entry("classical best", lambda: ClassicalEngine(best), "`--quality best`"),
        Entry("best − occlusion", lambda: ClassicalEngine(best.replace(occlusion=False)), "no z-buffer in the projection", False),
        Entry("best − multi-scale", lambda: ClassicalEngine(best.replace(multiscale=False)), "no coarse-to-fine start", False),
        Entry("best − hole filling", lambda: ClassicalEngine(best.replace(fill_holes=False)), "holes keep the plain flow", False),
        Entry("balanced + bilateral motion", lambda: ClassicalEngine(balanced.replace(bilateral=BilateralConfig())), "projected motion refined into symmetric motion at t", False),
        Entry("best + bilateral motion", lambda: ClassicalEngine(best.replace(bilateral=BilateralConfig())), "the same on `--quality best`", False),
        Entry("best − projection", lambda: ClassicalEngine(best.replace(projection=False, occlusion=False, fill_holes=False)), "flows scaled in place", False),
        Entry("**learned**", _learned(), "default: network at ≤ 512 px, guided by DIS to full working resolution, multi-scale"),
        Entry("learned fast", _learned(config=LearnedConfig.fast), "`--quality fast`: guided by DIS ultrafast"),
        Entry("learned best", _learned(config=LearnedConfig.best), "`--quality best`: adaptive warping, guide at ≤ 1024 px, 4 flips averaged"),
        Entry("learned, earlier default", _learned(config=lambda: LearnedConfig(guide=balanced)), "guided by classical balanced (the default until this run)"),
        Entry("learned, earlier best", _learned(config=lambda: LearnedConfig(guide=balanced.replace(finest_scale=0))), "guided by DIS to full working resolution, one scale"),
        Entry("default + 2 flips", _learned(config=lambda: LearnedConfig(ensemble=2)), "the default, and mirrored left–right, averaged"),
        Entry("best − ensemble", _learned(config=lambda: dataclasses.replace(LearnedConfig.best(), ensemble=1)), "`best` with one member"),
        Entry("best − adaptive warping", _learned(config=lambda: dataclasses.replace(LearnedConfig.best(), shipped=weights.INTERP)), "`best` with the default weights", False),
        Entry("learned − synthetic data", _learned(ABLATIONS / "interp-real-only.safetensors"), "same recipe, real triplets only", False),
        Entry("  ↳ + ROI adversarial", _learned(ABLATIONS / "interp-roi-adv.safetensors"), "real-only + 300 steps with the ROI adversarial loss", False),
        Entry("  ↳ + same steps, no adversary", _learned(ABLATIONS / "interp-no-adv.safetensors"), "real-only + 300 steps without it (the control)", False),
        Entry("learned − confidence gate", _learned(ABLATIONS / "interp-no-gate.safetensors"), "the default weights with the gate off", False),
        *motion_parts(),
    ]


#: The motion-to-t parts, each fine-tuned from the shipped weights by the same recipe
#: (``docs/models/interp.md``), beside the same fine-tune without them: (label, file, what).
PARTS = (
    ("fine-tuned, no parts (control)", ABLATIONS / "interp-ft-control.safetensors", "the default weights, 1500 more steps of the parts' recipe"),
    ("+ learned priority", ABLATIONS / "interp-priority.safetensors", "DAIN-style z-buffer priority, learned through the projection"),
    ("+ adaptive warping", weights.INTERP_ADAPTIVE.path, "MEMC-style 3×3 kernels around each flow position (the `best` weights)"),
    ("+ both", ABLATIONS / "interp-parts.safetensors", "priority and adaptive warping"),
)


def motion_parts() -> list[Entry]:
    """A row for each of :data:`PARTS` on the default settings (timed: the parts cost time)."""
    return [Entry(f"learned {label}", _learned(path), note) for label, path, note in PARTS]


@dataclass
class Scores:
    psnr: list[float]
    ssim: list[float]
    names: list[str]


def evaluate(engine: Engine, triplets: list[Triplet]) -> Scores:
    scores = Scores([], [], [])
    for tr in triplets:
        with torch.inference_mode():
            pred = engine.midpoint(tr.a, tr.b)
        scores.psnr.append(float(psnr(pred, tr.truth)[0]))
        scores.ssim.append(float(ssim(pred, tr.truth)[0]))
        scores.names.append(tr.name)
    return scores


def speed_frames(data: Path) -> torch.Tensor:
    path = data / SPEED_CLIP
    clip = torch.stack([frame.image for frame in islice(open_reader(path), 11)])
    if clip.shape[-2:] != (720, 1280):
        clip = torch.nn.functional.interpolate(clip, size=(720, 1280), mode="bilinear", antialias=True)
    return clip


def measure_speed(engine: Engine, clip: torch.Tensor, repeats: int = 3) -> float:
    """In-between frames per second at 1280×720: the best of ``repeats`` passes over the
    clip (the usual way to keep scheduler noise out of a timing)."""
    pairs = clip.shape[0] - 1
    best = float("inf")
    for _ in range(repeats):
        if isinstance(engine, MinterpolateEngine):
            started = time.perf_counter()
            run_minterpolate(clip, 2)
        else:
            with torch.inference_mode():
                engine.midpoint(clip[:1], clip[1:2])  # warm-up
                started = time.perf_counter()
                for i in range(pairs):
                    engine.midpoint(clip[i : i + 1], clip[i + 1 : i + 2])
        best = min(best, time.perf_counter() - started)
    return pairs / best


def contact_sheet(engine: Engine, triplets: list[Triplet], scores: Scores, folder: Path, label: str, worst: int = 3) -> list[Path]:
    """Input a | ours | ground truth | input b | error ×4 for the ``worst`` triplets."""
    folder.mkdir(parents=True, exist_ok=True)
    order = np.argsort(scores.psnr)[:worst]
    written = []
    for rank, i in enumerate(order):
        tr = triplets[i]
        with torch.inference_mode():
            pred = engine.midpoint(tr.a, tr.b)
        error = ((pred - tr.truth).abs().mean(1, keepdim=True) * 4).clamp(0, 1).expand(-1, 3, -1, -1)
        tiles = [tr.a, pred, tr.truth, tr.b, error]
        row = np.concatenate([to_hwc(t[0]) for t in tiles], 1)
        path = folder / f"{label}_{tr.set}_{rank + 1}_{tr.name}.png"
        cv2.imwrite(str(path), cv2.cvtColor(row, cv2.COLOR_RGB2BGR))
        written.append(path)
    return written


def table(results: dict[str, dict[str, Scores]], speeds: dict[str, float], entries_: list[Entry], sets: list[str], counts: dict[str, int], reference: str) -> str:
    first = "ucf101" in sets and counts["ucf101"] > FIRST
    header = "| engine | " + " | ".join(f"{s} PSNR / SSIM ({counts[s]})" for s in sets)
    header += f" | ucf101 first {FIRST} PSNR" * first + " | 720p fps | × minterpolate | what |"
    lines = [header, "|" + " --- |" * (len(sets) + 4 + first)]
    base = speeds.get(reference)
    for e in entries_:
        if e.label not in results:
            continue
        cells = [f"{mean_finite(results[e.label][s].psnr):.2f} / {np.mean(results[e.label][s].ssim):.4f}" for s in sets]
        if first:  # the RIFE anchor of the issue was measured on these
            cells.append(f"{mean_finite(results[e.label]['ucf101'].psnr[:FIRST]):.2f}")
        fps = speeds.get(e.label)
        fps_cell = f"{fps:.2f}" if fps is not None else "–"
        ratio = f"{fps / base:.1f}×" if fps is not None and base else "–"
        lines.append(f"| {e.label} | " + " | ".join(cells) + f" | {fps_cell} | {ratio} | {e.note} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT, help="the shared data folder")
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--limit", type=int, default=None, help="at most this many triplets per set")
    parser.add_argument("--skip", nargs="*", default=[], help="labels of rows to leave out (e.g. minterpolate)")
    parser.add_argument("--no-ablations", action="store_true", help="leave out the ablation rows")
    parser.add_argument("--sheets", type=Path, default=None, help="write contact sheets of the 3 worst triplets here")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/ and the doc that quotes it")
    parser.add_argument("--json", type=Path, default=None, help="also write every row's scores here (for kinema.train.publish)")
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = [e for e in entries() if e.label.strip("*") not in args.skip and e.label not in args.skip]
    if args.no_ablations:
        rows = [e for e in rows if e.speed]
    if any(e.label == "minterpolate" for e in rows):
        ffmpeg_path()  # fail now, with the install hint, not after an hour
    # Speed first, every engine from the same fresh process state.
    clip = speed_frames(args.data)
    speeds: dict[str, float] = {}
    for e in rows:
        if e.speed:
            speeds[e.label] = measure_speed(e.make(), clip)
            print(f"{e.label:28s} 720p: {speeds[e.label]:.2f} frames/s", flush=True)
    del clip
    triplets = {s: list(load_triplets(args.data, s, args.limit)) for s in args.sets}
    counts = {s: len(v) for s, v in triplets.items()}
    results: dict[str, dict[str, Scores]] = {}
    for e in rows:
        engine = e.make()
        results[e.label] = {}
        for s in args.sets:
            started = time.perf_counter()
            results[e.label][s] = evaluate(engine, triplets[s])
            sc = results[e.label][s]
            print(f"{e.label:28s} {s:10s} PSNR {mean_finite(sc.psnr):6.2f}  SSIM {np.mean(sc.ssim):.4f}  ({time.perf_counter() - started:.0f} s)", flush=True)
            if args.sheets is not None and e.label.startswith("**"):
                contact_sheet(engine, triplets[s], sc, args.sheets, e.label.strip("*").replace(" ", "_"))
    text = table(results, speeds, rows, args.sets, counts, "minterpolate")
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, OpenCV {cv2.__version__}"
    text += f"\n\nMeasured by `python -m benchmarks.vfi --write` on {machine}" + (f", at most {args.limit} triplets per set" if args.limit else "") + "."
    print(text)
    if args.write:
        write_block("vfi", text)
    if args.json is not None:
        rows_out = {}
        for e in rows:
            row = {s: {"psnr": round(mean_finite(results[e.label][s].psnr), 3), "ssim": round(float(np.mean(results[e.label][s].ssim)), 4), "count": counts[s]} for s in args.sets}
            if "ucf101" in args.sets:
                row[f"ucf101_first{FIRST}"] = {"psnr": round(mean_finite(results[e.label]["ucf101"].psnr[:FIRST]), 3)}
            if e.label in speeds:
                row["fps_720p"] = round(speeds[e.label], 2)
            rows_out[e.label] = row
        args.json.write_text(json.dumps({"machine": machine, "limit": args.limit, "rows": rows_out}, indent=2))


if __name__ == "__main__":
    main()
