"""Test-time adaptation: fine-tune the interpolator on the user's own video.

Self-supervised, so it needs nothing but the video: frames ``i`` and ``i + 2`` are the
inputs and frame ``i + 1`` the truth (t = 0.5). The model then knows this video's
textures, motion sizes and noise before it interpolates it. The task it practises spans
twice the interval it will be asked to fill, which also covers the larger motions.

Frames should be given at the size the engine runs the network at (its working size), so
the adapted model sees what it will see at inference.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from kinema.models.interp import InterpNet
from kinema.train.clips import RealTriplets
from kinema.train.interp import Guide, TrainConfig, loss_terms


def adapt(
    model: InterpNet,
    frames: list[torch.Tensor],
    steps: int,
    *,
    guide: Guide | None,
    lr: float = 1e-4,
    batch: int = 4,
    crop: int = 192,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: Callable[[int, float], None] | None = None,
) -> InterpNet:
    """Fine-tune ``model`` in place for ``steps`` steps on ``frames`` (each ``(3, H, W)``
    uint8, consecutive) and return it in eval mode. Deterministic for a given ``seed``.
    Raises ``ValueError`` if the frames hold no usable triplet (too few, all still, cuts)."""
    if steps <= 0:
        return model.eval()
    triplets = RealTriplets.from_frames(frames, strides=(1,), crop=crop)
    g = torch.Generator().manual_seed(seed)
    cfg = TrainConfig(steps=steps, batch=batch, lr=lr)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(steps):
        samples = [triplets.sample(g) for _ in range(batch)]
        a, mid, b = (torch.stack([s[k] for s in samples]) for k in range(3))
        t = torch.full((batch,), 0.5)
        flows = None if guide is None else guide(a, b, t).to(device)
        loss, _ = loss_terms(model.predict, a.to(device), mid.to(device), b.to(device), t.to(device), flows, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if progress is not None:
            progress(step + 1, float(loss.detach()))
    return model.eval()
