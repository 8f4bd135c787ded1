"""GIF restoration on GIFs from every encoder this machine has, on clips no model read.

Each held-out clip (the first frames, longer side 320 px) becomes one GIF per encoder,
dither mode and palette size (:mod:`kinema.train.gif_encoders`: Pillow, ffmpeg's own and
the ``imageio-ffmpeg`` one, gifsicle — which no model trained on). Every frame is scored
against its source (PSNR / SSIM, 8-bit RGB) for:

* the GIF itself; Gaussian smoothing σ = 0.5; ffmpeg's ``gradfun`` and ``deband`` filters
  at their defaults (classical debanding a user would try, run on the GIF's RGB planes);
* kinema as ``kinema gif2video`` runs it: the classifier picks the kind (or keeps the GIF
  when unsure), the CCDNet restores, each frame is fused with its two motion-aligned
  neighbours (``--temporal 1``), gets the consistency step of that kind and goes its
  kind's share of the way from the GIF (``STRENGTH``; the flat kind's set per frame, the
  "strength" column: mean and range); the same at strength 1; the same
  network output frame by frame (``--temporal 0``), with the exact cells (no margin), and
  with no step (both frame by frame; the last at strength 1).

Also per setting: the share of source pixels inside their GIF colour's RGB cell (the
constraint the step relies on), GIFs whose kind the classifier called right, the worst
clip's gain over its GIF (negative: kinema made that clip worse); per encoder, the
classifier's per-frame accuracy.

    python -m benchmarks.gif_encoders [--frames 9] [--write]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from benchmarks.gif2video import fmt, gaussian, scores
from benchmarks.report import write_block
from kinema.engines.gif2video import GifRestorer, cell_signs, count_colors, flat_strength
from kinema.io.pixels import from_hwc
from kinema.models.gif2video import GifKind
from kinema.ops.color import in_cell, palette_of
from kinema.train.data import DATA_ROOT, HELD_OUT_CLIPS
from kinema.train.gif2video import HELD_OUT_SMOOTH_SEEDS, load_sources, smooth_clips
from kinema.train.gif_encoders import encoders

LEVELS = (32, 64, 128, 256)


def ffmpeg_filter(frames: list[np.ndarray], name: str, ffmpeg: str) -> list[np.ndarray]:
    """``frames`` through one ffmpeg video filter, in planar RGB (no chroma subsampling)."""
    h, w = frames[0].shape[:2]
    command = [ffmpeg, "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-i", "-"]
    command += ["-vf", f"format=gbrp,{name},format=rgb24", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    done = subprocess.run(command, input=np.stack(frames).tobytes(), capture_output=True, check=True)
    return list(np.frombuffer(done.stdout, np.uint8).reshape(len(frames), h, w, 3))


def _span(strengths: list[float]) -> str:
    """The strengths kinema's frames got: one value, or the mean and the range."""
    if not strengths:
        return "–"
    low, high = min(strengths), max(strengths)
    return f"{low:.2f}" if high - low < 0.005 else f"{np.mean(strengths):.2f} ({low:.2f}–{high:.2f})"


def smooth_accuracy(restorer: GifRestorer, coders, levels, clips) -> dict[str, tuple[int, int]]:
    """Per encoder: (frames the classifier calls right, frames) over ``clips`` at ``levels``."""
    found = {}
    for coder in coders:
        right = total = 0
        for level in levels:
            for frames in clips:
                for gif in coder.encode(frames, level):
                    right += int(np.argmax(restorer.kind_probabilities([from_hwc(gif)[0]]))) == coder.kind
                    total += 1
        found[coder.name] = (right, total)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--frames", type=int, default=9)
    parser.add_argument("--models", type=Path, default=None, help="folder of GIF weights (default: the shipped ones)")
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS), help="palette sizes (default: all four)")
    parser.add_argument("--only", default=None, help="only encoders whose name contains this (quick checks)")
    parser.add_argument("--smooth", type=int, default=6, help="synthetic smooth clips the classifier is also scored on")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("ffmpeg is not installed (Debian/Ubuntu: apt-get install ffmpeg; or pip install imageio-ffmpeg)")
    torch.set_flush_denormal(True)
    started = time.time()
    restorer = GifRestorer.from_folder(args.models)
    clips = [load_sources(args.data, (name,))[: args.frames] for name in HELD_OUT_CLIPS]
    coders = [c for c in encoders() if args.only is None or args.only in c.name]
    header = (
        "| encoder | colours | true colour in its cell | kind called | strength | GIF | Gaussian σ=0.5 | gradfun | deband | **kinema** "
        "| gain | worst clip | strength 1 | its worst clip | frame by frame | its worst clip | exact cells | no step |"
    )
    lines = [header, "|" + " --- |" * (header.count("|") - 1)]
    rows, per_frame = [], defaultdict(lambda: [0, 0])
    for coder in coders:
        for level in args.levels:
            per_clip, inside, called, strengths = [], [], 0, []
            for frames in clips:
                gifs = coder.encode(frames, level)
                truth = [from_hwc(f)[0] for f in frames]
                images = [from_hwc(g)[0] for g in gifs]
                inside += [float(in_cell(f, g).mean()) for f, g in zip(frames, gifs)]
                plan = restorer.plan(images[:: max(1, len(images) // 8)], max(count_colors(i) for i in images))
                called += plan.kind is coder.kind
                for image in images:
                    probabilities = restorer.kind_probabilities([image])
                    per_frame[coder.name][0] += int(np.argmax(probabilities)) == coder.kind
                    per_frame[coder.name][1] += 1
                out = {"gif": images, "gauss": [gaussian(i, 0.5) for i in images]}
                for name in ("gradfun", "deband"):
                    out[name] = [from_hwc(x)[0] for x in ffmpeg_filter(gifs, name, ffmpeg)]
                if plan.model is None:
                    out["ours"] = out["exact"] = out["free"] = out["single"] = out["full"] = images
                else:
                    free = [restorer.restore(i, plan.model, consistent=False) for i in images]
                    # Each frame's own strength frame by frame (the flat kind's from its own signs),
                    # then gif2video's own last steps (local means, cells, strength) with a margin.
                    alone = [plan.strength if plan.strength is not None else flat_strength(cell_signs(i, f)) for i, f in zip(images, free)]
                    finish = lambda margin: [  # noqa: E731
                        restorer.consistent(f, i, palette_of(g), margin, s, plan.means) for f, i, g, s in zip(free, images, gifs, alone)
                    ]
                    out["free"] = free
                    out["single"] = finish(plan.margin)
                    # Exact cells, for the rows where kinema widens them (is the margin worth it?).
                    out["exact"] = finish(0.0) if plan.margin else out["single"]
                    # The default: each frame fused with its neighbours (``--temporal 1``).
                    fused: list[float] = []
                    out["ours"] = list(restorer.restore_frames(images, plan, temporal=1, on_strength=fused.append))
                    strengths += fused
                    # The same all the way to the restoration (strength 1), undone arithmetically.
                    out["full"] = [i + (o - i) / s for i, o, s in zip(images, out["ours"], fused)]
                # SSIM (slow) only where the tables show it.
                per_clip.append({k: scores([x.clamp(0, 1) for x in v], truth, with_ssim=k in ("gif", "ours")) for k, v in out.items()})
            mean = {k: tuple(float(np.mean([c[k][j] for c in per_clip])) for j in (0, 1)) for k in per_clip[0]}
            gain = mean["ours"][0] - mean["gif"][0]
            worst = min(c["ours"][0] - c["gif"][0] for c in per_clip)
            worst_single = min(c["single"][0] - c["gif"][0] for c in per_clip)
            worst_full = min(c["full"][0] - c["gif"][0] for c in per_clip)
            row = {"encoder": coder.name, "kind": coder.kind.name, "colors": level, "inside": float(np.mean(inside)), "called": called, "gifs": len(clips), **mean, "gain": gain, "worst": worst, "worst_single": worst_single, "worst_full": worst_full, "strengths": strengths}
            rows.append(row)
            line = (
                f"| {coder.name} | {level} | {100 * row['inside']:.1f} % | {called}/{len(clips)} | {_span(strengths)} | {fmt(mean['gif'])} | {mean['gauss'][0]:.2f} | "
                f"{mean['gradfun'][0]:.2f} | {mean['deband'][0]:.2f} | **{fmt(mean['ours'])}** | {gain:+.2f} dB | {worst:+.2f} dB | "
                f"{mean['full'][0]:.2f} | {worst_full:+.2f} dB | "
                f"{mean['single'][0]:.2f} | {worst_single:+.2f} dB | {mean['exact'][0]:.2f} | {mean['free'][0]:.2f} |"
            )
            lines.append(line)
            print(line, flush=True)
    smooth = smooth_accuracy(restorer, coders, args.levels, smooth_clips(args.smooth, first_seed=HELD_OUT_SMOOTH_SEEDS))
    flat = [r for r in rows if r["kind"] == GifKind.NONE.name]
    dithered32 = [r for r in rows if r["kind"] != GifKind.NONE.name and r["colors"] == 32]
    worse = [r for r in rows if r["worst"] < 0]
    lines += [
        "",
        f"Mean gain over the GIF: not dithered {np.mean([r['gain'] for r in flat]):+.2f} dB ({len(flat)} settings; frame by frame "
        f"{np.mean([r['single'][0] - r['gif'][0] for r in flat]):+.2f}); dithered at 32 colours {np.mean([r['gain'] for r in dithered32]):+.2f} dB "
        f"({len(dithered32)} settings; frame by frame {np.mean([r['single'][0] - r['gif'][0] for r in dithered32]):+.2f}); "
        f"at strength 1: {np.mean([r['full'][0] - r['gif'][0] for r in flat]):+.2f} and {np.mean([r['full'][0] - r['gif'][0] for r in dithered32]):+.2f} dB. "
        f"Settings where some clip came out worse than its GIF: {len(worse)} of {len(rows)} "
        f"(at strength 1: {sum(r['worst_full'] < 0 for r in rows)}; frame by frame: {sum(r['worst_single'] < 0 for r in rows)})"
        + (f" (worst {min(r['worst'] for r in worse):+.2f} dB: {min(worse, key=lambda r: r['worst'])['encoder']}, "
           f"{min(worse, key=lambda r: r['worst'])['colors']} colours)." if worse else "."),
        "",
        "Classifier, per-frame accuracy per encoder (all palette sizes and clips): "
        + "; ".join(f"{name} {100 * right / total:.1f} %" for name, (right, total) in per_frame.items())
        + ".",
        "",
        f"Classifier on {args.smooth} synthetic clips of smooth gradients and shaded discs (`kinema.train.gif2video.smooth_clips`, "
        "seeds no training draws; 6 frames of 160², all palette sizes), per-frame accuracy per encoder: "
        + "; ".join(f"{name} {100 * right / total:.1f} %" for name, (right, total) in smooth.items())
        + ".",
        "",
        f"Held-out clips {', '.join(Path(n).stem for n in HELD_OUT_CLIPS)}, first {args.frames} frames each at ≤ 320 px. "
        f"Measured in {time.time() - started:.0f} s by `python -m benchmarks.gif_encoders`.",
    ]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.json:
        # The shape kinema.train.publish reads: --row classifier records the per-encoder accuracy.
        table = {f"{r['encoder']}, {r['colors']}": r for r in rows}
        table["classifier"] = {
            "per_encoder_frame_accuracy": {name: right / total for name, (right, total) in per_frame.items()},
            "smooth_clips_per_encoder_frame_accuracy": {name: right / total for name, (right, total) in smooth.items()},
        }
        args.json.write_text(json.dumps({"benchmark": "benchmarks.gif_encoders", "machine": platform.platform(), "rows": table}, indent=1))
    if args.write:
        print(f"wrote {write_block('gif-encoders', text)}")


if __name__ == "__main__":
    main()
