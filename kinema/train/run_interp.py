"""Train the learned interpolator: ``python -m kinema.train.run_interp --out runs/NAME``.

The command line that produced each shipped weight file is recorded in its metadata.
Interrupt it at any time; running the same command again resumes from ``OUT``.
Data-parallel on N processes or GPUs, same global ``--batch`` and losses
(:mod:`kinema.train.distributed`): ``torchrun --nproc_per_node N -m kinema.train.run_interp …``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from kinema.engines.classical import ClassicalConfig
from kinema.engines.learned import ClassicalGuide
from kinema.models.interp import InterpConfig, InterpNet
from kinema.train.clips import HELD_OUT, RealTriplets, default_sources
from kinema.train.data import DATA_ROOT
from kinema.train.distributed import end_rank, join, leave
from kinema.train.interp import TrainConfig, train
from kinema.train.loop import finish_run
from kinema.train.synthetic import SyntheticConfig, SyntheticTriplets, load_photos

#: The guiding flows of training alternate between the engine's default preset and its
#: sharper full-resolution variant, so either can guide the network at inference.
GUIDES = (ClassicalConfig.balanced(), ClassicalConfig.balanced().replace(finest_scale=0))

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA_ROOT)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tiny", action="store_true", help="the tiny model (smoke runs)")
    parser.add_argument("--steps", type=int, default=TrainConfig.steps)
    parser.add_argument("--batch", type=int, default=TrainConfig.batch)
    parser.add_argument("--lr", type=float, default=TrainConfig.lr)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--max-side", type=int, nargs="+", default=[640], help="real frames are scaled to this longer side; several values: one real sampler per scale, equal shares (small scales look like UCF101's 256² footage)")
    parser.add_argument("--synthetic", type=float, default=TrainConfig.synthetic, help="synthetic share of each batch (0 = real only)")
    parser.add_argument("--eval-every", type=int, default=TrainConfig.eval_every)
    parser.add_argument("--stop-at", type=int, default=None, help="stop at this step (resume later)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-motion", type=float, default=0.5, help="drop real windows whose ends differ by less than this (mean, in 1/255); 0 keeps still shots")
    parser.add_argument("--init", type=Path, default=None, help="start from these weights (fine-tuning stages)")
    parser.add_argument("--adversarial", type=float, default=0.0, help="weight of the ROI adversarial loss (0: off)")
    parser.add_argument("--distill", type=float, default=0.0, help="weight of the privileged-flow term: DIS flows from the true middle frame teach the network's flows (0: off)")
    parser.add_argument("--adaptive", type=int, default=None, help="adaptive warping with K×K kernels (odd K; 0 off; default: as the --init file, else off)")
    parser.add_argument("--priority", action=argparse.BooleanOptionalAction, default=None, help="learn a priority for the projection's z-buffer (default: as the --init file, else off)")
    parser.add_argument("--no-guide", action="store_true", help="start flows from zero, not from the classical engine")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_flush_denormal(True)  # denormal activations are many times slower on x86 CPUs
    if args.threads:
        torch.set_num_threads(args.threads)

    cfg = TrainConfig(steps=args.steps, batch=args.batch, lr=args.lr, synthetic=args.synthetic, seed=args.seed, eval_every=args.eval_every, adversarial=args.adversarial, distill=args.distill)
    sources = default_sources(args.data)
    samplers = []
    if cfg.synthetic < 1:
        for side in args.max_side:
            real = RealTriplets(sources, crop=args.crop, max_side=side, min_motion=args.min_motion / 255)
            samplers.append((real.sample, (1 - cfg.synthetic) / len(args.max_side)))
    synthetic = SyntheticTriplets(load_photos(args.data / "photos"), dataclasses.replace(SyntheticConfig(), height=args.crop, width=args.crop))
    if cfg.synthetic > 0:
        samplers.append((synthetic.sample, cfg.synthetic))
    held_out = RealTriplets([args.data / HELD_OUT], strides=(1,), crop=args.crop)
    g = torch.Generator().manual_seed(1234)
    validation = [held_out.sample(g) for _ in range(16)] + [synthetic.sample(g, t=0.5) for _ in range(16)]

    replica, device = join(args.device)
    torch.manual_seed(args.seed)  # every torchrun rank (and one process) builds the same initial weights
    net = InterpNet.load(args.init)[0] if args.init is not None else InterpNet(InterpConfig.tiny() if args.tiny else InterpConfig())
    parts = {k: v for k, v in (("adaptive", args.adaptive), ("priority", args.priority)) if v is not None}
    if parts:
        net = with_parts(net, **parts)

    def report(step: int, row: dict) -> None:
        print(f"step {step}: loss {row['loss']:.4f}, validation {row['val_psnr']:.2f} dB, {row['seconds']:.0f} s", flush=True)

    guide = None if args.no_guide else ClassicalGuide(*GUIDES)
    try:
        step = train(net, samplers, validation, cfg, args.out, device=device, stop_at=args.stop_at, progress=report, guide=guide, replica=replica)
    finally:
        leave()
    if not replica.main:
        return
    if step == cfg.steps:
        path = finish_run(
            net, args.out / "interp.safetensors", script="kinema.train.run_interp", argv=argv, steps=step, processes=replica.world,
            data=sources + [args.data / "photos"], train=cfg, init=args.init,
            guide="none" if args.no_guide else [repr(c) for c in GUIDES],
        )  # fmt: skip
        print(f"wrote {path}")

def with_parts(net: InterpNet, **parts) -> InterpNet:
    """``net`` with optional parts switched on or off (``InterpConfig.adaptive`` /
    ``priority``): the weights it shares are copied, a new part starts at zero (so the
    output is unchanged until it trains)."""
    grown = InterpNet(net.config.replace(**parts))
    kept = grown.state_dict().keys()
    grown.load_state_dict({k: v for k, v in net.state_dict().items() if k in kept}, strict=False)
    return grown


if __name__ == "__main__":
    main()
    end_rank()  # under torchrun: exit without finalization (see end_rank)
