"""What the interpolator is trained to do: the loss of one batch, and the privileged
flows that can teach its motion (used by training and by test-time adaptation alike)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from kinema.ops.flow import dis_flow
from kinema.ops.losses import census_loss, charbonnier, gradient_loss
from kinema.ops.warp import Padding, backward_warp

#: Error scale (mean absolute RGB, [0, 1] units) at which a teacher flow's weight falls to 1/e.
TEACHER_SIGMA = 0.02


@torch.no_grad()
def privileged_flows(a: torch.Tensor, mid: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Teacher flows for the distillation term: ``(N, 6, H, W)`` = flow t→a, flow t→b
    (pixels) and the weight of each, from ``(N, 3, H, W)`` frames.

    DIS from the *true* middle frame to each input sees what the network cannot — the frame
    it must produce — so its flows are far better than any two-frame estimate (the oracle rows
    of ``docs/notes/ucf101-gap.md``): the privileged-teacher idea of RIFE, with a classical teacher that costs milliseconds.
    Each flow is weighted by ``exp(−err / TEACHER_SIGMA)`` of its own warp, so occluded
    pixels and teacher failures teach nothing."""
    a, mid, b = (x.detach().cpu() for x in (a, mid, b))
    out = []
    for source in (a, b):
        flow = dis_flow(mid, source, finest_scale=0)
        error = (backward_warp(source, flow, padding=Padding.BORDER) - mid).abs().mean(1, keepdim=True)
        out.append((flow, torch.exp(-error / TEACHER_SIGMA)))
    (f_ta, w_a), (f_tb, w_b) = out
    return torch.cat([f_ta, f_tb, w_a, w_b], 1)


def distill_loss(flows: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Weighted robust distance (pixels) between the network's flows ``(N, 4, H, W)`` and
    the teacher's (:func:`privileged_flows`)."""
    weight = teacher[:, 4:6].repeat_interleave(2, 1)
    distance = torch.sqrt((flows - teacher[:, :4]) ** 2 + 1e-6)
    return (weight * distance).sum() / weight.sum().clamp_min(1.0)


def loss_terms(
    predict: Callable,
    a,
    mid,
    b,
    t,
    guide: torch.Tensor | None,
    *,
    census_weight: float,
    distill: float = 0.0,
    teacher: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(total loss, output) for one batch; ``predict`` is the network's ``InterpNet.predict``
    (bound, or data-parallel through :class:`kinema.train.distributed.Method`); ``teacher``:
    :func:`privileged_flows` of the batch, weighted by ``distill`` when that is > 0.

    Charbonnier + gradient + ``census_weight`` × census on the output and, at half weight,
    Charbonnier on the blend before synthesis (which keeps the flow estimator honest)."""
    pred, coarse = predict(a, b, t, guide)
    out = coarse + pred.residual
    loss = charbonnier(out - mid) + gradient_loss(out, mid) + census_weight * census_loss(out, mid)
    loss = loss + 0.5 * charbonnier(coarse - mid)
    if teacher is not None and distill > 0:
        loss = loss + distill * distill_loss(pred.flows, teacher.to(pred.flows))
    return loss, out
