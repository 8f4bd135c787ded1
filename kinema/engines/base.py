"""What every interpolation engine provides.

An engine turns two frames and a list of times into the frames at those times. The
times are shared by the whole batch, so a video pipeline can ask for all in-between
times of one pair at once (the classical engine then estimates motion once per pair)
and a benchmark can ask for ``t = 0.5`` of many pairs.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import torch


def check_times(times: Sequence[float]) -> list[float]:
    """Times as floats in [0, 1]; raises ``ValueError`` otherwise."""
    values = [float(t) for t in times]
    if not values:
        raise ValueError("no times to interpolate at")
    for t in values:
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"time {t} is outside [0, 1]")
    return values


def check_pair(a: torch.Tensor, b: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` are two ``(N, 3, H, W)`` batches of one shape."""
    if a.shape != b.shape or a.dim() != 4 or a.shape[1] != 3:
        raise ValueError(f"expected two (N, 3, H, W) batches of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")


class Engine(abc.ABC):
    """Frame synthesis between two frames. Subclasses implement :meth:`interpolate`."""

    @abc.abstractmethod
    def interpolate(self, a: torch.Tensor, b: torch.Tensor, times: Sequence[float]) -> torch.Tensor:
        """Frames between ``a`` and ``b`` (each ``(N, 3, H, W)``, [0, 1]) at each time.

        Returns ``(N, T, 3, H, W)`` for ``T = len(times)``; ``t = 0`` gives ``a`` and
        ``t = 1`` gives ``b`` exactly.
        """

    def interpolate_window(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        times: Sequence[float],
        *,
        before: torch.Tensor | None = None,
        after: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """:meth:`interpolate`, told the frame ``before`` ``a`` and the one ``after`` ``b``
        where a video has them (same shape; None at its ends and at scene cuts). An
        engine that models motion over four frames uses them; this default ignores them."""
        return self.interpolate(a, b, times)

    def lookahead(
        self, a: torch.Tensor, b: torch.Tensor, *, before: torch.Tensor | None = None, after: torch.Tensor | None = None
    ) -> None:
        """A hint that :meth:`interpolate_window` will be asked for this window next (the
        same tensors): an engine may start on its motion in the background, so that it
        overlaps the work on the current pair. Results must not depend on it; the
        default does nothing."""

    def midpoint(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The frame halfway between, ``(N, 3, H, W)``."""
        return self.interpolate(a, b, [0.5])[:, 0]


class AverageEngine(Engine):
    """The cross-fade ``(1 − t)·a + t·b``: the baseline every engine must beat."""

    def interpolate(self, a: torch.Tensor, b: torch.Tensor, times: Sequence[float]) -> torch.Tensor:
        ts = torch.tensor(check_times(times), dtype=a.dtype, device=a.device).view(1, -1, 1, 1, 1)
        return (1 - ts) * a[:, None] + ts * b[:, None]
