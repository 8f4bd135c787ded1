"""``--adapt N``: fit the learned engine to the video it is about to interpolate.

Test-time adaptation, self-supervised, so it needs nothing but the video: frames ``i`` and
``i + 2`` are the inputs and frame ``i + 1`` the truth (t = 0.5). The network then knows
this video's textures, motion sizes and noise before it interpolates it. The task it
practises spans twice the interval it will be asked to fill, which also covers the larger
motions. Frames are used at the size the engine runs the network at (its working size),
so the adapted network sees what it will see at inference. The weight file is not changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from itertools import islice
from pathlib import Path

import torch

from kinema.engines.learned import Guide, LearnedEngine
from kinema.io.probe import open_reader
from kinema.models.interp import InterpNet
from kinema.models.interp.objective import loss_terms
from kinema.ops.resize import fit_size, resize
from kinema.train.clips import RealTriplets
from kinema.types import BadInputError


@dataclass(frozen=True)
class AdaptConfig:
    """How the network is fitted to one video (the defaults are what ``--adapt N`` does)."""

    steps: int = 0
    lr: float = 1e-4
    batch: int = 4
    #: Side of the random crops it trains on.
    crop: int = 192
    seed: int = 0
    census_weight: float = 0.1
    #: Frames read from the start of the video (bounded memory and decode time).
    max_frames: int = 120

    def __post_init__(self):
        if self.steps < 0:
            raise ValueError(f"adaptation steps must be ≥ 0, got {self.steps}")
        if self.batch < 1 or self.crop < 16 or self.max_frames < 3 or self.lr <= 0:
            raise ValueError("adaptation needs batch ≥ 1, crop ≥ 16, max_frames ≥ 3 and lr > 0")


def adapt(
    model: InterpNet,
    frames: list[torch.Tensor],
    config: AdaptConfig,
    *,
    guide: Guide | None,
    device: torch.device | str = "cpu",
    progress: Callable[[int, float], None] | None = None,
) -> InterpNet:
    """Fine-tune ``model`` in place for ``config.steps`` steps on ``frames`` (each
    ``(3, H, W)`` uint8, consecutive) and return it in eval mode. Deterministic for a given
    ``config.seed``. Raises ``ValueError`` if the frames hold no usable triplet (too few,
    all still, cuts)."""
    if config.steps <= 0:
        return model.eval()
    triplets = RealTriplets.from_frames(frames, strides=(1,), crop=config.crop)
    g = torch.Generator().manual_seed(config.seed)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    for step in range(config.steps):
        samples = [triplets.sample(g) for _ in range(config.batch)]
        a, mid, b = (torch.stack([s[k] for s in samples]) for k in range(3))
        t = torch.full((config.batch,), 0.5)
        flows = None if guide is None else guide(a, b, t, parts=model.config.priority).to(device)
        loss, _ = loss_terms(model.predict, a.to(device), mid.to(device), b.to(device), t.to(device), flows, census_weight=config.census_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if progress is not None:
            progress(step + 1, float(loss.detach()))
    return model.eval()


def adapt_engine(
    engine: LearnedEngine, frames: torch.Tensor, config: AdaptConfig, *, progress: Callable[[int, float], None] | None = None
) -> None:
    """Fine-tune ``engine``'s network on consecutive ``frames`` ``(N, 3, H, W)`` of the video
    it is about to interpolate, at the working size it runs at, guided as it is guided."""
    wh, ww = fit_size(*frames.shape[-2:], engine.config.work_max_side)
    small = [resize(f[None], wh, ww)[0].mul(255).round().to(torch.uint8) for f in frames]
    adapt(engine.model, small, config, guide=engine.guide, device=engine.device, progress=progress)


def adapt_to_video(
    engine: LearnedEngine,
    source: Path,
    config: AdaptConfig,
    *,
    source_fps: Fraction | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Fine-tune ``engine`` on the first ``config.max_frames`` frames of ``source``; returns
    how many frames it read. ``progress(done, total)`` after each step. Raises
    :class:`BadInputError` when the video is too short or never moves."""
    frames = [frame.image for frame in islice(open_reader(Path(source), fps=source_fps), config.max_frames)]
    if len(frames) < 3:
        raise BadInputError(f"{source}: --adapt needs at least 3 frames, the video has {len(frames)}")
    report = None if progress is None else (lambda step, _loss: progress(step, config.steps))
    try:
        adapt_engine(engine, torch.stack(frames), config, progress=report)
    except ValueError as exc:
        raise BadInputError(f"{source}: cannot adapt to this video ({exc})") from None
    return len(frames)
