"""Blurry, low-frame-rate video in; sharp, high-frame-rate video out.

The held-out clips (:data:`kinema.train.data.HELD_OUT_CLIPS`: no training or model
selection read them) are made slower and blurrier with a :class:`~kinema.ops.blur.Shutter`
— at two exposures, 3/4 (frames 4k…4k+2 averaged) and 5/8 (frames 8k…8k+4) — and each
method restores the sharp frame at the centre of every exposure ("source times") and the
sharp frame half-way to the next one ("in-betweens", ``--factor 2``). Scored against the
true frames (PSNR and SSIM, 8-bit RGB), never across a hand-labelled scene cut
(``benchmarks/labels/transitions.json``); frames at most 640 px on the longer side.

Methods: the blurry frames themselves; ``interpolate`` without ``--deblur`` (the learned
engine on the blurry frames); two cascades — a classical deblur then the same
interpolation: unsharp masking, and Richardson–Lucy with a motion kernel (a line along
each frame's median DIS motion, as long as the true exposure makes it: the cascade is
told the exposure kinema has to infer) —; and ``--deblur`` (kinema's network, then the
same interpolation). Then the ``--deblur auto`` check on the same clips sharp and
blurred, what ``--deblur on`` does to a sharp clip, speed, and memory at 4K.

    python -m benchmarks.deblur [--write] [--weights W]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from benchmarks.report import ROOT, write_block
from kinema.engines.deblur import Deblurrer, load_deblurrer
from kinema.engines.learned import LearnedEngine
from kinema.ops.blur import Shutter, gaussian_blur
from kinema.ops.flow import DISPreset, dis_flow, luma
from kinema.ops.metrics import psnr, ssim
from kinema.pipelines.deblur import SHARP_ABOVE_DB, check_blur
from kinema.train.clips import load_frames
from kinema.train.data import DATA_ROOT, HELD_OUT_CLIPS
from kinema.train.deblur import EVAL_SHUTTERS
from kinema.types import Frame

MAX_SIDE = 640


def shots(path: str, frames: int) -> list[range]:
    """The clip's shots as frame ranges, from the hand labels."""
    labels = json.loads((ROOT / "benchmarks" / "labels" / "transitions.json").read_text())["clips"].get(path, [])
    starts = [0, *sorted(first for kind, first, _ in labels if kind == "cut"), frames]
    return [range(a, b) for a, b in zip(starts, starts[1:]) if b > a]


def blurred_shot(frames: list[torch.Tensor], shutter: Shutter) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
    """Blurry frames, their sharp centres and the sharp in-betweens of one shot, ``(1, 3, H, W)``."""
    count = shutter.count(len(frames))
    blurry = [(shutter.blur(frames, k) / 255)[None] for k in range(count)]
    centres = [(frames[shutter.centre(k)].float() / 255)[None] for k in range(count)]
    between = [] if shutter.between(0) is None else [(frames[shutter.between(k)].float() / 255)[None] for k in range(count - 1)]
    return blurry, centres, between


# -- classical deblurring for the cascades -------------------------------------------


def unsharp(frame: torch.Tensor, amount: float = 1.0, sigma: float = 2.0) -> torch.Tensor:
    blur = gaussian_blur(frame, sigma)
    return (frame + amount * (frame - blur)).clamp(0, 1)


def line_kernel(dx: float, dy: float, size: int = 41) -> torch.Tensor:
    """A normalized line of length ``|(dx, dy)|`` through the centre, drawn with sub-samples."""
    kernel = torch.zeros(size, size)
    length = math.hypot(dx, dy)
    samples = max(2, int(4 * length))
    c = size // 2
    for i in range(samples):
        s = (i + 0.5) / samples - 0.5
        x, y = c + s * dx, c + s * dy
        x0, y0 = math.floor(x), math.floor(y)
        fx, fy = x - x0, y - y0
        for (xx, yy, w) in ((x0, y0, (1 - fx) * (1 - fy)), (x0 + 1, y0, fx * (1 - fy)), (x0, y0 + 1, (1 - fx) * fy), (x0 + 1, y0 + 1, fx * fy)):
            if 0 <= xx < size and 0 <= yy < size:
                kernel[yy, xx] += w
    return kernel / kernel.sum()


def richardson_lucy(frame: torch.Tensor, kernel: torch.Tensor, iterations: int = 15) -> torch.Tensor:
    pad = kernel.shape[-1] // 2
    k = kernel.view(1, 1, *kernel.shape).repeat(3, 1, 1, 1)
    flipped = k.flip(-1, -2)

    def conv(x, w):
        return F.conv2d(F.pad(x, (pad, pad, pad, pad), mode="replicate"), w, groups=3)

    estimate = frame.clone()
    for _ in range(iterations):
        ratio = frame / conv(estimate, k).clamp_min(1e-4)
        estimate = (estimate * conv(ratio, flipped)).clamp(0, 1)
    return estimate


def motion_kernels(blurry: list[torch.Tensor], exposure: float) -> list[torch.Tensor]:
    """Each frame's line kernel: its median motion per frame interval (half the flow to
    the next minus the flow to the previous) times the exposure."""
    grey = [luma(b) for b in blurry]
    kernels = []
    for k in range(len(blurry)):
        parts = []
        if k + 1 < len(blurry):
            parts.append(dis_flow(grey[k], grey[k + 1], preset=DISPreset.MEDIUM))
        if k > 0:
            parts.append(-dis_flow(grey[k], grey[k - 1], preset=DISPreset.MEDIUM))
        v = torch.stack(parts).mean(0).flatten(2).median(-1).values[0] if parts else torch.zeros(2)
        kernels.append(line_kernel(float(v[0]) * exposure, float(v[1]) * exposure))
    return kernels


# -- the comparison --------------------------------------------------------------------


def restore(method: str, blurry: list[torch.Tensor], shutter: Shutter, deblurrer: Deblurrer) -> list[torch.Tensor]:
    if method == "blurry":
        return blurry
    if method == "unsharp":
        return [unsharp(b) for b in blurry]
    if method == "richardson-lucy":
        return [richardson_lucy(b, k) for b, k in zip(blurry, motion_kernels(blurry, shutter.exposure))]
    return [s[None] for s in deblurrer.restore(b[0] for b in blurry)]


METHODS = {
    "blurry": "the blurry frames; `interpolate` without `--deblur`",
    "unsharp": "cascade: unsharp masking, then `interpolate`",
    "richardson-lucy": "cascade: Richardson–Lucy with the motion kernel, then `interpolate`",
    "kinema": "`interpolate --deblur on`",
}


def score(pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[float, float]:
    p = [float(psnr(a.clamp(0, 1), b)) for a, b in pairs]
    s = [float(ssim(a.clamp(0, 1), b)) for a, b in pairs]
    p = [x for x in p if math.isfinite(x)]
    return sum(p) / len(p), sum(s) / len(s)


def comparison(data: Path, deblurrer: Deblurrer, engine: LearnedEngine) -> tuple[list[str], dict]:
    lines = ["| exposure | method | source times PSNR / SSIM | in-betweens PSNR / SSIM |", "| --- | --- | --- | --- |"]
    raw = {}
    clips = {c: load_frames(data / c, MAX_SIDE) for c in HELD_OUT_CLIPS}
    for stride, count in EVAL_SHUTTERS:
        shutter = Shutter(stride, count)
        results = {m: ([], []) for m in METHODS}
        for clip, frames in clips.items():
            for shot in shots(clip, len(frames)):
                blurry, centres, between = blurred_shot([frames[i] for i in shot], shutter)
                if len(blurry) < 2:
                    continue
                for method in METHODS:
                    sharp = restore(method, blurry, shutter, deblurrer)
                    with torch.inference_mode():
                        middles = [engine.interpolate(a, b, [0.5])[:, 0] for a, b in zip(sharp, sharp[1:])]
                    results[method][0].extend(zip(sharp, centres))
                    results[method][1].extend(zip(middles, between))
        for method, (source, inner) in results.items():
            (sp, ss), (ip, iss) = score(source), score(inner)
            raw[f"{stride}/{count}/{method}"] = {"source_psnr": sp, "source_ssim": ss, "between_psnr": ip, "between_ssim": iss, "frames": len(source), "in_betweens": len(inner)}
            lines.append(f"| {count}/{stride} | {METHODS[method]} | {sp:.2f} / {ss:.4f} | {ip:.2f} / {iss:.4f} |")
    return lines, raw


def auto_check(data: Path, deblurrer: Deblurrer) -> tuple[list[str], dict]:
    """The ``--deblur auto`` verdict on each held-out clip sharp (as it is) and blurred, and
    what ``--deblur on`` changes in the sharp clip."""
    lines = ["| clip | shutter | change when restored | verdict | `--deblur on` vs the sharp clip |", "| --- | --- | --- | --- | --- |"]
    raw = {}
    for clip in HELD_OUT_CLIPS:
        frames = load_frames(data / clip, MAX_SIDE)
        for stride, count in ((1, 1), *EVAL_SHUTTERS):
            shutter = Shutter(stride, count)
            shot = next(iter(shots(clip, len(frames))))
            blurry, _, _ = blurred_shot([frames[i] for i in shot], shutter)
            stream = [Frame(b[0], pts=0, duration=1, index=i) for i, b in enumerate(blurry)]
            check = check_blur(iter(stream), deblurrer, total=len(stream))
            harm = ""
            if stride == 1:
                restored = [s[None] for s in deblurrer.restore(b[0] for b in blurry)]
                harm = f"{score(list(zip(restored, blurry)))[0]:.2f} dB"
            raw[f"{clip}/{stride}/{count}"] = {"change_db": check.change_db, "blurred": check.blurred}
            name = "sharp (as shot)" if stride == 1 else f"{count}/{stride}"
            lines.append(f"| {Path(clip).stem} | {name} | {check.change_db:.1f} dB | {'blurred' if check.blurred else 'sharp'} | {harm} |")
    return lines, raw


def speed(deblurrer: Deblurrer, engine: LearnedEngine) -> tuple[list[str], dict]:
    """Frames per second on 2 cores: restoring alone, and restoring + one in-between per
    frame (``interpolate --factor 2 --deblur on``: two output frames per source frame)."""
    lines = ["| size | `deblur`: frames / s | `interpolate --factor 2 --deblur on`: output frames / s |", "| --- | --- | --- |"]
    raw = {}
    for name, (height, width) in (("640×360", (360, 640)), ("1280×720", (720, 1280))):
        g = torch.Generator().manual_seed(0)
        base = torch.rand(1, 3, height // 8, width // 8, generator=g)
        frames = [F.interpolate(torch.roll(base, k, -1), size=(height, width), mode="bicubic").clamp(0, 1)[0] for k in range(8)]
        list(deblurrer.restore(iter(frames[:2])))  # warm up
        start = time.perf_counter()
        sharp = list(deblurrer.restore(iter(frames)))
        alone = time.perf_counter() - start
        start = time.perf_counter()
        with torch.inference_mode():
            for a, b in zip(sharp, sharp[1:]):
                engine.interpolate(a[None], b[None], [0.5])
        both = alone + time.perf_counter() - start
        raw[name] = {"deblur_fps": len(frames) / alone, "x2_output_fps": 2 * len(frames) / both}
        lines.append(f"| {name} | {len(frames) / alone:.2f} | {2 * len(frames) / both:.2f} |")
    return lines, raw


def memory_4k(weights: Path | None) -> str:
    """Peak memory of restoring three 4K frames, in a fresh process."""
    code = (
        "import sys, torch, resource;"
        "from kinema.engines.deblur import load_deblurrer;"
        "d = load_deblurrer(sys.argv[1] or None);"
        "frames = [torch.rand(3, 2160, 3840) for _ in range(3)];"
        "[None for _ in d.restore(iter(frames))];"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(weights or "")], capture_output=True, text=True, check=True)
    return f"{int(out.stdout.split()[-1]) / 1024**2:.2f} GiB"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--weights", type=Path, default=None, help="the deblurring network (default: the shipped one)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    deblurrer = load_deblurrer(args.weights)
    engine = LearnedEngine.from_file()
    started = time.perf_counter()
    table, raw = comparison(args.data, deblurrer, engine)
    auto, raw_auto = auto_check(args.data, deblurrer)
    fast, raw_speed = speed(deblurrer, engine)
    peak = "not measured" if args.skip_memory else memory_4k(args.weights)
    text = "\n".join(
        [
            "Held-out clips (" + ", ".join(Path(c).stem for c in HELD_OUT_CLIPS) + f"), longer side ≤ {MAX_SIDE} px; in-betweens by the learned engine (default).",
            "",
            *table,
            "",
            f"`--deblur auto` (sharp above {SHARP_ABOVE_DB:.0f} dB of change), on each clip's first shot:",
            "",
            *auto,
            "",
            f"Speed on {torch.get_num_threads()} threads (synthetic frames, network and flows; in-betweens by the learned engine):",
            "",
            *fast,
            "",
            f"Peak memory restoring 4K frames (3840×2160): {peak}. Whole run {time.perf_counter() - started:.0f} s. `python -m benchmarks.deblur`",
        ]
    )
    print(text)
    if args.json:
        # "rows" is what kinema.train.publish records in a shipped file: the network's rows.
        ours = {key: value for key, value in raw.items() if key.endswith("/kinema")}
        machine = f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"
        rows = {"deblur": {"clips": list(HELD_OUT_CLIPS), **ours}}
        report = {"benchmark": "benchmarks.deblur", "machine": machine, "rows": rows}
        args.json.write_text(json.dumps({**report, "comparison": raw, "auto": raw_auto, "speed": raw_speed, "memory_4k": peak}, indent=2))
    if args.write:
        write_block("deblur", text)


if __name__ == "__main__":
    main()
