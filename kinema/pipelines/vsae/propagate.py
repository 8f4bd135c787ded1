"""Mask propagation: labels drawn on one frame carried to every frame of the video.

Two chains over soft labels ``(K, h, w)`` (one channel per label, summing to 1), either
alone or run side by side and mixed at each frame (:func:`follow`; the hard label of a
pixel is the largest):

* :func:`follow_motion` — each frame's labels are the previous frame's pulled along DIS
  flow, computed at full resolution, from the frame to the one before.
* :func:`follow_codes` — the paper's: each pixel takes the labels of the pixels, in the
  first frame (the user's labels) and the last few propagated ones, whose pixel codes
  (:meth:`kinema.models.video_ae.VideoAE.pixel_codes`) are most similar, within a search
  window: the ``top_k`` best, weighted by ``softmax(similarity / temperature)``.

Motion is right more often, and ten times faster, so it is the default. Codes do not
drift, and on some clips they see where the flow dragged a label off its object: mixing
the two chains' outputs (``codes_weight`` of the codes) gained a little on the clips it
was tuned on, but nothing on average on held-out ones. Feeding the mix back into either
chain, votes around the flow's target, an appearance classifier on the codes and
code-guided filling of occlusions were all worse (``docs/models/video_ae.md``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import torch
import torch.nn.functional as F

from kinema.io.atomic import check_output
from kinema.io.masks import LabelMask, read_mask
from kinema.io.output import OutputOptions, open_writer, output_kind
from kinema.io.video_out import VideoCodec, VideoOptions
from kinema.ops.flow import dis_flow
from kinema.ops.resize import resize
from kinema.ops.warp import Padding, backward_warp
from kinema.pipelines.convert import Progress, timeline_of
from kinema.pipelines.vsae.fit import VideoModel, open_model_and_video


@dataclass(frozen=True)
class CodeSearch:
    """How :func:`follow_codes` matches pixel codes."""

    #: Code grid = working size / ``stride`` (labels are propagated there, then enlarged).
    stride: int = 4
    #: Search window radius, in code-grid pixels.
    radius: int = 6
    top_k: int = 10
    temperature: float = 0.05
    #: Propagated frames looked at beside the first (the most recent ones).
    context: int = 3

    def __post_init__(self):
        if self.stride < 1 or self.radius < 0 or self.top_k < 1 or self.context < 0:
            raise ValueError("stride and top_k must be ≥ 1, radius and context ≥ 0")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")


def motion_step(labels: torch.Tensor, frame: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
    """Soft labels ``(K, H, W)`` of ``previous`` ``(3, H, W)`` carried to ``frame``: pulled
    along the DIS flow from ``frame`` to ``previous``, at full resolution (DIS's default
    stops at a quarter and upsamples, which smears labels across motion boundaries)."""
    flow = dis_flow(frame[None], previous[None], finest_scale=0)
    return backward_warp(labels[None], flow, padding=Padding.BORDER)[0]


def follow_motion(frames: Iterator[torch.Tensor], first: torch.Tensor, *, step=motion_step) -> Iterator[torch.Tensor]:
    """Soft labels of every frame of ``frames`` (``(3, H, W)`` each, in order), the first's
    being ``first`` ``(K, H, W)``; ``step`` carries labels one frame on."""
    frames = iter(frames)
    previous = next(frames)
    labels = first
    yield labels
    for frame in frames:
        labels = step(labels, frame, previous)
        previous = frame
        yield labels


def _windows(x: torch.Tensor, radius: int) -> Iterator[torch.Tensor]:
    """``(C, h, w)`` moved by every offset of the ``(2r + 1)²`` window in turn (edge pixels
    repeated): the ``s``-th is ``x[:, y + dy_s, x + dx_s]`` at ``(y, x)``."""
    h, w = x.shape[-2:]
    padded = F.pad(x[None], (radius,) * 4, mode="replicate")[0] if radius else x
    size = 2 * radius + 1
    for dy in range(size):
        for dx in range(size):
            yield padded[:, dy : dy + h, dx : dx + w]


def vote(code: torch.Tensor, codes: list[torch.Tensor], labels: list[torch.Tensor], search: CodeSearch) -> torch.Tensor:
    """Labels ``(K, h, w)`` of a frame with pixel codes ``code`` ``(D, h, w)`` from reference
    frames (``codes[i]`` ``(D, h, w)``, ``labels[i]`` ``(K, h, w)``): the softmax-weighted
    labels of the ``top_k`` most similar code pixels within the window, over all
    references together."""
    # Similarities one offset at a time: the shifted codes themselves would be
    # (2r + 1)² copies of the frame's codes.
    sim = torch.stack([(moved * code).sum(0) for ref in codes for moved in _windows(ref, search.radius)])  # (S, h, w)
    lab = torch.stack([moved for ref in labels for moved in _windows(ref, search.radius)])  # (S, K, h, w)
    best, index = sim.topk(min(search.top_k, len(sim)), dim=0)  # (k, h, w)
    weight = torch.softmax(best / search.temperature, dim=0)
    chosen = lab.gather(0, index[:, None].expand(-1, lab.shape[1], -1, -1))  # (k, K, h, w)
    return (weight[:, None] * chosen).sum(0)


@torch.no_grad()
def follow_codes(net, frames: Iterator[torch.Tensor], first: torch.Tensor, search: CodeSearch = CodeSearch()) -> Iterator[torch.Tensor]:
    """The paper's propagation by pixel codes of ``net`` (a :class:`VideoAE`): soft labels
    ``(K, H, W)`` of every frame ``(3, H, W)``, the first's being ``first``. Only the
    first and the last ``context`` frames' codes are held."""
    frames = iter(frames)
    frame = next(frames)
    size = frame.shape[-2:]
    grid = (math.ceil(size[0] / search.stride), math.ceil(size[1] / search.stride))
    device = next(net.parameters()).device

    def codes_of(image: torch.Tensor) -> torch.Tensor:
        return net.pixel_codes(image[None].to(device), grid)[0].cpu()

    anchor = (codes_of(frame), F.interpolate(first[None], size=grid, mode="area")[0])
    recent: list[tuple[torch.Tensor, torch.Tensor]] = []
    yield first
    for frame in frames:
        code = codes_of(frame)
        refs = [anchor, *recent]
        labels = vote(code, [c for c, _ in refs], [lab for _, lab in refs], search)
        if search.context:
            recent = [*recent, (code, labels)][-search.context :]
        yield F.interpolate(labels[None], size=tuple(size), mode="bilinear", align_corners=False)[0]


def follow(net, frames: Callable[[], Iterator[torch.Tensor]], first: torch.Tensor, codes_weight: float, search: CodeSearch = CodeSearch()) -> Iterator[torch.Tensor]:
    """Soft labels ``(K, H, W)`` of every frame: ``(1 − codes_weight)`` of the motion chain
    plus ``codes_weight`` of the code chain (0: motion alone; 1: the paper's codes alone).
    ``frames()`` yields the frames ``(3, H, W)`` afresh for each chain."""
    if codes_weight == 0:
        yield from follow_motion(frames(), first)
        return
    if codes_weight == 1:
        yield from follow_codes(net, frames(), first, search)
        return
    for motion, codes in zip(follow_motion(frames(), first), follow_codes(net, frames(), first, search)):
        yield (1 - codes_weight) * motion + codes_weight * codes


@dataclass(frozen=True)
class PropagateConfig:
    #: Share of the pixel-code chain in the labels (0: motion alone; 1: the paper's codes alone).
    codes_weight: float = 0.0
    search: CodeSearch = field(default_factory=CodeSearch)
    #: Lossless by default: a mask's values are labels, and H.264 would blur them.
    output: OutputOptions = field(default_factory=lambda: OutputOptions(video=VideoOptions(codec=VideoCodec.FFV1)))
    overwrite: bool = False

    def __post_init__(self):
        if not 0 <= self.codes_weight <= 1:
            raise ValueError(f"codes weight must be in [0, 1], got {self.codes_weight}")


@dataclass(frozen=True)
class PropagateResult:
    output: Path
    frames: int
    labels: int
    seconds: float


def first_labels(mask: LabelMask, vm: VideoModel, source_size: tuple[int, int], path: Path) -> torch.Tensor:
    """The mask's labels ``(K, h, w)`` at the model's working size; the mask must be drawn
    at the video's size (or the working size)."""
    mask.require_size(path, source_size, vm.size)
    return resize(mask.one_hot()[None], *vm.size)[0]


def propagate(
    model: Path,
    source: Path,
    mask: Path,
    output: Path,
    config: PropagateConfig = PropagateConfig(),
    *,
    device: torch.device | str = "cpu",
    fps: Fraction | None = None,
    progress: Progress | None = None,
) -> PropagateResult:
    """The labels of ``mask`` (drawn on the first frame of ``source``) on every frame,
    written to ``output`` (a frames folder or a video) as masks in the mask's own values,
    at the mask's size, with the source's timing."""
    started = time.perf_counter()
    source, mask, output = Path(source), Path(mask), Path(output)
    output_kind(output)
    check_output(output, overwrite=config.overwrite, inputs=(source, mask, Path(model)))
    labels = read_mask(mask)
    vm, footage = open_model_and_video(model, source, device=device, fps=fps)
    info = footage.info
    first = first_labels(labels, vm, (info.height, info.width), mask)
    frames = lambda: (footage.as_float([i])[0] for i in range(len(footage.frames)))  # noqa: E731
    soft = follow(vm.net, frames, first, config.codes_weight, config.search)
    size = tuple(labels.labels.shape)
    timeline = dataclasses.replace(timeline_of(info), alpha=False, bit_depth=labels.bit_depth)
    count = 0
    with open_writer(output, timeline, options=config.output, overwrite=config.overwrite) as writer:
        for i, probs in enumerate(soft):
            hard = F.interpolate(probs[None], size=size, mode="bilinear", align_corners=False)[0].argmax(0)
            if i == 0 and size == (info.height, info.width):
                hard = labels.labels  # the user's own mask, exactly
            writer.write(footage.frame(i, labels.image(hard)))
            count += 1
            if progress is not None:
                progress(count, len(footage.frames))
    return PropagateResult(output=output, frames=count, labels=labels.count, seconds=time.perf_counter() - started)
