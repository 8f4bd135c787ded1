"""Train the video-snapshot networks.

    python -m kinema.train.run_snapshot --out runs/snap5 --frames 5            # stage 1
    python -m kinema.train.run_snapshot --out runs/snap5-s2 --init runs/snap5/snapshot.safetensors --stage decoder --steps 500
    python -m kinema.train.run_snapshot --out runs/snap5-jpeg --init runs/snap5-s2/snapshot.safetensors --jpeg 0.5 --steps 1000

The command line is recorded in each weight file's metadata. A run is resumable: the same
command continues from ``OUT`` (``--stop-at N`` pauses at step N). ``--init`` starts from
other weights (stage 2 and the JPEG-robust variant start from stage-1 weights, a longer
schedule from the shipped ones). The state with the best validation PSNR is kept in
``OUT/best.safetensors``; validation reads a source no benchmark reads (imageio's Newton's
cradle GIF) and synthetic clips made from the validation photos, never the benchmark
clips. A finished run (or ``--finish``) writes ``OUT/snapshot.safetensors`` from it. Data-parallel on N processes or GPUs,
same global ``--batch`` and losses (:mod:`kinema.train.distributed`):
``torchrun --nproc_per_node N -m kinema.train.run_snapshot …``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from kinema.models.snapshot import SnapshotConfig, SnapshotNet
from kinema.train.data import DATA_ROOT
from kinema.train.distributed import end_rank, join, leave
from kinema.train.loop import finish_run
from kinema.train.clips import load_frames
from kinema.train.snapshot import SNAPSHOT_SOURCES, VALIDATION_CLIP, ClipWindows, SnapshotTrainConfig, synthetic_clip, synthetic_scenes, train_snapshot
from kinema.train.synthetic import load_photos
from kinema.train.transitions import PHOTO_SPLIT, photo_paths


def validation_clips(data: Path, frames: int, photos: list[torch.Tensor], count: int = 8) -> list[torch.Tensor]:
    """``count`` fixed windows (stride 1 and 2) of the validation clip, whole frames, and
    ``count`` synthetic clips (160², the training camera) from ``photos`` (every photo of
    the data folder, sorted: the validation part is taken here)."""
    windows = ClipWindows.load([data / VALIDATION_CLIP], frames, (1, 2), crop=10_000)
    g = torch.Generator().manual_seed(1234)
    real = [windows.sample(g) for _ in range(count)]
    scenes = synthetic_scenes(photos[PHOTO_SPLIT[1]], 160, SnapshotTrainConfig(pan=24.0, zoom=0.1, small_fast=0.25))
    return real + [synthetic_clip(scenes, frames, g) for _ in range(count)]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DATA_ROOT)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--frames", type=int, default=5)
    p.add_argument("--tiny", action="store_true", help="the tiny model (smoke runs)")
    p.add_argument("--init", type=Path, default=None, help="start from these weights")
    p.add_argument("--strides", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    p.add_argument("--max-side", type=int, nargs="+", default=[640], help="real clips at each of these longer sides")
    p.add_argument("--finish", action="store_true", help="write OUT/snapshot.safetensors from the best state now")
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
    clips = [load_frames(path, side) for side in args.max_side for path in sources]
    if any(min(clip[0].shape[-2:]) < cfg.crop for clip in clips):
        p.error(f"--max-side {min(args.max_side)} makes frames smaller than the {cfg.crop}-pixel crop")
    real = ClipWindows(clips, net.config.frames, tuple(args.strides), cfg.crop)
    photos = load_photos(args.data / "photos")  # read once: training and validation take their parts
    scenes = synthetic_scenes(photos[PHOTO_SPLIT[0]], cfg.crop, cfg) if cfg.synthetic > 0 else None
    validation = validation_clips(args.data, net.config.frames, photos)

    def report(step: int, row: dict) -> None:
        print(
            f"step {step}: loss {row['loss']:.3f}, restored {row['val_psnr']:.2f} dB, "
            f"snapshot {row['val_snapshot_psnr']:.2f} dB, {row['seconds']:.0f} s",
            flush=True,
        )

    try:
        step = train_snapshot(
            net, real, scenes, validation, cfg, args.out, device=device, stop_at=0 if args.finish else args.stop_at, progress=report, replica=replica
        )  # fmt: skip
    finally:
        leave()
    if not replica.main:
        return
    if step == cfg.steps or args.finish:
        best, meta = SnapshotNet.load(args.out / "best.safetensors")
        path = finish_run(
            best, args.out / "snapshot.safetensors", script="kinema.train.run_snapshot", argv=argv, steps=step, processes=replica.world,
            data=sources + photo_paths(args.data, PHOTO_SPLIT[0]), train=cfg, init=args.init, strides=list(args.strides), max_side=list(args.max_side),
            val_psnr=meta["val_psnr"],
        )  # fmt: skip
        print(f"wrote {path}")

if __name__ == "__main__":
    main()
    end_rank()  # under torchrun: exit without finalization (see end_rank)
