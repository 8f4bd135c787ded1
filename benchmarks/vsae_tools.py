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
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.report import write_block
from benchmarks.vsae import write_clip
from kinema.ops.metrics import psnr, ssim
from kinema.ops.resize import resize
from kinema.pipelines.vsae import FitVideoConfig, fit_video, load_video_model
from kinema.pipelines.vsae.upscale import upscale_frames
from kinema.train.clips import load_frames
from kinema.train.data import DATA_ROOT
from kinema.train.video_ae import FitConfig

UPSCALE_CLIPS = ("videos/imageio_cockatoo.mp4", "sequences/davis_selfie")
SCALES = (4, 16, 32)


def fit(folder: Path, model: Path, minutes: float, *, multi_res: int = 1) -> dict:
    config = FitVideoConfig(max_side=256, fit=FitConfig(minutes=minutes, epochs=10**6, multi_res=multi_res), resume=False, overwrite=True)
    r = fit_video(folder, model, config).report
    return {"steps": r.steps, "epochs": round(r.epochs, 1), "psnr": round(r.psnr, 2)}


def shrink(frames: torch.Tensor, scale: int) -> torch.Tensor:
    """What a receiver gets: frames shrunk ``scale`` times, in 8 bits."""
    h, w = frames.shape[-2:]
    small = resize(frames, max(1, round(h / scale)), max(1, round(w / scale)))
    return small.clamp(0, 1).mul(255).round().div(255)


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
        f"\n\nClips: {clips} (up to the first 100 frames, longer side 256: 256×144 here). Each fit: {args.minutes:g} min on "
        f"{args.threads} threads. Reconstruction PSNR of the fits: {fit_psnr}. "
        f"The default upscales {speed[1] / speed[0]:.1f} frames/s (256×144 output, {args.threads} threads)."
    )
    return text, {"scores": results, "per_clip_psnr": per_clip, "fits": fits, "default_fps": round(speed[1] / speed[0], 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--out", type=Path, default=Path("bench_out/vsae_tools"))
    parser.add_argument("--upscale-clip", nargs="+", default=list(UPSCALE_CLIPS))
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip", choices=["upscale"], action="append", default=[])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    if "upscale" not in args.skip:
        text, results["upscale"] = bench_upscale(args, args.out)
        text += f"\n\nMeasured by `python -m benchmarks.vsae_tools --write` with {args.threads} threads."
        print(text)
        if args.write:
            write_block("vsae-upscale", text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
