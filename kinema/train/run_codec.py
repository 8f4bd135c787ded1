"""Train the learned video codec.

    python -m kinema.train.run_codec --out runs/codec [--steps N] [--threads T]

Resumable: the same command continues from ``OUT``. Training reads
:data:`kinema.train.codec.TRAIN_CLIPS` and the training part of the photos (synthetic
scenes); :data:`kinema.train.codec.VALIDATION_CLIPS` select the kept state
(``OUT/best.safetensors``, by ``val_rd``); the benchmark's clips are never read. A finished
run writes ``OUT/codec.safetensors``: the best state, integer tables filled, with the
run's metadata.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from kinema.models.codec import CodecConfig, VideoCodec
from kinema.train.codec import TRAIN_CLIPS, VALIDATION_CLIPS, CodecClips, CodecTrainConfig, symbol_histograms, synthetic_bank, train_codec, validation_runs
from kinema.train.data import DATA_ROOT
from kinema.train.loop import finish_run
from kinema.train.synthetic import load_photos
from kinema.train.transitions import PHOTO_SPLIT, photo_paths

SIZES = {"default": CodecConfig, "tiny": CodecConfig.tiny}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    defaults = CodecTrainConfig()
    for name in ("steps", "batch", "crop", "frames", "bank", "eval_every", "seed", "max_side"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--synthetic", type=float, default=defaults.synthetic)
    parser.add_argument("--rate-lr-scale", type=float, default=defaults.rate_lr_scale)
    parser.add_argument("--init", type=Path, default=None, help="start from these weights (e.g. the shipped ones)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--stop-at", type=int, default=None, help="stop at this step (run again to resume)")
    parser.add_argument("--table-runs", type=int, default=200, help="training runs per level the integer tables are fit to")
    parser.add_argument("--finish", action="store_true", help="write OUT/codec.safetensors from the best state even if the schedule is not done")
    args = parser.parse_args(argv)
    torch.set_flush_denormal(True)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = CodecTrainConfig(
        steps=args.steps, batch=args.batch, crop=args.crop, frames=args.frames, lr=args.lr, synthetic=args.synthetic,
        bank=args.bank, eval_every=args.eval_every, seed=args.seed, max_side=args.max_side, rate_lr_scale=args.rate_lr_scale,
    )  # fmt: skip
    torch.manual_seed(cfg.seed)
    codec = VideoCodec(SIZES[args.size]())
    if args.init is not None:
        start, _ = VideoCodec.load(args.init)
        if start.config != codec.config:
            parser.error(f"--init {args.init} holds another config than --size {args.size}")
        codec.load_state_dict(start.state_dict())
    clips = CodecClips([args.data / c for c in TRAIN_CLIPS], max_side=cfg.max_side)
    photos = photo_paths(args.data, PHOTO_SPLIT[0])
    bank = None
    if cfg.synthetic > 0 and cfg.bank > 0:
        pictures = load_photos(args.data / "photos", max_side=cfg.max_side)[PHOTO_SPLIT[0]]
        bank = synthetic_bank(pictures, cfg.bank, cfg.frames, cfg.crop + 32, torch.Generator().manual_seed(cfg.seed + 1))
    validation = validation_runs([args.data / c for c in VALIDATION_CLIPS], cfg.frames)

    def report(step: int, row: dict) -> None:
        levels = ", ".join(f"{row[f'val_psnr_{i}']:.2f} dB @ {row[f'val_bpp_{i}']:.3f}" for i in range(1, codec.config.levels + 1))
        print(f"step {step}: loss {row['loss']:.4f}, validation rd {row['val_rd']:.4f} [{levels}], {row['seconds']:.0f} s", flush=True)

    reached = train_codec(codec, clips, bank, validation, cfg, args.out, stop_at=args.stop_at, progress=report)
    if reached < cfg.steps and not args.finish:
        print(f"stopped at step {reached}; run again to continue")
        return
    best, meta = VideoCodec.load(args.out / "best.safetensors")
    # The shipped tables fit the symbols the finished encoder makes on training data.
    best.freeze_tables(symbol_histograms(best, clips, bank, cfg, runs=args.table_runs, crop=192, seed=cfg.seed + 2))
    data = [args.data / c for c in TRAIN_CLIPS] + photos
    metrics = {k: v for k, v in meta.items() if k.startswith("val_")}
    path = finish_run(
        best, args.out / "codec.safetensors", script="kinema.train.run_codec", argv=argv, steps=reached, data=data, train=cfg, init=args.init,
        metrics=metrics, tables={"runs_per_level": args.table_runs, "crop": 192},
    )  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
