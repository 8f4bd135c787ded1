"""Mask propagation: labels drawn on one frame carried to every frame of the video.

The paper propagates instance labels by the cosine similarity of pixel codes
(:meth:`kinema.models.video_ae.VideoAE.pixel_codes`): each pixel of a new frame takes
the labels of the pixels, in earlier frames, whose codes are most like its own. Codes
alone do not know where things went, and flow alone drifts and has nothing to say where
something reappears; so :func:`propagate_labels` uses both:

* **motion** — every earlier frame it looks at is first brought into the new frame's
  place by DIS flow, composed frame to frame into one displacement per earlier frame (one
  resampling, not one per frame);
* **codes** — around that place, within ``radius`` pixels of the code grid, each pixel
  takes the ``top_k`` most similar code pixels of the first frame (whose labels are the
  user's) and of the last ``context`` frames (whose labels are propagated), and averages
  their labels weighted by ``softmax(similarity / temperature)`` (the label-propagation
  scheme of self-supervised correspondence work).

Soft labels are kept between frames; the hard label of a pixel is the largest.

Shapes: codes ``(D, h, w)`` per frame; labels ``(K, h, w)``, one channel per label,
summing to 1; flows ``(2, h, w)`` in code-grid pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from kinema.ops.warp import Padding, backward_warp


@dataclass(frozen=True)
class PropagateConfig:
    #: Code grid = working size / ``stride`` (the labels are propagated there, then enlarged).
    stride: int = 4
    #: Search radius around each pixel's (motion-compensated) place, in code-grid pixels.
    radius: int = 4
    top_k: int = 10
    temperature: float = 0.05
    #: Propagated frames looked at beside the first (the most recent ones).
    context: int = 3
    #: Compensate motion (DIS flow) before comparing codes; off: the paper's codes alone.
    motion: bool = True
    #: How far (code-grid pixels, a Gaussian's σ) a match may stray from where motion puts
    #: it before its similarity must make up for it; None: anywhere within ``radius``.
    spread: float | None = 1.0

    def __post_init__(self):
        if self.stride < 1 or self.radius < 0 or self.top_k < 1 or self.context < 0:
            raise ValueError("stride and top_k must be ≥ 1, radius and context ≥ 0")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")


def _shifts(x: torch.Tensor, radius: int) -> torch.Tensor:
    """``(C, h, w)`` → ``(S, C, h, w)``: ``x`` moved by every offset of the ``(2r + 1)²``
    window (edge pixels repeated), so ``out[s, :, y, x] = x[:, y + dy_s, x + dx_s]``."""
    if radius == 0:
        return x[None]
    h, w = x.shape[-2:]
    padded = F.pad(x[None], (radius,) * 4, mode="replicate")[0]
    size = 2 * radius + 1
    return torch.stack([padded[:, dy : dy + h, dx : dx + w] for dy in range(size) for dx in range(size)])


def vote(code: torch.Tensor, codes: list[torch.Tensor], labels: list[torch.Tensor], config: PropagateConfig) -> torch.Tensor:
    """Labels ``(K, h, w)`` of a frame with pixel codes ``code`` ``(D, h, w)``, from
    reference frames already in its place (``codes[i]`` ``(D, h, w)``, ``labels[i]``
    ``(K, h, w)``): the softmax-weighted labels of the ``top_k`` most similar code
    pixels within ``radius``, over all references together."""
    r = config.radius
    offsets = torch.stack(torch.meshgrid(torch.arange(-r, r + 1), torch.arange(-r, r + 1), indexing="ij"), -1).reshape(-1, 2)
    penalty = torch.zeros(len(offsets)) if config.spread is None else offsets.pow(2).sum(1) / (2 * config.spread**2)
    scores, votes = [], []
    for ref_code, ref_labels in zip(codes, labels):
        moved = _shifts(ref_code, r)  # (S, D, h, w)
        similarity = (moved * code[None]).sum(1)  # (S, h, w) cosine similarities
        scores.append(similarity / config.temperature - penalty[:, None, None])
        votes.append(_shifts(ref_labels, r))  # (S, K, h, w)
    score, lab = torch.cat(scores), torch.cat(votes)
    k = min(config.top_k, len(score))
    best, index = score.topk(k, dim=0)  # (k, h, w)
    weight = torch.softmax(best, dim=0)
    chosen = lab.gather(0, index[:, None].expand(-1, lab.shape[1], -1, -1))  # (k, K, h, w)
    return (weight[:, None] * chosen).sum(0)


def compose(step: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    """Flow from frame t+1 to an earlier frame c: the step ``(2, h, w)`` t+1 → t, then the
    displacement ``total`` t → c read where the step lands."""
    return step + backward_warp(total[None], step[None], padding=Padding.BORDER)[0]


def propagate_labels(
    codes: Iterator[torch.Tensor],
    first: torch.Tensor,
    config: PropagateConfig = PropagateConfig(),
    *,
    flows: Iterator[torch.Tensor] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[torch.Tensor]:
    """Soft labels ``(K, h, w)`` of every frame, the first's being ``first``.

    ``codes`` yields each frame's pixel codes ``(D, h, w)``, in order; ``flows``, when
    motion is on, yields for each frame after the first the flow ``(2, h, w)`` from it to
    the frame before. Both are consumed one frame at a time, so a long video never holds
    more than ``context + 1`` frames of codes.
    """
    codes = iter(codes)
    first_code = next(codes)
    yield first
    # Reference frames: (code, labels, displacement from the current frame to it).
    anchor = [first_code, first, torch.zeros(2, *first.shape[-2:])]
    recent: list[list[torch.Tensor]] = []
    for i, code in enumerate(codes, start=1):
        if config.motion and flows is not None:
            step = next(flows)
            for ref in (anchor, *recent):
                ref[2] = compose(step, ref[2])
        refs = [anchor, *recent]
        placed = [backward_warp(torch.cat([c, lab])[None], d[None], padding=Padding.BORDER)[0] for c, lab, d in refs]
        d = first_code.shape[0]
        labels = vote(code, [p[:d] for p in placed], [p[d:] for p in placed], config)
        yield labels
        if config.context:
            recent.append([code, labels, torch.zeros_like(anchor[2])])
            recent = recent[-config.context :]
        if progress is not None:
            progress(i)
