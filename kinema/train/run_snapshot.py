"""Train the video-snapshot networks.

    python -m kinema.train.run_snapshot --out runs/snap5 --frames 5            # stage 1
    python -m kinema.train.run_snapshot --out runs/snap5-s2 --init runs/snap5/snapshot.safetensors --stage decoder --steps 500
    python -m kinema.train.run_snapshot --out runs/snap5-jpeg --init runs/snap5-s2/snapshot.safetensors --jpeg 0.5 --steps 1000

The command line is recorded in each weight file's metadata. A run is resumable: the same
command continues from ``OUT``. ``--init`` starts from other weights (stage 2 and the
JPEG-robust variant start from stage-1 weights). Data-parallel on N processes or GPUs,
same global ``--batch`` and losses (:mod:`kinema.train.distributed`):
``torchrun --nproc_per_node N -m kinema.train.run_snapshot …``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from kinema.models.snapshot import SnapshotConfig, SnapshotNet
from kinema.train.data import DATA_ROOT, HELD_OUT_CLIPS
from kinema.train.distributed import end_rank, join, leave
from kinema.train.loop import finish_run
from kinema.train.snapshot import SNAPSHOT_SOURCES, ClipWindows, SnapshotTrainConfig, synthetic_scenes, train_snapshot
from kinema.train.synthetic import load_photos


def validation_clips(data: Path, frames: int, count: int = 8) -> list[torch.Tensor]:
    """``count`` fixed windows (stride 1 and 3) of the first held-out clip, whole frames."""
    windows = ClipWindows.load([data / HELD_OUT_CLIPS[0]], frames, (1, 3), crop=10_000)
    g = torch.Generator().manual_seed(1234)
    return [windows.sample(g) for _ in range(count)]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DATA_ROOT)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--frames", type=int, default=5)
    p.add_argument("--tiny", action="store_true", help="the tiny model (smoke runs)")
    p.add_argument("--init", type=Path, default=None, help="start from these weights")
    p.add_argument("--strides", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    p.add_argument("--jpeg-robust", action="store_true", help="mark the weights as JPEG-robust (use with --jpeg)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--stop-at", type=int, default=None)
    p.add_argument("--device", default="cpu")
    defaults = SnapshotTrainConfig()
    for field in dataclasses.fields(SnapshotTrainConfig):
        if field.name != "jpeg_quality":
            p.add_argument("--" + field.name.replace("_", "-"), type=type(getattr(defaults, field.name)), default=getattr(defaults, field.name))
    args = p.parse_args(argv)
    torch.set_flush_denormal(True)  # denormal activations are many times slower on x86 CPUs
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = SnapshotTrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(SnapshotTrainConfig) if f.name != "jpeg_quality"})
    replica, device = join(args.device)
    torch.manual_seed(cfg.seed)  # every torchrun rank (and one process) builds the same initial weights
    if args.init is not None:
        init, _ = SnapshotNet.load(args.init)
        net = SnapshotNet(dataclasses.replace(init.config, jpeg_robust=args.jpeg_robust))
        net.load_state_dict(init.state_dict())
    else:
        base = SnapshotConfig.tiny(frames=args.frames) if args.tiny else SnapshotConfig(frames=args.frames)
        net = SnapshotNet(dataclasses.replace(base, jpeg_robust=args.jpeg_robust))
    sources = [args.data / s for s in SNAPSHOT_SOURCES]
    real = ClipWindows.load(sources, net.config.frames, tuple(args.strides), cfg.crop)
    scenes = synthetic_scenes(load_photos(args.data / "photos"), cfg.crop) if cfg.synthetic > 0 else None
    validation = validation_clips(args.data, net.config.frames)

    def report(step: int, row: dict) -> None:
        print(
            f"step {step}: loss {row['loss']:.3f}, restored {row['val_psnr']:.2f} dB, "
            f"snapshot {row['val_snapshot_psnr']:.2f} dB, {row['seconds']:.0f} s",
            flush=True,
        )

    try:
        step = train_snapshot(net, real, scenes, validation, cfg, args.out, device=device, stop_at=args.stop_at, progress=report, replica=replica)
    finally:
        leave()
    if not replica.main:
        return
    if step == cfg.steps:
        path = finish_run(
            net, args.out / "snapshot.safetensors", script="kinema.train.run_snapshot", argv=argv, steps=step, processes=replica.world,
            data=sources + [args.data / "photos"], train=cfg, init=args.init, strides=list(args.strides),
        )  # fmt: skip
        print(f"wrote {path}")

if __name__ == "__main__":
    main()
    end_rank()  # under torchrun: exit without finalization (see end_rank)
