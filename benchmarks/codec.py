"""kinema's learned codec beside the codecs people use: rate–distortion on unseen clips.

The held-out clips (:data:`kinema.train.data.HELD_OUT_CLIPS`: no training or model
selection read them), their first ``--frames`` frames with the shorter side scaled to ``--short-side`` px,
are coded at several rates by:

- kinema's codec (``kinema codec encode``, every quality level), and with ``--adapt N``
  (online encoder updating; the stock decoder reads the streams);
- libx264 low-delay P (no B-frames, the same GOP, no scene-cut I-frames) at presets
  veryfast and medium, libx265 medium (the same), libvpx-vp9 (no look-ahead, the same
  key-frame interval), each at several CRFs, through PyAV/FFmpeg from yuv420p.

Rate: bits per pixel of everything the decoder needs (kinema: the whole .kvc file; the
others: their packets). Distortion: PSNR and MS-SSIM on 8-bit RGB against the scaled
source, per frame, averaged. BD-rate (Bjøntegaard, cubic fit of log-rate against PSNR over
the PSNR range both curves cover) of each method against x264 medium, per clip, then
averaged; plus encode and decode frames per second (2 threads, file to file for kinema),
the per-frame PSNR along a GOP, and a figure of the curves.

    python -m benchmarks.codec [--write] [--weights W] [--adapt N]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from benchmarks.report import ROOT, write_block
from kinema.io import OutputOptions, VideoOptions
from kinema.io.probe import open_reader
from kinema.io.video_out import VideoCodec as OutCodec
from kinema.ops.metrics import ms_ssim, psnr
from kinema.ops.resize import fit_within
from kinema.pipelines.codec import decode_video, encode_video, load_engine
from kinema.train.data import DATA_ROOT, HELD_OUT_CLIPS
from tests.media import make_video

GOP = 12
RATE = 25
#: x264 / x265 CRFs: down to the worst picture they make, so their curves reach low PSNRs too.
CRFS = (18, 23, 28, 33, 38, 43, 48, 51)
#: Each FFmpeg codec: (label, codec, options builder from a quality value, quality values).
FFMPEG = (
    ("x264 veryfast", "libx264", lambda q: {"crf": str(q), "preset": "veryfast", "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes=0"}, CRFS),
    ("x264 medium", "libx264", lambda q: {"crf": str(q), "preset": "medium", "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes=0"}, CRFS),
    ("x265 medium", "libx265", lambda q: {"crf": str(q), "preset": "medium", "x265-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes=0:log-level=none"}, CRFS),
    ("vp9", "libvpx-vp9", lambda q: {"crf": str(q), "b": "0", "g": str(GOP), "lag-in-frames": "0", "deadline": "good", "cpu-used": "4"}, (16, 24, 32, 40, 48, 56, 63)),
)  # fmt: skip
ANCHOR = "x264 medium"


def clip_frames(path: Path, frames: int, short_side: int) -> np.ndarray:
    """``(T, H, W, 3)`` uint8: the first ``frames`` frames, the shorter side scaled down to
    ``short_side`` (MS-SSIM's five scales need 176), even sides (for yuv420p)."""
    out = []
    for _, frame in zip(range(frames), open_reader(path), strict=False):
        h, w = frame.image.shape[-2:]
        image = fit_within(frame.image[None], math.ceil(max(h, w) * short_side / min(h, w)))[0]
        h, w = image.shape[-2] // 2 * 2, image.shape[-1] // 2 * 2
        out.append(image[:, :h, :w].permute(1, 2, 0).mul(255).round().to(torch.uint8).numpy())
    return np.stack(out)


def scores(decoded: np.ndarray, source: np.ndarray) -> tuple[list[float], float]:
    """Per-frame PSNR and mean MS-SSIM of ``(T, H, W, 3)`` uint8 frames."""
    a = torch.from_numpy(decoded).permute(0, 3, 1, 2).float() / 255
    b = torch.from_numpy(source).permute(0, 3, 1, 2).float() / 255
    return psnr(a, b).tolist(), float(ms_ssim(a, b).mean())


def ffmpeg_point(frames: np.ndarray, codec: str, options: dict) -> dict:
    """Encode with FFmpeg in memory, decode, score."""
    t, h, w, _ = frames.shape
    buffer = io.BytesIO()
    started = time.perf_counter()
    with av.open(buffer, "w", format="matroska") as out:
        stream = out.add_stream(codec, rate=RATE)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = options
        stream.thread_count = 2
        payload = 0
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                payload += packet.size
                out.mux(packet)
        for packet in stream.encode(None):
            payload += packet.size
            out.mux(packet)
    encode_s = time.perf_counter() - started
    buffer.seek(0)
    started = time.perf_counter()
    with av.open(buffer) as source:
        decoded = np.stack([f.to_ndarray(format="rgb24") for f in source.decode(video=0)])
    decode_s = time.perf_counter() - started
    per_frame, msssim = scores(decoded, frames)
    return {"bpp": 8 * payload / (t * h * w), "psnr": float(np.mean(per_frame)), "ms_ssim": msssim, "per_frame": per_frame, "encode_fps": t / encode_s, "decode_fps": t / decode_s}


def kinema_point(frames: np.ndarray, engine, level: int, adapt: int, folder: Path) -> dict:
    """``kinema codec encode`` / ``decode`` file to file (lossless source and output)."""
    t, h, w, _ = frames.shape
    source = folder / "source.nut"
    if not source.exists():
        make_video(source, t, size=(h, w), time_base=Fraction(1, RATE), images=list(frames), codec="ffv1", pix_fmt="bgr0")
    stream, decoded_path = folder / f"l{level}a{adapt}.kvc", folder / f"l{level}a{adapt}.nut"
    encoded = encode_video(source, stream, level=level, gop=GOP, adapt=adapt, engine=engine, overwrite=True)
    result = decode_video(stream, decoded_path, engine=engine, output_options=OutputOptions(video=VideoOptions(codec=OutCodec.FFV1)), overwrite=True)
    decoded = np.stack([(f.image.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy() for f in open_reader(decoded_path)])
    per_frame, msssim = scores(decoded, frames)
    return {"bpp": 8 * encoded.bytes / (t * h * w), "psnr": float(np.mean(per_frame)), "ms_ssim": msssim, "per_frame": per_frame, "encode_fps": t / encoded.seconds, "decode_fps": t / result.seconds}


def bd_rate(anchor: list[dict], test: list[dict]) -> float | None:
    """Bjøntegaard delta rate (%) of ``test`` against ``anchor`` (cubic fits of log-rate
    against PSNR, integrated over the PSNR range both cover); None without overlap."""
    def fit(points):
        points = sorted(points, key=lambda p: p["psnr"])
        return np.polyfit([p["psnr"] for p in points], [math.log(p["bpp"]) for p in points], 3), points[0]["psnr"], points[-1]["psnr"]

    (pa, la, ha), (pt, lt, ht) = fit(anchor), fit(test)
    low, high = max(la, lt), min(ha, ht)
    if high <= low:
        return None
    ia, it = np.polyint(pa), np.polyint(pt)
    mean = ((np.polyval(it, high) - np.polyval(it, low)) - (np.polyval(ia, high) - np.polyval(ia, low))) / (high - low)
    return 100 * (math.exp(mean) - 1)


def figure(curves: dict[str, list[dict]], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, points in curves.items():
        points = sorted(points, key=lambda p: p["bpp"])
        style = "o-" if name.startswith("kinema") else ".--"
        left.plot([p["bpp"] for p in points], [p["psnr"] for p in points], style, label=name)
        right.plot([p["bpp"] for p in points], [p["ms_ssim"] for p in points], style, label=name)
    left.set(xlabel="bits per pixel", ylabel="PSNR (dB, RGB)", xscale="log")
    right.set(xlabel="bits per pixel", ylabel="MS-SSIM (RGB)", xscale="log")
    left.legend(fontsize=8)
    fig.suptitle("Held-out clips, mean over clips (benchmarks/codec.py)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def mean_curve(per_clip: dict[str, list[dict]]) -> list[dict]:
    """The mean over clips of each setting (the i-th point of every clip)."""
    clips = list(per_clip.values())
    return [{k: float(np.mean([c[i][k] for c in clips])) for k in ("bpp", "psnr", "ms_ssim", "encode_fps", "decode_fps")} for i in range(len(clips[0]))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--weights", type=Path, default=None, help="codec weights (default: the shipped ones)")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--short-side", type=int, default=192)
    parser.add_argument("--adapt", type=int, default=60, help="encoder-updating steps for the --adapt rows (0: skip them)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--report", type=Path, default=None, help="report the results a --json run saved (no measuring)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    if args.report is not None:
        saved = json.loads(args.report.read_text())
        results, sizes = saved["results"], saved["sizes"]
        text = report(results, sizes, args)
        print(text)
        image = figure({name: mean_curve(per_clip) for name, per_clip in results.items()}, ROOT / "docs" / "codec-rd.png")
        if args.write:
            write_block("codec", text + (f"\n\nFigure: `{image.relative_to(ROOT)}`." if image else ""))
        return
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    engine = load_engine(args.weights)
    levels = range(1, engine.levels + 1)
    results: dict[str, dict[str, list[dict]]] = {}
    sizes = {}
    with tempfile.TemporaryDirectory() as scratch:
        for clip in HELD_OUT_CLIPS:
            frames = clip_frames(args.data / clip, args.frames, args.short_side)
            name = Path(clip).stem
            sizes[name] = f"{frames.shape[2]}×{frames.shape[1]}"
            folder = Path(scratch) / name
            folder.mkdir()
            for label, codec, options, qualities in FFMPEG:
                results.setdefault(label, {})[name] = [ffmpeg_point(frames, codec, options(q)) for q in qualities]
            results.setdefault("kinema", {})[name] = [kinema_point(frames, engine, level, 0, folder) for level in levels]
            if args.adapt:
                results.setdefault(f"kinema --adapt {args.adapt}", {})[name] = [kinema_point(frames, engine, level, args.adapt, folder) for level in levels]
            print(f"{name}: done", flush=True)
    text = report(results, sizes, args)
    print(text)
    image = figure({name: mean_curve(per_clip) for name, per_clip in results.items()}, ROOT / "docs" / "codec-rd.png")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "sizes": sizes}, indent=2))
    if args.write:
        write_block("codec", text + (f"\n\nFigure: `{image.relative_to(ROOT)}`." if image else ""))


def report(results: dict, sizes: dict, args) -> str:
    names = list(next(iter(results.values())))
    lines = [
        f"Clips (no training read them): {', '.join(f'{n} {sizes[n]}' for n in names)}; first {args.frames} frames, shorter side {args.short_side} px, GOP {GOP}, low-delay (I then P).",
        "",
        "| method | BD-rate vs x264 medium (PSNR) | " + " | ".join(names) + " | bpp range | PSNR range | MS-SSIM range | encode fps | decode fps |",
        "| --- | --- | " + " | ".join("---" for _ in names) + " | --- | --- | --- | --- | --- |",
    ]
    anchor = results[ANCHOR]
    for method, per_clip in results.items():
        deltas = {n: bd_rate(anchor[n], per_clip[n]) for n in names}
        known = [d for d in deltas.values() if d is not None]
        mean = f"{np.mean(known):+.1f} %" if len(known) == len(names) else "no overlap on some clip"
        curve = mean_curve(per_clip)
        cells = " | ".join("—" if d is None else f"{d:+.1f} %" for d in deltas.values())
        lines.append(
            f"| {method} | {mean} | {cells} | {min(p['bpp'] for p in curve):.3f}–{max(p['bpp'] for p in curve):.3f} | "
            f"{min(p['psnr'] for p in curve):.2f}–{max(p['psnr'] for p in curve):.2f} | {min(p['ms_ssim'] for p in curve):.4f}–{max(p['ms_ssim'] for p in curve):.4f} | "
            f"{np.mean([p['encode_fps'] for p in curve]):.1f} | {np.mean([p['decode_fps'] for p in curve]):.1f} |"
        )
    lines += ["", "Mean over clips at each setting (bpp / PSNR dB / MS-SSIM):", ""]
    for method, per_clip in results.items():
        lines.append(f"- {method}: " + "; ".join(f"{p['bpp']:.3f} / {p['psnr']:.2f} / {p['ms_ssim']:.4f}" for p in mean_curve(per_clip)))
    adapted = [m for m in results if m.startswith("kinema --adapt")]
    if "kinema" in results and adapted:
        deltas = [bd_rate(results["kinema"][n], results[adapted[0]][n]) for n in names]
        cells = ", ".join(f"{n} {d:+.1f} %" for n, d in zip(names, deltas, strict=True) if d is not None)
        known = [d for d in deltas if d is not None]
        lines += ["", f"`{adapted[0]}` against kinema without adaptation (BD-rate, PSNR): {np.mean(known):+.1f} % ({cells})."]
    if "kinema" in results:
        lines += ["", "PSNR along the GOP (kinema, middle level, mean over clips and GOPs; frame 1 is the I-frame):", ""]
        middle = (len(next(iter(results["kinema"].values()))) - 1) // 2
        along = np.mean([np.array(c[middle]["per_frame"]).reshape(-1, GOP) for c in results["kinema"].values()], axis=(0, 1))
        lines.append(" ".join(f"{v:.2f}" for v in along))
    lines.append(f"\nMeasured by `python -m benchmarks.codec --adapt {args.adapt} --write` with {args.threads} threads; PyAV {av.__version__}.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
