"""Train the GIF restoration models.

    python -m kinema.train.run_gif2video ccdnet --out runs/gif-flat-32 --colors 32 [--dithered]
    python -m kinema.train.run_gif2video dither --out runs/dither

The ``ccdnet`` trainer is data-parallel under torchrun, with the same global batch and
the same losses (see :mod:`kinema.train.distributed`):

    torchrun --nproc_per_node 2 -m kinema.train.run_gif2video ccdnet --out runs/gif-flat-32 --colors 32

The command line is recorded in each weight file's metadata. A ``ccdnet`` run is
resumable: the same command continues from ``OUT``. ``--init`` starts from other weights
(the 64/128/256-colour models are fine-tuned from the 32-colour ones).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from kinema.models.gif2video import CCDNet, CCDNetConfig, DitherConfig, DitherNet, GifKind
from kinema.train.data import DATA_ROOT, HELD_OUT_CLIPS
from kinema.train.distributed import end_rank, join, leave
from kinema.train.gif_encoders import EncodedSet, training_encoders
from kinema.train.gif_strength import clip_sets, load_clip
from kinema.train.gif2video import (
    GIF_SOURCES,
    DitherTrainConfig,
    GifFrames,
    GifTrainConfig,
    dither_accuracy,
    grow,
    kind_batch,
    load_clips,
    load_sources,
    smooth_clips,
    train_ccdnet,
    train_dither,
)
from kinema.train.loop import finish_run

LEVELS = (32, 64, 128, 256)


def _ccdnet(args, argv) -> None:
    cfg = GifTrainConfig(steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed, eval_every=args.eval_every, adversarial=args.adversarial, rmse=args.rmse)
    if args.encoders and args.photo_sides:
        raise SystemExit("--photo-sides is for Pillow's GIFs only: leave it out with --encoders")
    replica, device = join(args.device)
    # Everything read, for the data fingerprint: --photo-sides reads the photos even when
    # --sources leaves them out.
    read = list(dict.fromkeys([*args.sources, "photos"])) if args.photo_sides else list(args.sources)
    g = torch.Generator().manual_seed(1234)
    if args.encoders:
        # GIFs as every training encoder makes them, of the kinds this model serves.
        kinds = [GifKind.DIFFUSION, GifKind.ORDERED] if args.dithered else [GifKind.NONE]
        coders = [c for c in training_encoders() if c.kind in kinds]
        clips = load_clips(args.data, args.sources, every=args.every, slideshow=True)
        data = EncodedSet(clips, coders, (args.colors,), crop=args.crop).of_kinds(kinds)
        held = EncodedSet(load_clips(args.data, args.held_out[:1]), coders, (args.colors,), crop=args.crop).of_kinds(kinds)
        validation = [held.sample(g) for _ in range(32)]
    else:
        frames = load_sources(args.data, args.sources, every=args.every)
        for side in args.photo_sides:  # the photos again at larger sizes: more distinct content
            frames += load_sources(args.data, ("photos",), max_side=side)
        data = GifFrames(frames, (args.colors,), crop=args.crop)
        held = GifFrames(load_sources(args.data, args.held_out[:1]), (args.colors,), crop=args.crop)
        validation = [held.sample(g, dither=args.dithered) for _ in range(16)]
    # Seeded here, not by whatever ran before: every torchrun rank (and a single-process
    # run) must build the same initial weights.
    torch.manual_seed(args.seed)
    if args.init is not None:
        init, _ = CCDNet.load(args.init)
        weights = init.state_dict()
        net = CCDNet(dataclasses.replace(init.config, dithered=args.dithered, colors=args.colors))
        net.load_state_dict(weights)
        if args.widths is not None and tuple(args.widths) != net.config.widths:
            net = grow(net, tuple(args.widths))
    else:
        base = CCDNetConfig.tiny() if args.tiny else CCDNetConfig()
        if args.widths is not None:
            base = dataclasses.replace(base, widths=tuple(args.widths))
        net = CCDNet(dataclasses.replace(base, dithered=args.dithered, colors=args.colors))

    def report(step: int, row: dict) -> None:
        print(f"step {step}: loss {row['loss']:.4f}, validation {row['val_psnr']:.2f} dB, {row['seconds']:.0f} s", flush=True)

    try:
        step = train_ccdnet(net, data, validation, cfg, args.out, device=device, stop_at=args.stop_at, progress=report, replica=replica)
    finally:
        leave()
    if not replica.main:
        return
    if step == cfg.steps:
        path = finish_run(
            net, args.out / "ccdnet.safetensors", script="kinema.train.run_gif2video", argv=argv, steps=step, processes=replica.world,
            data=[args.data / s for s in read], train=cfg, init=args.init, photo_sides=list(args.photo_sides),
        )  # fmt: skip
        print(f"wrote {path}")

def _dither(args, argv) -> None:
    torch.manual_seed(args.seed)
    coders = training_encoders()
    clips = load_clips(args.data, GIF_SOURCES, every=args.every, slideshow=True) + smooth_clips(args.smooth)
    data = EncodedSet(clips, coders, LEVELS, crop=args.crop)
    # Validation on a source neither the training nor the GIF benchmarks read: the UCF101
    # triplets gif_strength fits and checks the strengths on.
    held = EncodedSet([load_clip(args.data, name) for names in clip_sets(args.data) for name in names], coders, LEVELS, crop=args.crop)
    validation = kind_batch(held, torch.Generator().manual_seed(99), 510)
    base = DitherConfig.tiny() if args.tiny else DitherConfig(widths=tuple(args.widths))
    net = DitherNet(dataclasses.replace(base, classes=args.classes, pooling=args.pooling))
    cfg = DitherTrainConfig(steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed, eval_every=args.eval_every)

    def report(step: int, row: dict) -> None:
        print(f"step {step}: loss {row['loss']:.4f}  held-out accuracy {row['val_accuracy']:.4f}", flush=True)

    out = Path(args.out)
    reached = train_dither(net, data, validation, cfg, out, stop_at=args.stop_at, progress=report)
    if reached < cfg.steps:
        print(f"stopped at step {reached}; run again to continue")
        return
    accuracy = dither_accuracy(net, *validation)
    path = finish_run(
        net, out / "dither.safetensors", script="kinema.train.run_gif2video", argv=argv, steps=cfg.steps,
        data=[args.data / s for s in GIF_SOURCES], train={**dataclasses.asdict(cfg), "crop": args.crop, "every": args.every, "smooth_clips": args.smooth},
        held_out_crop_accuracy=accuracy, encoders=[c.name for c in coders],
    )  # fmt: skip
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="model", required=True)
    for name in ("ccdnet", "dither"):
        p = sub.add_parser(name)
        p.add_argument("--data", type=Path, default=DATA_ROOT)
        p.add_argument("--out", type=Path, required=True)
        p.add_argument("--tiny", action="store_true", help="the tiny model (smoke runs)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--every", type=int, default=2, help="use every N-th frame of the clips")
        p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
        p.add_argument("--stop-at", type=int, default=None, help="stop at this step (run again to resume)")
    ccd, dither = sub.choices["ccdnet"], sub.choices["dither"]
    ccd.add_argument("--colors", type=int, default=32, choices=LEVELS)
    ccd.add_argument("--dithered", action="store_true", help="train for Floyd–Steinberg dithered GIFs")
    ccd.add_argument("--steps", type=int, default=GifTrainConfig.steps)
    ccd.add_argument("--batch", type=int, default=GifTrainConfig.batch)
    ccd.add_argument("--lr", type=float, default=GifTrainConfig.lr)
    ccd.add_argument("--crop", type=int, default=128)
    ccd.add_argument("--eval-every", type=int, default=GifTrainConfig.eval_every)
    ccd.add_argument("--init", type=Path, default=None, help="start from these weights (fine-tuning)")
    ccd.add_argument("--widths", type=int, nargs="+", default=None, help="U-Net widths per level (with --init: grow the initial model to these, see kinema.train.gif2video.grow)")
    ccd.add_argument("--rmse", action="store_true", help="colour loss term: RMSE (what PSNR scores) instead of L1")
    ccd.add_argument("--adversarial", type=float, default=0.0, help="λ_adv of the conditional GAN term (0: off)")
    ccd.add_argument("--device", default="cpu", help="cpu or cuda (under torchrun: each rank's own GPU)")
    ccd.add_argument("--sources", nargs="+", default=list(GIF_SOURCES), help="clips, sequences or 'photos' under --data")
    ccd.add_argument("--photo-sides", type=int, nargs="*", default=[], help="also the photos at these longer sides (besides 320 px)")
    ccd.add_argument("--encoders", action="store_true", help="GIFs from every training encoder (kinema.train.gif_encoders), not only Pillow's")
    ccd.add_argument("--held-out", nargs="+", default=list(HELD_OUT_CLIPS), help="validation clip (the first one is used)")
    dither.add_argument("--steps", type=int, default=DitherTrainConfig.steps)
    dither.add_argument("--batch", type=int, default=DitherTrainConfig.batch)
    dither.add_argument("--lr", type=float, default=DitherTrainConfig.lr)
    dither.add_argument("--eval-every", type=int, default=DitherTrainConfig.eval_every)
    dither.add_argument("--crop", type=int, default=96)
    dither.add_argument("--smooth", type=int, default=0, help="also this many synthetic clips of smooth gradients and shaded shapes (kinema.train.gif2video.smooth_clips)")
    dither.add_argument("--classes", type=int, default=3, choices=(1, 3), help="3: none / error diffusion / ordered; 1: dithered or not")
    dither.add_argument("--widths", type=int, nargs="+", default=list(DitherConfig.widths), help="channels of each convolution")
    dither.add_argument("--pooling", default="logmeanexp", choices=("mean", "logmeanexp"), help="how the places' logits become the frame's (see DitherConfig)")
    args = parser.parse_args(argv)
    torch.set_flush_denormal(True)  # denormal activations are many times slower on x86 CPUs
    if args.threads:
        torch.set_num_threads(args.threads)
    (_ccdnet if args.model == "ccdnet" else _dither)(args, argv)


if __name__ == "__main__":
    main()
    end_rank()  # under torchrun: exit without finalization (see end_rank)
