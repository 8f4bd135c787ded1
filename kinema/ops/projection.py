"""Flows projected to time t: the motion *from* t back to each input, by forward splatting.

The one projection the classical engine uses and the learned interpolator differentiates
through. From the flows between two frames (``flow_ab``: ``a → b``, ``flow_ba``: ``b → a``,
each ``(N, 2, h, w)`` in pixels), each pixel of ``a`` lands at ``p + t·F_ab(p)`` and each
pixel of ``b`` at ``p + (1 − t)·F_ba(p)``, carrying its motion; the splat's mean at each
target pixel is the motion there. Where pixels collide a soft z-buffer decides: each
carries a positive weight ``z`` (the classical engine's photo-consistency; the learned
priority of :class:`kinema.models.interp.InterpNet` multiplies into it, DAIN's
depth-ordered projection without a depth network), so the heavier surface wins. With
``acc`` each pixel moves along the quadratic path ``t·F − acc·t·(1 − t)`` (four-frame motion).

Every step is a torch operation, so the flows at t are differentiable with respect to the
weights ``z`` (and the flows): a priority can be learned end to end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from kinema.ops.fill import push_pull_fill
from kinema.ops.flow import resize_flow
from kinema.ops.resize import bilinear
from kinema.ops.splat import forward_splat

#: Splat mass below this counts as "nothing landed here".
EMPTY = 1e-3
#: Two projected motions closer than this (pixels) are one motion seen twice: averaged.
AGREE = 2.0


@dataclass(frozen=True)
class MotionParts:
    """What the projection needs for one pair, all at the flow resolution ``(h, w)``.

    ``flow_ab``, ``flow_ba`` ``(N, 2, h, w)``; ``z_a``, ``z_b`` ``(N, 1, h, w)`` z-buffer
    weights (None: every pixel weighs the same); ``acc_a``, ``acc_b`` ``(N, 2, h, w)``
    each side's path acceleration (None: straight paths)."""

    flow_ab: torch.Tensor
    flow_ba: torch.Tensor
    z_a: torch.Tensor | None = None
    z_b: torch.Tensor | None = None
    acc_a: torch.Tensor | None = None
    acc_b: torch.Tensor | None = None

    @property
    def size(self) -> tuple[int, int]:
        return tuple(self.flow_ab.shape[-2:])

    def resized(self, height: int, width: int) -> MotionParts:
        """The same motion at another resolution (flows and accelerations rescaled)."""
        if (height, width) == self.size:
            return self
        scalar = lambda x: None if x is None else bilinear(x, height, width)  # noqa: E731
        vector = lambda x: None if x is None else resize_flow(x, height, width)  # noqa: E731
        return MotionParts(
            vector(self.flow_ab), vector(self.flow_ba), scalar(self.z_a), scalar(self.z_b), vector(self.acc_a), vector(self.acc_b)
        )

    def to(self, device: torch.device | str) -> MotionParts:
        return MotionParts(*(None if x is None else x.to(device) for x in self.tensors()))

    def tensors(self) -> tuple[torch.Tensor | None, ...]:
        return (self.flow_ab, self.flow_ba, self.z_a, self.z_b, self.acc_a, self.acc_b)

    def weighted(self, priority_a: torch.Tensor, priority_b: torch.Tensor) -> MotionParts:
        """These parts with the z-buffer weights multiplied by ``exp(priority)`` ``(N, 1, h, w)``."""
        z_a = torch.ones_like(priority_a) if self.z_a is None else self.z_a
        z_b = torch.ones_like(priority_b) if self.z_b is None else self.z_b
        return replace(self, z_a=z_a * torch.exp(priority_a), z_b=z_b * torch.exp(priority_b))

    @staticmethod
    def cat(parts: list[MotionParts]) -> MotionParts:
        """Batch several parts (all with the same fields present) along N."""
        columns = zip(*(p.tensors() for p in parts))
        return MotionParts(*(None if column[0] is None else torch.cat(column) for column in columns))


def _times(t: float | torch.Tensor, n: int, like: torch.Tensor) -> torch.Tensor:
    """t as ``(N, 1, 1, 1)``: one time for all pairs, or one per pair."""
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device).reshape(-1)
    return t.expand(n).reshape(n, 1, 1, 1) if t.numel() == 1 else t.reshape(n, 1, 1, 1)


def splat_motion(
    flow: torch.Tensor, scale: torch.Tensor, z: torch.Tensor | None, acc: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Splat each ``flow[i]`` ``(N, 2, h, w)`` along itself scaled by ``scale[i]``
    ``(N, 1, 1, 1)`` — or, with ``acc``, along ``scale·F − acc·scale·(1 − scale)``.

    Returns the z-weighted mean of what landed on each pixel — the motion ``(N, 2, h, w)``,
    or motion and acceleration ``(N, 4, h, w)`` — and whether anything landed
    ``(N, 1, h, w)`` (bool; False in a disocclusion).
    """
    z = torch.ones_like(flow[:, :1]) if z is None else z
    if acc is None:
        carried, displacement = flow, scale * flow
    else:
        carried, displacement = torch.cat([flow, acc], 1), scale * flow - acc * (scale * (1 - scale))
    total = forward_splat(torch.cat([carried * z, z], 1), displacement)
    motion, mass = total[:, :-1], total[:, -1:]
    landed = mass > EMPTY * z.detach().mean((1, 2, 3), keepdim=True)
    return motion / mass.clamp_min(1e-12), landed


def project_to_t(parts: MotionParts, t: float | torch.Tensor, *, fill_holes: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """``(flow_ta, flow_tb)``, each ``(N, 2, h, w)``: ``flow_ta`` backward-warps ``a`` to
    time ``t`` (a float, or one per pair ``(N,)``), ``flow_tb`` does the same for ``b``.

    Where both sides land and agree the two motions are averaged (halves DIS noise). Holes
    in one side's splat borrow the other side's motion (same motion, other origin) and what
    is left is filled by push–pull (``fill_holes``; otherwise they keep the flow scaled in
    place)."""
    flow_ab, flow_ba = parts.flow_ab, parts.flow_ba
    n = flow_ab.shape[0]
    t = _times(t, n, flow_ab)
    plain_ta, plain_tb = -t * flow_ab, -(1 - t) * flow_ba
    z = None if parts.z_a is None else torch.cat([parts.z_a, parts.z_b])
    curved = parts.acc_a is not None
    acc = torch.cat([parts.acc_a, parts.acc_b]) if curved else None
    carried, landed = splat_motion(torch.cat([flow_ab, flow_ba]), torch.cat([t, 1 - t]), z, acc)
    motion = carried[:, :2]
    motion_a, motion_b, landed_a, landed_b = motion[:n], motion[n:], landed[:n], landed[n:]
    agree = (motion_a + motion_b).pow(2).sum(1, keepdim=True) < AGREE**2
    both = landed_a & landed_b & agree
    mean = 0.5 * (motion_a - motion_b)
    own_a, own_b = torch.where(both, mean, motion_a), torch.where(both, -mean, motion_b)
    # A curved path ends where the straight one does but is displaced by acc·t·(1 − t)
    # at t; one physical point has the same acceleration seen from either side.
    bend_a = bend_b = bend_from_a = bend_from_b = 0.0
    if curved:
        bend = t * (1 - t)
        landed_acc_a, landed_acc_b = carried[:n, 2:] * bend, carried[n:, 2:] * bend
        shared = 0.5 * (landed_acc_a + landed_acc_b)
        bend_a, bend_b = torch.where(both, shared, landed_acc_a), torch.where(both, shared, landed_acc_b)
        bend_from_a, bend_from_b = landed_acc_a, landed_acc_b
    if fill_holes:
        # A pixel seen only from b moves with b's motion; its origin in a is t·F_ba back.
        flow_ta = torch.where(landed_a, -t * own_a + bend_a, t * motion_b + bend_from_b)
        flow_tb = torch.where(landed_b, -(1 - t) * own_b + bend_b, (1 - t) * motion_a + bend_from_a)
        known = (landed_a | landed_b).to(flow_ab.dtype)
        return push_pull_fill(flow_ta, known), push_pull_fill(flow_tb, known)
    return torch.where(landed_a, -t * own_a + bend_a, plain_ta), torch.where(landed_b, -(1 - t) * own_b + bend_b, plain_tb)
