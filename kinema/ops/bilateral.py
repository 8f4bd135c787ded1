"""Bilateral (symmetric) motion at time t: the displacement *from* the missing frame.

For each pixel ``x`` of the frame at time t we look for the motion ``v`` with

    a(x − t·v) ≈ b(x + (1 − t)·v),

i.e. the straight path through ``x`` at time t that joins two matching pixels. Unlike
forward projection this is defined at every pixel of the missing frame, so it leaves no
holes, and it measures the match where it is used (at t) rather than at time 0.

It is solved by robust Gauss–Newton, coarse to fine, from a starting motion (the
projected DIS flows): at each step the residual ``r = b_w − a_w`` of the two warped
images is linearised in ``v`` (``∂r/∂v = (1 − t)·∇b_w + t·∇a_w``), the normal equations
are summed over a small window with Charbonnier weights (so an occluded pixel, which
matches nothing, pulls little), and a pull toward the local mean of ``v`` keeps the
field smooth where the images have no texture. Each pixel's 2×2 system is solved in
closed form.

Shapes: images ``(N, C, h, w)`` in [0, 1]; motions ``(N, 2, h, w)`` in pixels ``[dx, dy]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from kinema.ops.flow import resize_flow
from kinema.ops.resize import resize
from kinema.ops.warp import Padding, backward_warp


@dataclass(frozen=True)
class BilateralConfig:
    #: Pyramid levels below the motion resolution (each half the size; the coarsest side stays ≥ 32).
    levels: int = 2
    #: Gauss–Newton steps per level.
    iterations: int = 4
    #: Side of the window the normal equations are summed over (odd).
    window: int = 5
    #: Weight of the pull toward the local mean motion, relative to a unit image gradient.
    smoothness: float = 0.02
    #: Charbonnier ε of the residual weights (in [0, 1] intensity units).
    robust: float = 0.02
    #: Largest update per step, in pixels of the level (keeps the linearisation honest).
    max_step: float = 1.0

    def __post_init__(self):
        if self.window < 1 or self.window % 2 == 0:
            raise ValueError(f"window must be odd and positive, got {self.window}")
        if self.levels < 0 or self.iterations < 0:
            raise ValueError("levels and iterations must be non-negative")


def _gradients(x: torch.Tensor) -> torch.Tensor:
    """Central differences ``(N, C, h, w)`` → ``(N, 2C, h, w)`` (d/dx planes, then d/dy)."""
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    gx = 0.5 * (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2])
    gy = 0.5 * (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1])
    return torch.cat([gx, gy], 1)


def _box(x: torch.Tensor, size: int) -> torch.Tensor:
    return F.avg_pool2d(x, size, stride=1, padding=size // 2, count_include_pad=False)


def match_error(a: torch.Tensor, b: torch.Tensor, flow_ta: torch.Tensor, flow_tb: torch.Tensor) -> torch.Tensor:
    """How well two flows from time t agree: ``|b(x + flow_tb) − a(x + flow_ta)|``, averaged
    over channels and a 3×3 window, ``(N, 1, h, w)``. For a bilateral motion ``v`` the
    flows are ``−t·v`` and ``(1 − t)·v``."""
    r = backward_warp(b, flow_tb, padding=Padding.BORDER) - backward_warp(a, flow_ta, padding=Padding.BORDER)
    return _box(r.abs().mean(1, keepdim=True), 3)


def _refine(a: torch.Tensor, b: torch.Tensor, t: float, v: torch.Tensor, cfg: BilateralConfig) -> torch.Tensor:
    channels = a.shape[1]
    # Images and their gradients are warped together: one sampling pass per side.
    stack_a = torch.cat([a, _gradients(a)], 1)
    stack_b = torch.cat([b, _gradients(b)], 1)
    for _ in range(cfg.iterations):
        wa = backward_warp(stack_a, -t * v, padding=Padding.BORDER)
        wb = backward_warp(stack_b, (1 - t) * v, padding=Padding.BORDER)
        r = wb[:, :channels] - wa[:, :channels]
        grad = (1 - t) * wb[:, channels:] + t * wa[:, channels:]
        jx, jy = grad[:, :channels], grad[:, channels:]
        weight = torch.rsqrt(r * r + cfg.robust**2) * cfg.robust  # Charbonnier IRLS weight, 1 at r = 0
        terms = torch.cat(
            [
                (weight * jx * jx).sum(1, keepdim=True),
                (weight * jx * jy).sum(1, keepdim=True),
                (weight * jy * jy).sum(1, keepdim=True),
                (weight * jx * r).sum(1, keepdim=True),
                (weight * jy * r).sum(1, keepdim=True),
            ],
            1,
        )
        axx, axy, ayy, bx, by = _box(terms, cfg.window).unbind(1)
        # Pull toward the neighbourhood's mean motion (Horn–Schunck's smoothness, solved locally).
        lam = cfg.smoothness**2
        pull = _box(v, 3) - v
        rhs_x = -bx + lam * pull[:, 0]
        rhs_y = -by + lam * pull[:, 1]
        axx, ayy = axx + lam, ayy + lam
        det = axx * ayy - axy * axy
        dx = (ayy * rhs_x - axy * rhs_y) / det
        dy = (axx * rhs_y - axy * rhs_x) / det
        v = v + torch.stack([dx, dy], 1).clamp(-cfg.max_step, cfg.max_step)
    return v


def bilateral_motion(
    a: torch.Tensor, b: torch.Tensor, t: float, init: torch.Tensor, config: BilateralConfig = BilateralConfig()
) -> torch.Tensor:
    """Refine the symmetric motion ``init`` ``(N, 2, h, w)`` at time ``t`` between ``a`` and
    ``b`` ``(N, C, h, w)``, coarse to fine; returns ``(N, 2, h, w)``."""
    if a.shape != b.shape or init.shape != (a.shape[0], 2, *a.shape[-2:]):
        raise ValueError(f"shapes do not match: a {tuple(a.shape)}, b {tuple(b.shape)}, init {tuple(init.shape)}")
    height, width = a.shape[-2:]
    sizes = [(height, width)]
    for _ in range(config.levels):
        h, w = sizes[-1]
        if min(h, w) // 2 < 32:
            break
        sizes.append((h // 2, w // 2))
    v = None
    for h, w in reversed(sizes):
        level_a, level_b = (x if (h, w) == (height, width) else resize(x, h, w) for x in (a, b))
        if v is None:
            v = init if (h, w) == (height, width) else resize_flow(init, h, w)
        else:
            v = resize_flow(v, h, w)
        v = _refine(level_a, level_b, t, v, config)
    return v
