"""Super-resolution by reprojection: small frames of a video made large by its autoencoder.

The transmission case of the paper (section 6): the sender fits an autoencoder to the
video at full size, the receiver gets small frames. A small frame, upsampled (bicubic) to
the model's size, is off the video's manifold — blurred — and a pass through the
autoencoder pulls it back on: ``g(f(x))`` draws the sharp frame of *this* video that the
blurred one is closest to; further passes (iterative reprojection) pull harder.

A pass can also drift: the network may draw a frame of the video that does not match
what the small frame shows. ``consistent`` ties every pass back to the input, the
classical back-projection step: the output's own downscale is compared with the small
frame and the difference, upsampled, is added back (so the result, shrunk, is the input
again, up to the filter's rounding).

Shapes: small frames ``(N, 3, h, w)`` and output ``(N, 3, H, W)``, float32 in [0, 1].
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import torch

from kinema.io.atomic import check_output
from kinema.io.output import OutputOptions, open_writer, output_kind
from kinema.io.probe import open_reader
from kinema.models.video_ae import VideoAE
from kinema.ops.resize import bicubic, resize
from kinema.pipelines.convert import Progress, audio_source, timeline_of
from kinema.pipelines.vsae.fit import load_video_model
from kinema.types import BadInputError, MediaInfo, MediaKind


def back_project(high: torch.Tensor, low: torch.Tensor, steps: int = 3) -> torch.Tensor:
    """``high`` corrected towards shrinking to ``low``: ``steps`` rounds of iterative
    back-projection, each adding the upsampled difference between ``low`` and ``high``
    shrunk. (Shrinking then enlarging damps fine detail, so one round leaves part of the
    difference; three took most of what more would, measured on the upscale benchmark.)"""
    h, w = low.shape[-2:]
    for _ in range(steps):
        high = (high + bicubic(low - resize(high, h, w), tuple(high.shape[-2:]))).clamp_(0, 1)
    return high


@torch.no_grad()
def upscale_frames(
    net: VideoAE, low: torch.Tensor, size: tuple[int, int], *, reproject: int = 5, consistent: bool = True, fallback: float | None = None
) -> torch.Tensor:
    """Small frames ``low`` ``(N, 3, h, w)`` → ``(N, 3, *size)`` through ``net``: bicubic,
    then one pass and ``reproject`` more, each followed by back-projection onto ``low``
    when ``consistent``. ``net`` must be in eval mode; frames run on its device.

    ``fallback`` (a tolerance, e.g. :data:`FALLBACK`): for frames the model may never
    have seen. Where the first pass, shrunk, disagrees with the small frame by much more
    than the tolerance (mean absolute difference over the channels, in [0, 1]), the
    model is drawing something else than what was there — the output leans, pixel by
    pixel, towards bicubic (back-projected) instead: weight ``exp(−(d / fallback)²)``."""
    device = next(net.parameters()).device
    low = low.to(device)
    start = bicubic(low, size)
    x, trust = start, None
    for k in range(1 + reproject):
        x = net(x)
        if k == 0 and fallback is not None:
            h, w = low.shape[-2:]
            disagreement = bicubic((resize(x, h, w) - low).abs().mean(1, keepdim=True), size).clamp_min(0)
            trust = torch.exp(-((disagreement / fallback) ** 2))
        if consistent:
            x = back_project(x, low)
    if trust is not None:
        x = back_project(trust * x + (1 - trust) * back_project(start, low), low)
    return x


#: ``vsae upscale --fallback``'s tolerance (chosen on clips the upscale benchmark does not use).
FALLBACK = 0.1


def small_size(size: tuple[int, int], scale: int) -> tuple[int, int]:
    """The size of a frame of ``size`` (h, w) shrunk ``scale`` times (at least 1×1)."""
    return max(1, round(size[0] / scale)), max(1, round(size[1] / scale))


def shrink(frames: torch.Tensor, scale: int) -> torch.Tensor:
    """Frames shrunk ``scale`` times (antialiased bilinear): what a receiver is sent."""
    return resize(frames, *small_size(tuple(frames.shape[-2:]), scale))


def scale_check(model_size: tuple[int, int], low_size: tuple[int, int], scale: int) -> None:
    """Refuse small frames that are not the model's frames shrunk ``scale`` times.

    A model draws the video at the size it was fit at, so ``low × scale`` must be that
    size, up to the rounding that shrinking by ``scale`` allows (less than ``scale``
    pixels per side)."""
    (H, W), (h, w) = model_size, low_size
    if abs(h * scale - H) >= scale or abs(w * scale - W) >= scale:
        fit = "x".join(map(str, small_size((H, W), scale)[::-1]))
        raise BadInputError(f"the model was fit at {W}x{H}: {scale}x upscaling needs frames of {fit}, got {w}x{h}")


@dataclass(frozen=True)
class UpscaleConfig:
    #: The factor the frames were shrunk by: output is the input's size × ``scale``.
    scale: int = 4
    #: Passes through the autoencoder after the first.
    reproject: int = 5
    #: Tie each pass back to the input (back-projection).
    consistent: bool = True
    #: Lean towards bicubic where the model draws something the small frame does not
    #: show (:func:`upscale_frames`' tolerance; None: off). For frames it never saw.
    fallback: float | None = None
    #: Frames per batch through the network.
    batch: int = 8
    output: OutputOptions = field(default_factory=OutputOptions)
    #: Frame rate for an image-sequence input that has no timing sidecar.
    source_fps: Fraction | None = None
    #: Copy the source's audio (unchanged) when the output can hold it.
    audio: bool = True
    overwrite: bool = False

    def __post_init__(self):
        if self.scale < 1:
            raise ValueError(f"scale must be ≥ 1, got {self.scale}")
        if self.reproject < 0:
            raise ValueError(f"reproject must be ≥ 0, got {self.reproject}")
        if self.batch < 1:
            raise ValueError(f"batch must be ≥ 1, got {self.batch}")
        if self.fallback is not None and self.fallback <= 0:
            raise ValueError(f"fallback must be positive, got {self.fallback}")
        self.output.validate()


@dataclass(frozen=True)
class UpscaleResult:
    output: Path
    source: MediaInfo
    frames: int
    size: tuple[int, int]
    seconds: float


def upscale(
    model: Path,
    source: Path,
    output: Path,
    config: UpscaleConfig = UpscaleConfig(),
    *,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> UpscaleResult:
    """Every frame of ``source`` (small frames of the video ``model`` was fit on) upscaled
    ``config.scale`` times into ``output``, keeping the source's timing."""
    started = time.perf_counter()
    source, output = Path(source), Path(output)
    kind = output_kind(output)
    check_output(output, overwrite=config.overwrite, inputs=(source, Path(model)))
    vm = load_video_model(model, device=device)
    reader = open_reader(source, fps=config.source_fps)
    info = reader.info
    low_size = (info.height, info.width)
    scale_check(vm.size, low_size, config.scale)
    target = (info.height * config.scale, info.width * config.scale)
    # The autoencoder draws 8-bit RGB: a source's alpha or extra bit depth is not carried.
    timeline = dataclasses.replace(timeline_of(info), alpha=False, bit_depth=8)
    audio = audio_source(info) if config.audio and kind is not MediaKind.GIF else None
    count = 0
    with open_writer(output, timeline, options=config.output, audio_from=audio, overwrite=config.overwrite) as writer:
        batch = []

        def flush() -> None:
            nonlocal count
            low = torch.stack([f.image for f in batch])
            high = upscale_frames(vm.net, low, vm.size, reproject=config.reproject, consistent=config.consistent, fallback=config.fallback).cpu()
            high = resize(high, *target).clamp_(0, 1)  # the rounding of the shrink, undone
            for f, image in zip(batch, high):
                writer.write(f.replace(image=image, alpha=None))
            count += len(batch)
            batch.clear()
            if progress is not None:
                progress(count, info.frame_count)

        for frame in reader:
            batch.append(frame)
            if len(batch) == config.batch:
                flush()
        if batch:
            flush()
        if count == 0:  # raised inside, so the writer leaves nothing behind
            raise BadInputError(f"{source}: no frames")
    return UpscaleResult(output=output, source=info, frames=count, size=target, seconds=time.perf_counter() - started)
