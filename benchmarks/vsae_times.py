"""How long each ``kinema vsae`` command takes on this machine, at the benchmarks' size.

    python -m benchmarks.vsae_times [--write] [--threads 2]

On the first 100 frames of imageio_cockatoo.mp4 at 256×144 with the autoencoder the
upscale benchmark fits there (``benchmarks.vsae_tools``; fit here for ``--minutes`` if
it is missing). Each command is run once through the library, as the CLI runs it, output
written to ``--out``; the fit's own time is the one its model file records. Wall-clock
seconds include reading the video and writing the output.
"""

from __future__ import annotations

import argparse
import json
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.report import bench_arguments, bench_start, write_block
from benchmarks.vsae import write_clip
from benchmarks.vsae_tools import fit
from kinema.io.output import OutputOptions
from kinema.pipelines.interpolate import InterpolateConfig
from kinema.pipelines.vsae import LoopConfig, latent_map, load_video_model, retime, summary, video_loop
from kinema.pipelines.vsae.edit import edit_video, insert_frame, stitch_images
from kinema.pipelines.vsae.propagate import PropagateConfig, propagate
from kinema.pipelines.vsae.transmit import PackConfig, UnpackConfig, pack, unpack
from kinema.pipelines.vsae.upscale import UpscaleConfig, shrink, upscale
from kinema.train.clips import load_frames

CLIP = "videos/imageio_cockatoo.mp4"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=4.0)
    bench_arguments(parser, out="bench_out/vsae_tools")
    args = parser.parse_args(argv)
    bench_start(args)
    out = args.out / "times"
    out.mkdir(parents=True, exist_ok=True)
    frames = load_frames(args.data / CLIP, 256)[:100]
    clip = args.out / "imageio_cockatoo-all"
    model = args.out / "imageio_cockatoo-all.safetensors"
    if not model.is_file():
        fit(write_clip(frames, clip), model, args.minutes)
    meta = load_video_model(model).meta
    n = len(frames)
    small = write_clip([f for f in shrink(torch.stack(frames).float() / 255, 4).mul(255).round().byte()], out / "small")
    mask = np.zeros((144, 256), np.uint8)
    mask[40:100, 90:170] = 255
    Image.fromarray(mask).save(out / "mask.png")
    frame0, frame50 = out / "f0.png", out / "f50.png"
    for i, path in ((0, frame0), (50, frame50)):
        Image.fromarray(frames[i].permute(1, 2, 0).numpy()).save(path)
    h264 = OutputOptions()
    commands = {
        "map --clusters 4": (n, lambda: latent_map(model, clip, out / "map.png", clusters=4, overwrite=True)),
        "summary --segments 4": (4, lambda: summary(model, clip, out / "summary.png", overwrite=True)),
        "loop --seconds 4": (100, lambda: video_loop(model, clip, out / "loop.mp4", LoopConfig(seconds=4, overwrite=True))),
        "retime --factor 2": (2 * n - 1, lambda: retime(model, clip, out / "x2.mp4", InterpolateConfig(factor=2, overwrite=True))),
        "upscale --scale 4": (n, lambda: upscale(model, small, out / "up.mp4", UpscaleConfig(scale=4, overwrite=True))),
        "propagate --mask": (n, lambda: propagate(model, clip, out / "mask.png", out / "masks", PropagateConfig(overwrite=True))),
        "edit --remove (every frame)": (n, lambda: edit_video(model, clip, out / "removed.mp4", "90,40,80,60", options=h264, overwrite=True)),
        "edit --remove --frame 50": (1, lambda: edit_video(model, clip, out / "removed50.png", "90,40,80,60", frame=50, overwrite=True)),
        "edit --insert … --at …": (1, lambda: insert_frame(model, clip, out / "inserted.png", "50:96,48,64,48", "0:96,48", overwrite=True)),
        "stitch (two frames)": (1, lambda: stitch_images(model, [frame0, frame50], out / "stitched.png", overwrite=True)),
        "pack (lossless, float16)": (n, lambda: pack(model, clip, out / "a.kvae", PackConfig(overwrite=True))),
        "pack --frames-crf 23 --bits 8": (n, lambda: pack(model, clip, out / "b.kvae", PackConfig(crf=23, bits=8, overwrite=True))),
        "unpack": (n, lambda: unpack(out / "b.kvae", out / "unpacked.mp4", UnpackConfig(overwrite=True))),
    }
    rows = ["| command | frames out | seconds | frames/s |", "| --- | --- | --- | --- |"]
    fit_seconds = meta["seconds"]
    rows.append(f"| fit --minutes {fit_seconds / 60:.0f} ({meta['steps']} steps, {meta['psnr']:.2f} dB) | — | {fit_seconds:.0f} | — |")
    results = {"fit": fit_seconds}
    for name, (count, run) in commands.items():
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
        results[name] = round(seconds, 2)
        rows.append(f"| {name} | {count} | {seconds:.1f} | {count / seconds:.1f} |")
        print(rows[-1], flush=True)
    text = "\n".join(rows) + (
        f"\n\nThe first {n} frames of {Path(CLIP).name} at 256×144 ({Fraction(25)} fps), its autoencoder (the default network); "
        f"{args.threads} threads, one run each, reading and writing included. `upscale` reads the frames shrunk 4× (64×36); "
        "`unpack` the CRF-23 pack. The fit's time is the model file's (a time budget: `--minutes`)."
        f"\n\nMeasured by `python -m benchmarks.vsae_times --write` with {args.threads} threads."
    )
    print(text)
    if args.write:
        write_block("vsae-times", text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
