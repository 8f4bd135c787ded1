"""Run by tests/train/test_distributed.py as ``[torchrun …] python -m tests.train.ranks WHAT OUT``:
a few steps of a training loop on synthetic data (no data folder), as one process or as
one rank of several. WHAT: ``interp``, ``snapshot`` or ``snapshot-decoder``."""

import dataclasses
import sys
from pathlib import Path

import torch

from kinema.engines.classical import ClassicalConfig
from kinema.engines.learned import ClassicalGuide
from kinema.models.interp import InterpConfig, InterpNet
from kinema.models.snapshot import SnapshotConfig, SnapshotNet
from kinema.train.distributed import end_rank, join, leave
from kinema.train.interp import TrainConfig, train
from kinema.train.snapshot import SnapshotTrainConfig, synthetic_clip, synthetic_scenes, train_snapshot
from kinema.train.synthetic import SyntheticConfig, SyntheticTriplets
from tests.media import smooth


def photos() -> list[torch.Tensor]:
    return [torch.from_numpy(smooth(7 * i, 80, 96)).permute(2, 0, 1).float() / 255 for i in range(3)]


def interp(out: Path, replica, device) -> None:
    data = SyntheticTriplets(photos(), dataclasses.replace(SyntheticConfig(), height=32, width=32))
    validation = [data.sample(torch.Generator().manual_seed(5), t=0.5)]
    torch.manual_seed(0)
    net = InterpNet(InterpConfig.tiny())
    cfg = TrainConfig(steps=4, batch=4, eval_every=1, synthetic=1.0)
    # Three guide presets: sample i of the global batch uses preset i % 3 on every rank
    # (rank 1's first sample is sample 2).
    guide = ClassicalGuide(ClassicalConfig.fast(), ClassicalConfig.balanced(), ClassicalConfig.best())
    train(net, [(data.sample, 1.0)], validation, cfg, out, guide=guide, replica=replica, device=device)


def snapshot(out: Path, replica, device, stage: str) -> None:
    scenes = synthetic_scenes(photos(), 32)
    torch.manual_seed(0)
    net = SnapshotNet(SnapshotConfig.tiny(frames=5))
    validation = [synthetic_clip(scenes, 5, torch.Generator().manual_seed(5))]
    # JPEG on every other batch on average: the channel's draw must agree across ranks.
    cfg = SnapshotTrainConfig(steps=4, batch=4, crop=32, synthetic=1.0, eval_every=1, stage=stage, jpeg=0.5)
    train_snapshot(net, None, scenes, validation, cfg, out, replica=replica, device=device)


def main() -> None:
    torch.set_num_threads(1)
    what, out = sys.argv[1], Path(sys.argv[2])
    replica, device = join("cpu")
    try:
        if what == "interp":
            interp(out, replica, device)
        else:
            snapshot(out, replica, device, "decoder" if what == "snapshot-decoder" else "joint")
    finally:
        leave()


if __name__ == "__main__":
    main()
    end_rank()  # under torchrun: exit without finalization (see end_rank)
