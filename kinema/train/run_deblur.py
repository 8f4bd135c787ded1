"""Train the blurry-video network.

    python -m kinema.train.run_deblur --out runs/deblur [--quality default|best] [--steps N]

Resumable: the same command continues from ``OUT``. Training reads
:data:`kinema.train.deblur.TRAIN_CLIPS` and the training part of the photos (synthetic
scenes); :data:`kinema.train.deblur.VALIDATION_CLIPS` select the kept state
(``OUT/best.safetensors``, by ``val_psnr``); the benchmark's clips are never read. A
finished run writes ``OUT/deblur.safetensors``: the best state with the run's metadata.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from kinema.models.deblur import DeblurConfig, DeblurNet
from kinema.train.data import DATA_ROOT
from kinema.train.deblur import TRAIN_CLIPS, VALIDATION_CLIPS, BlurClips, DeblurTrainConfig, SyntheticBlur, train_deblur, validation_set
from kinema.train.loop import finish_run
from kinema.train.synthetic import load_photos
from kinema.train.transitions import PHOTO_SPLIT, photo_paths

QUALITIES = {"default": DeblurConfig, "best": DeblurConfig.best, "tiny": DeblurConfig.tiny}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quality", choices=sorted(QUALITIES), default="default")
    defaults = DeblurTrainConfig()
    for name in ("steps", "batch", "crop", "length", "bank", "eval_every", "seed"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--synthetic", type=float, default=defaults.synthetic)
    parser.add_argument("--mse", action="store_true", help="squared-error loss (what PSNR measures) instead of Charbonnier")
    parser.add_argument("--init", type=Path, default=None, help="start from these weights (e.g. the shipped ones, to train on)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--stop-at", type=int, default=None, help="stop at this step (run again to resume)")
    parser.add_argument("--finish", action="store_true", help="write OUT/deblur.safetensors from the best state even if the schedule is not done")
    args = parser.parse_args(argv)
    torch.set_flush_denormal(True)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = DeblurTrainConfig(
        steps=args.steps, batch=args.batch, crop=args.crop, length=args.length, lr=args.lr, synthetic=args.synthetic,
        bank=args.bank, eval_every=args.eval_every, seed=args.seed, mse=args.mse,
    )  # fmt: skip
    torch.manual_seed(cfg.seed)
    net = DeblurNet(QUALITIES[args.quality]())
    if args.init is not None:
        start, _ = DeblurNet.load(args.init)
        if start.config != net.config:
            parser.error(f"--init {args.init} holds another config than --quality {args.quality}")
        net.load_state_dict(start.state_dict())
    scope = net.config.scope
    clips = BlurClips([args.data / c for c in TRAIN_CLIPS], max_side=cfg.max_side, scope=scope)
    photos = photo_paths(args.data, PHOTO_SPLIT[0])
    synthetic = None
    if cfg.synthetic > 0 and cfg.bank > 0:
        pictures = load_photos(args.data / "photos", max_side=cfg.max_side)[PHOTO_SPLIT[0]]
        bank_seed = torch.Generator().manual_seed(cfg.seed + 1)  # the same bank when a run resumes
        synthetic = SyntheticBlur.make(pictures, cfg.bank, cfg.length, cfg.crop + 32, bank_seed, scope=scope)
    validation = validation_set(BlurClips([args.data / c for c in VALIDATION_CLIPS], max_side=cfg.max_side, scope=scope), cfg.length)

    def report(step: int, row: dict) -> None:
        print(
            f"step {step}: loss {row['loss']:.4f}, validation {row['val_psnr']:.2f} dB (blurry {row['val_blurry_psnr']:.2f}), {row['seconds']:.0f} s",
            flush=True,
        )

    reached = train_deblur(net, clips, synthetic, validation, cfg, args.out, stop_at=args.stop_at, progress=report)
    if reached < cfg.steps and not args.finish:
        print(f"stopped at step {reached}; run again to continue")
        return
    best, meta = DeblurNet.load(args.out / "best.safetensors")
    data = [args.data / c for c in TRAIN_CLIPS] + photos
    path = finish_run(
        best, args.out / "deblur.safetensors", script="kinema.train.run_deblur", argv=argv, steps=reached, data=data, train=cfg,
        init=args.init, metrics={"val_psnr": meta["val_psnr"]},
    )  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
