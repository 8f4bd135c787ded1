"""GIF restoration on GIFs kinema's models never saw made: ffmpeg's encoder.

kinema's GIF models train on GIFs made the way Pillow makes them (a median-cut palette per
frame, nearest colour or Floyd–Steinberg). ffmpeg makes them differently: ``palettegen``
computes one palette for the whole clip, ``paletteuse`` maps onto it with no dithering,
ordered (Bayer) dithering or error diffusion (Sierra-2-4A, Floyd–Steinberg). Each held-out
clip (the first frames, longer side 320 px) becomes one GIF per setting; kinema restores it
as ``kinema gif2video`` would (classifier-routed, with and without the consistency step)
and every frame is scored against its source (PSNR, 8-bit RGB). Per setting: the mean
over frames, and the worst clip's gain over its GIF — negative means kinema made it worse.

    python -m benchmarks.gif_encoders [--frames 17] [--write]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.report import write_block
from kinema.engines.gif2video import GifRestorer, count_colors
from kinema.io.gif import GifReader
from kinema.io.pixels import from_hwc
from kinema.ops.metrics import psnr
from kinema.train.data import DATA_ROOT, HELD_OUT_CLIPS
from kinema.train.gif2video import load_sources

DITHERS = ("none", "bayer", "sierra2_4a", "floyd_steinberg")
COLORS = (32, 256)


def ffmpeg_gif(frames: list[np.ndarray], colors: int, dither: str, work: Path, ffmpeg: str) -> list[torch.Tensor]:
    """The frames as ffmpeg makes a GIF of them (one palette for the clip), decoded again."""
    for i, rgb in enumerate(frames):
        Image.fromarray(rgb).save(work / f"f{i:04d}.png")
    graph = f"split[a][b];[a]palettegen=max_colors={colors}:stats_mode=full[p];[b][p]paletteuse=dither={dither}"
    out = work / "out.gif"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-framerate", "10", "-i", str(work / "f%04d.png"), "-filter_complex", graph, str(out)], check=True)
    return [f.image for f in GifReader(out)]


def mean_psnr(images: list[torch.Tensor], truth: list[torch.Tensor]) -> float:
    return float(np.mean([float(psnr(x.clamp(0, 1)[None], t[None])[0]) for x, t in zip(images, truth)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--frames", type=int, default=17)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("ffmpeg is not installed (Debian/Ubuntu: apt-get install ffmpeg)")
    torch.set_flush_denormal(True)
    restorer = GifRestorer.from_folder()
    clips = [load_sources(args.data, (name,))[: args.frames] for name in HELD_OUT_CLIPS]
    lines = [
        "| ffmpeg GIF | GIF | **kinema** | kinema without the consistency step | gain over GIF | worst clip's gain | routed as dithered |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for colors in COLORS:
        for dither in DITHERS:
            per_clip, routed = [], 0
            for frames in clips:
                truth = [from_hwc(f)[0] for f in frames]
                with tempfile.TemporaryDirectory() as tmp:
                    gif = ffmpeg_gif(frames, colors, dither, Path(tmp), ffmpeg)
                dithered = restorer.dither_probability(gif) > 0.5
                routed += dithered
                model = restorer.pick(dithered, max(count_colors(g) for g in gif))
                ours = [restorer.restore(g, model) for g in gif]
                free = [restorer.restore(g, model, consistent=False) for g in gif]
                per_clip.append((truth, gif, ours, free))
            flat = lambda k: [x for clip in per_clip for x in clip[k]]  # noqa: E731
            scores = [mean_psnr(flat(k), flat(0)) for k in (1, 2, 3)]
            worst = min(mean_psnr(c[2], c[0]) - mean_psnr(c[1], c[0]) for c in per_clip)
            row = (
                f"| {colors} colours, {dither} | {scores[0]:.2f} | **{scores[1]:.2f}** | {scores[2]:.2f} | "
                f"{scores[1] - scores[0]:+.2f} dB | {worst:+.2f} dB | {routed}/{len(clips)} |"
            )
            lines.append(row)
            print(row, flush=True)
    lines += [
        "",
        f"Held-out clips {', '.join(Path(n).stem for n in HELD_OUT_CLIPS)}, first {args.frames} frames each at ≤ 320 px; "
        "`palettegen=max_colors=N:stats_mode=full`, `paletteuse=dither=…` (ffmpeg's defaults otherwise). `python -m benchmarks.gif_encoders`.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        print(f"wrote {write_block('gif-encoders', text)}")


if __name__ == "__main__":
    main()
