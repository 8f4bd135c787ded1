"""Run by tests/train/test_distributed.py as ``[torchrun …] python -m tests.train.interp_ranks OUT``:
a few steps of the interpolator's training loop on synthetic triplets (no data folder)."""

import dataclasses
import sys
from pathlib import Path

import torch

from kinema.engines.classical import ClassicalConfig
from kinema.models.interp import InterpConfig, InterpNet
from kinema.train.distributed import join, leave
from kinema.train.interp import ClassicalGuide, TrainConfig, train
from kinema.train.synthetic import SyntheticConfig, SyntheticTriplets
from tests.media import smooth


def main() -> None:
    torch.set_num_threads(1)
    replica, device = join("cpu")
    photos = [torch.from_numpy(smooth(7 * i, 80, 96)).permute(2, 0, 1).float() / 255 for i in range(3)]
    data = SyntheticTriplets(photos, dataclasses.replace(SyntheticConfig(), height=32, width=32))
    validation = [data.sample(torch.Generator().manual_seed(5), t=0.5)]
    torch.manual_seed(0)
    net = InterpNet(InterpConfig.tiny())
    cfg = TrainConfig(steps=4, batch=4, eval_every=1, synthetic=1.0)
    # Three guide presets: sample i of the global batch uses preset i % 3 on every rank
    # (rank 1's first sample is sample 2).
    guide = ClassicalGuide(ClassicalConfig.fast(), ClassicalConfig.balanced(), ClassicalConfig.quality())
    try:
        train(net, [(data.sample, 1.0)], validation, cfg, Path(sys.argv[1]), guide=guide, replica=replica, device=device)
    finally:
        leave()


if __name__ == "__main__":
    main()
