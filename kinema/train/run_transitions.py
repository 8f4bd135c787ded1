"""Train the shot-transition detector.

    python -m kinema.train.run_transitions --out runs/transitions [--mixer meast|none|conv3d]
    python -m kinema.train.run_transitions --tune runs/transitions/transitions.safetensors

``--tune`` scores the decoding thresholds of :func:`kinema.pipelines.transitions.decode`
on the validation sequences (never the benchmark's) and prints the best setting.

Resumable: the same command continues from ``OUT``. Training sequences are built from the
single-shot clips of :data:`kinema.train.transitions.TRAIN_CLIPS` and the training part
of the photos; the validation clips and photos select nothing but are logged
(``val_f1``); the benchmark's clips are never read.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import itertools
from pathlib import Path

import torch

from kinema.models.transitions import Mixer, TransitionConfig, TransitionNet
from kinema.ops.metrics import precision_recall_f1, transition_counts
from kinema.pipelines.transitions import decode
from kinema.train.data import DATA_ROOT
from kinema.train.loop import finish_run
from kinema.train.transitions import (
    PHOTO_SPLIT,
    TRAIN_CLIPS,
    VALIDATION_CLIPS,
    Builder,
    TransitionTrainConfig,
    degrade,
    load_clip,
    load_photo,
    photo_paths,
    run_net,
    train_transitions,
)

#: Clips are kept this much larger than the working size, for random crops.
MARGIN = 1.25


def builder(data: Path, clips: tuple[str, ...], photos: slice, config: TransitionConfig) -> Builder:
    size = (config.height, config.width)
    stored = (round(size[0] * MARGIN), round(size[1] * MARGIN))
    return Builder(
        [load_clip(data / c, stored) for c in clips],
        [load_photo(p, longer=3 * max(size)) for p in photo_paths(data, photos)],
        size,
    )


def validation_set(build: Builder, count: int = 24, length: int = 240) -> list:
    """Fixed sequences from the validation sources, with their events."""
    g = torch.Generator().manual_seed(4321)
    out = []
    for _ in range(count):
        frames, _, events = build.sequence(length, g, min_length=4)
        out.append((degrade(frames, g), events))
    return out


def tune(weights: Path, data: Path) -> list[tuple[float, dict]]:
    """Mean of cut and gradual F1 on the validation sequences for a grid of decoding
    settings, best first."""
    net, _ = TransitionNet.load(weights)
    validation = validation_set(builder(data, VALIDATION_CLIPS, PHOTO_SPLIT[1], net.config))
    scans = [(run_net(net, frames), events) for frames, events in validation]
    results = []
    for setting in itertools.product((0.3, 0.4, 0.5, 0.6), (0.3, 0.4, 0.5, 0.6), (2, 3), (0, 2, 4)):
        options = dict(zip(("cut_threshold", "gradual_threshold", "min_gradual", "merge"), setting))
        counts: dict[str, int] = {}
        for found, events in scans:
            for k, v in transition_counts(decode(found, **options), events).items():
                counts[k] = counts.get(k, 0) + v
        results.append(((precision_recall_f1(counts, "cut")[2] + precision_recall_f1(counts, "gradual")[2]) / 2, {**options, "cut_f1": precision_recall_f1(counts, "cut")[2], "gradual_f1": precision_recall_f1(counts, "gradual")[2]}))
    return sorted(results, key=lambda r: -r[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--tune", type=Path, default=None, help="score decoding settings of these weights on the validation set, and stop")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--mixer", choices=[m.value for m in Mixer], default=Mixer.MEAST.value)
    parser.add_argument("--tiny", action="store_true", help="the tiny model (smoke runs)")
    defaults = TransitionTrainConfig()
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--batch", type=int, default=defaults.batch)
    parser.add_argument("--window", type=int, default=defaults.window)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--eval-every", type=int, default=defaults.eval_every)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--stop-at", type=int, default=None, help="stop at this step (run again to resume)")
    args = parser.parse_args(argv)
    if args.tune is not None:
        for value, setting in tune(args.tune, args.data)[:8]:
            print(f"{value:.4f} {setting}")
        return
    if args.out is None:
        parser.error("--out is required")
    torch.set_flush_denormal(True)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = TransitionConfig.tiny() if args.tiny else TransitionConfig()
    config = dataclasses.replace(config, mixer=Mixer(args.mixer))
    cfg = TransitionTrainConfig(steps=args.steps, batch=args.batch, window=args.window, lr=args.lr, seed=args.seed, eval_every=args.eval_every)
    torch.manual_seed(args.seed)
    net = TransitionNet(config)
    train = builder(args.data, TRAIN_CLIPS, PHOTO_SPLIT[0], config)
    validation = validation_set(builder(args.data, VALIDATION_CLIPS, PHOTO_SPLIT[1], config))

    def report(step: int, row: dict) -> None:
        print(f"step {step}: loss {row['loss']:.4f}, validation F1 cut {row['val_cut_f1']:.3f} gradual {row['val_gradual_f1']:.3f}, {row['seconds']:.0f} s", flush=True)

    reached = train_transitions(net, train, validation, cfg, args.out, stop_at=args.stop_at, progress=report)
    if reached < cfg.steps:
        print(f"stopped at step {reached}; run again to continue")
        return
    data = [args.data / c for c in TRAIN_CLIPS] + photo_paths(args.data, PHOTO_SPLIT[0])
    metrics = {k: v for k, v in list(csv.DictReader((args.out / "log.csv").open()))[-1].items() if k.startswith("val_")}
    path = finish_run(
        net, args.out / "transitions.safetensors", script="kinema.train.run_transitions", argv=argv, steps=reached, data=data, train=cfg,
        metrics={k: float(v) for k, v in metrics.items()},
    )  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
