"""Sending a video as its autoencoder: ``vsae pack`` / ``unpack`` beside H.264 at the same
bytes, and the paper's temporal table (ALL / ALT fits, with and without reprojection).

    python -m benchmarks.vsae_transmit [--write] [--minutes 4] [--skip temporal]

Clips: the upscale benchmark's (the first 100 frames, longer side 256). Two fits of
``--minutes`` per clip — on every frame (ALL: the sender has the whole video) and on the
even frames (ALT: the odd frames never seen) — reused from ``--out`` when
``benchmarks.vsae_tools`` already made them there.

* **temporal** — the paper's Table 4: every other frame dropped and made again from its
  two neighbours (kept at full size, exact), scored on the 49 dropped frames: latent
  interpolation alone and with 5 reprojections, kinema's learned interpolation engine
  alone (the paper's SuperSlowMo row: an engine trained for the task), and the engine's
  frame pulled onto the video by 5 reprojections (``vsae unpack``'s default).
* **transmit** — each clip packed with several settings, with the weights and without
  (the stream alone: the video-call setting, where the model was sent beforehand),
  unpacked with the defaults and scored against the frames at the model's size. Beside
  it, in the same run: libx264 (4:2:0, ``veryslow``) of the same frames at the same bytes
  (CRF searched), and libx264 of the frames shrunk 4× at the same bytes, enlarged by
  bicubic (a lower resolution is what an encoder at a tiny budget should be given).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from benchmarks.report import bench_arguments, bench_start, run_sections
from benchmarks.vsae import earlier_fit, write_clip
from benchmarks.vsae_tools import UPSCALE_CLIPS, fit
from kinema.engines.latent import LatentEngine
from kinema.engines.learned import LearnedEngine
from kinema.io.h264 import decode_h264, encode_h264
from kinema.io.probe import open_reader
from kinema.ops.metrics import psnr, ssim
from kinema.ops.resize import bicubic
from kinema.pipelines.vsae import load_video_model
from kinema.pipelines.vsae.transmit import PackConfig, UnpackConfig, pack, rebuild, unpack
from kinema.pipelines.vsae.upscale import shrink
from kinema.train.clips import load_frames

#: (label, pack settings) of the transmission table.
PACKS = (
    ("every 2nd frame, ¼ size, lossless", PackConfig(keep_every=2, scale=4, crf=0, bits=16, overwrite=True)),
    ("every 2nd frame, ¼ size, CRF 23", PackConfig(keep_every=2, scale=4, crf=23, bits=8, overwrite=True)),
    ("every 4th frame, ¼ size, CRF 23", PackConfig(keep_every=4, scale=4, crf=23, bits=8, overwrite=True)),
    ("every 2nd frame, ⅛ size, CRF 23", PackConfig(keep_every=2, scale=8, crf=23, bits=8, overwrite=True)),
)


def models(args, rel: str) -> tuple[Path, dict[str, Path], dict]:
    """The clip's frames folder and its ALL and ALT fits (made if missing)."""
    name = Path(rel).stem
    found, fits, frames = {}, {}, None
    for kind, every in (("all", 1), ("alt", 2)):
        path = args.out / f"{name}-{kind}.safetensors"
        if not path.is_file() or args.refit:
            frames = frames or load_frames(args.data / rel, 256)[:100]  # decoded only for a fit
            fits[kind] = fit(write_clip(frames[::every], args.out / f"{name}-{kind}"), path, args.minutes)
        else:
            fits[kind] = earlier_fit(path)
        found[kind] = path
    return args.out / f"{name}-all", found, fits


def scores(pred: torch.Tensor, truth: torch.Tensor) -> tuple[float, float]:
    return float(psnr(pred, truth).mean()), float(ssim(pred, truth).mean())


def bench_temporal(args) -> tuple[str, dict]:
    engine = LearnedEngine.from_file(None)
    methods = {
        "latent interpolation, ALT fit (paper's ALT)": ("alt", "latent", 0),
        "latent interpolation, ALL fit (paper's ALL)": ("all", "latent", 0),
        "latent + 5 reprojections, ALT fit": ("alt", "latent", 5),
        "latent + 5 reprojections, ALL fit (paper's ALL+iterative)": ("all", "latent", 5),
        "kinema's learned engine alone (no autoencoder)": ("all", "engine", 0),
        "engine + 5 reprojections, ALT fit": ("alt", "engine", 5),
        "engine + 5 reprojections, ALL fit": ("all", "engine", 5),
        "**engine + the sender's choice of 0–5 reprojections per frame, ALL fit (`vsae pack`)**": ("all", "chosen", 0),
    }
    per = {m: ([], []) for m in methods}
    fits = {}
    for rel in args.clip:
        folder, paths, fits[Path(rel).stem] = models(args, rel)
        clip = torch.stack([f.image for f in open_reader(folder)])
        nets = {kind: load_video_model(path).net for kind, path in paths.items()}
        a, b, truth = clip[0:-2:2], clip[2::2], clip[1:-1:2]
        for method, (kind, how, passes) in methods.items():
            with torch.inference_mode():
                if how == "latent":
                    mid = torch.cat([LatentEngine(nets[kind], reproject=passes).interpolate(a[i : i + 8], b[i : i + 8], [0.5])[:, 0] for i in range(0, len(a), 8)])
                elif how == "chosen":  # as a pack rebuilds, kept frames sent at full size and losslessly
                    count = 2 * len(a) + 1
                    kept8 = clip[: count : 2].mul(255).round().byte()
                    rebuilt = rebuild(nets[kind], kept8, list(range(0, count, 2)), tuple(clip.shape[-2:]), between=engine, modes=[], truth=lambda idx: clip[idx])
                    mid = torch.stack([frame for index, frame, _ in rebuilt if index % 2])
                else:
                    mid = torch.cat([engine.interpolate(a[i : i + 8], b[i : i + 8], [0.5])[:, 0] for i in range(0, len(a), 8)])
                    mid = nets[kind].reproject(mid, passes)
            p, s = psnr(mid, truth).tolist(), ssim(mid, truth).tolist()
            per[method][0].extend(p)
            per[method][1].extend(s)
            print(Path(rel).stem, method, round(sum(p) / len(p), 2), flush=True)
    rows = ["| in-between frames from | PSNR | SSIM |", "| --- | --- | --- |"]
    results = {}
    for method, (p, s) in per.items():
        results[method] = {"psnr": round(sum(p) / len(p), 2), "ssim": round(sum(s) / len(s), 4)}
        rows.append(f"| {method} | {results[method]['psnr']:.2f} | {results[method]['ssim']:.3f} |")
    text = "\n".join(rows) + (
        f"\n\n{len(per[method][0])} dropped frames (every other frame of the first 100) of {', '.join(Path(c).name for c in args.clip)}, "
        f"made from their two neighbours at full size (longer side 256). Fits: {json.dumps(fits)}."
    )
    return text, {"scores": results, "fits": fits}


def h264_at(frames: torch.Tensor, budget: int, *, chroma: str) -> tuple[float, int, torch.Tensor]:
    """libx264 of ``frames`` (uint8) at the largest size ≤ ``budget`` bytes: ``(crf, bytes,
    decoded)``; at CRF 51 (its coarsest) if even that is larger. An odd size is padded by
    a repeated row/column for 4:2:0 (as ``kinema``'s video writer does) and cropped after."""
    h, w = frames.shape[-2:]
    if chroma == "420" and (h % 2 or w % 2):
        frames = torch.nn.functional.pad(frames.float(), (0, w % 2, 0, h % 2), mode="replicate").byte()
        crf, size, decoded = h264_at(frames, budget, chroma=chroma)
        return crf, size, decoded[..., :h, :w]
    low, high, best = 0.0, 51.0, None
    coarsest = encode_h264(frames, crf=51, chroma=chroma)
    if len(coarsest) > budget:
        return 51.0, len(coarsest), decode_h264(coarsest)
    for _ in range(12):  # CRF to a 1/80 step: well inside a percent of the budget
        crf = (low + high) / 2
        data = encode_h264(frames, crf=crf, chroma=chroma)
        if len(data) <= budget:
            best, high = (crf, data), crf
        else:
            low = crf
    crf, data = best or (51.0, coarsest)
    return crf, len(data), decode_h264(data)


def h264_note(crf: float, size: int) -> str:
    return f"CRF {crf:.1f}" if crf < 51 else f"CRF 51: {size:,} bytes"


def bench_transmit(args) -> tuple[str, dict]:
    rows = [
        "| clip | pack | stream bytes | **PSNR / SSIM** | 5 passes every frame | H.264 at those bytes | H.264 ¼ size at those bytes | bytes with weights | H.264 at those bytes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    results, speed, sizes = {}, {"pack": [0.0, 0], "unpack": [0.0, 0]}, []
    work = args.out / "transmit"
    work.mkdir(exist_ok=True)
    for rel in args.clip:
        name = Path(rel).stem
        folder, paths, _ = models(args, rel)
        clip = torch.stack([f.image for f in open_reader(folder)])
        clip8 = clip.mul(255).round().byte()
        sizes.append(f"{clip.shape[-1]}×{clip.shape[-2]}, {len(clip)} frames")
        quarter = shrink(clip, 4).mul(255).round().clamp(0, 255).byte()
        for label, config in PACKS:
            started = time.perf_counter()
            full = pack(paths["all"], folder, work / "full.kvae", config)
            speed["pack"][0] += time.perf_counter() - started
            speed["pack"][1] += full.frames
            stream = pack(paths["all"], folder, work / "stream.kvae", dataclasses.replace(config, weights=False))
            result = unpack(work / "full.kvae", work / "out", UnpackConfig(overwrite=True))
            speed["unpack"][0] += result.seconds
            speed["unpack"][1] += result.frames
            ours = scores(torch.stack([f.image for f in open_reader(work / "out")]), clip)
            unpack(work / "full.kvae", work / "fixed", UnpackConfig(reproject=5, overwrite=True))
            fixed = scores(torch.stack([f.image for f in open_reader(work / "fixed")]), clip)
            crf_s, bytes_s, dec_s = h264_at(clip8, stream.bytes, chroma="420")
            crf_q, bytes_q, dec_q = h264_at(quarter, stream.bytes, chroma="444")
            crf_w, bytes_w, dec_w = h264_at(clip8, full.bytes, chroma="420")
            at_stream = scores(dec_s.float() / 255, clip)
            at_quarter = scores(bicubic(dec_q.float() / 255, tuple(clip.shape[-2:])).clamp(0, 1), clip)
            at_full = scores(dec_w.float() / 255, clip)
            results[f"{name} {label}"] = {
                "stream_bytes": stream.bytes, "bytes": full.bytes, "weight_bytes": full.weight_bytes, "ours": ours, "five_passes": fixed,
                "h264_stream": {"crf": round(crf_s, 2), "bytes": bytes_s, "scores": at_stream},
                "h264_quarter": {"crf": round(crf_q, 2), "bytes": bytes_q, "scores": at_quarter},
                "h264_full": {"crf": round(crf_w, 2), "bytes": bytes_w, "scores": at_full},
            }  # fmt: skip
            rows.append(
                f"| {name} | {label} | {stream.bytes:,} | **{ours[0]:.2f} / {ours[1]:.3f}** | {fixed[0]:.2f} / {fixed[1]:.3f} | {at_stream[0]:.2f} / {at_stream[1]:.3f} ({h264_note(crf_s, bytes_s)}) | "
                f"{at_quarter[0]:.2f} / {at_quarter[1]:.3f} ({h264_note(crf_q, bytes_q)}) | {full.bytes:,} | {at_full[0]:.2f} / {at_full[1]:.3f} ({h264_note(crf_w, bytes_w)}) |"
            )
            print(rows[-1], flush=True)
    fps = {k: v[1] / v[0] for k, v in speed.items()}
    text = "\n".join(rows) + (
        f"\n\nClips: the first 100 frames of {', '.join(Path(c).name for c in args.clip)} (longer side 256: {', '.join(sizes)}). Packs use the ALL fit; "
        "CRF 23 packs carry 8-bit weights, lossless ones float16; unpacked with the defaults: motion, then the reprojections the sender chose "
        "per frame (0–5 passes; for kept frames with back-projection or not; \"5 passes every frame\": the same file unpacked `--reproject 5`, "
        "kept frames back-projected only when lossless). "
        "\"Stream bytes\": the file packed `--no-weights` (header and kept frames); \"with weights\": the whole file. "
        "H.264 CRF 51 is libx264's coarsest: where even it needs more bytes, its own size is shown beside it. "
        f"Pack {fps['pack']:.0f} frames/s, unpack {fps['unpack']:.1f} frames/s ({args.threads} threads)."
    )
    return text, {"rows": results, "fps": fps}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", nargs="+", default=list(UPSCALE_CLIPS))
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--refit", action="store_true", help="fit again even where a model is in --out")
    bench_arguments(parser, out="bench_out/vsae_tools", sections=("temporal", "transmit"))
    args = parser.parse_args(argv)
    bench_start(args)
    results = run_sections("vsae_transmit", {"temporal": lambda: bench_temporal(args), "transmit": lambda: bench_transmit(args)}, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
