"""Sparse transmission (the paper's section 6): a video sent as its autoencoder and a few
small frames, rebuilt at full rate and full size by the receiver.

:func:`pack` keeps every ``keep_every``-th frame of the video (and the last, so nothing
is extrapolated), shrinks them ``scale`` times and writes them, with the autoencoder's
weights (float16, or 8 bits per weight), into one ``.kvae`` file
(:mod:`kinema.io.kvae_file`). Without the weights (``weights=False``) the file is the
stream alone — the video-call setting, where the model was sent once beforehand and the
receiver names it.

:func:`unpack` upscales the kept frames by reprojection
(:func:`kinema.pipelines.vsae.upscale.upscale_frames`), then makes the frames between
them, and writes the video with the source's own timing, at the size the model was fit
at (the only size it can draw). The frames between come from one of two
:class:`Between` methods: motion (kinema's learned interpolation engine between the two
upscaled neighbours, then ``reproject`` passes through the autoencoder, which pulls the
in-between onto the frame of *this* video it resembles — the default, because it scored
best in the benchmark) or the paper's latent interpolation with iterative reprojection.
"""

from __future__ import annotations

import enum
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from kinema import __version__
from kinema.engines.base import Engine
from kinema.engines.latent import LatentEngine
from kinema.engines.learned import LearnedEngine
from kinema.io.atomic import check_output
from kinema.io.h264 import decode_h264, encode_h264
from kinema.io.kvae_file import read_kvae, write_kvae
from kinema.io.output import OutputOptions, Timeline, open_writer, output_kind
from kinema.models.checkpoint import tensor_digest
from kinema.models.video_ae import ARCH, VideoAE, VideoAEConfig
from kinema.ops.quantize import dequantize_state, quantize_state
from kinema.pipelines.convert import Progress
from kinema.pipelines.vsae.fit import load_video_model, open_model_and_video
from kinema.pipelines.vsae.upscale import shrink, upscale_frames
from kinema.types import BadInputError, Frame, ModelMismatchError

#: What a ``.kvae`` file's header says it holds.
CONTENT = "kinema.vsae.packed-video"
#: More frames than a header may declare (a day at 100 fps): a damaged or hostile count
#: is refused before any list of that length is made.
MAX_FRAMES = 8_640_000


class Between(enum.Enum):
    """How :func:`unpack` makes the frames between two kept ones."""

    MOTION = "motion"  # learned interpolation engine, then reprojection
    LATENT = "latent"  # the paper: interpolated latent codes, then reprojection


def kept_indices(count: int, every: int) -> list[int]:
    """Frames a pack keeps: ``0, every, 2·every, …`` and the last one."""
    kept = list(range(0, count, every))
    if kept[-1] != count - 1:
        kept.append(count - 1)
    return kept


def transposed_weights(net: nn.Module) -> set[str]:
    """Names of the transposed convolutions' weights (their output channels are dim 1)."""
    return {f"{name}.weight" for name, module in net.named_modules() if isinstance(module, nn.ConvTranspose2d)}


@dataclass(frozen=True)
class PackConfig:
    #: Keep one frame in this many (1: every frame).
    keep_every: int = 2
    #: Kept frames are shrunk this many times (1: sent at the model's size).
    scale: int = 4
    #: H.264 quality of the kept frames: 0 is lossless, 51 the coarsest.
    crf: int = 0
    #: Bits per weight: 16 (float16) or 8 (8-bit integers, a scale per channel).
    bits: int = 16
    #: Include the weights (False: the stream alone, for a receiver that has the model).
    weights: bool = True
    overwrite: bool = False

    def __post_init__(self):
        if self.keep_every < 1 or self.scale < 1:
            raise ValueError(f"keep_every and scale must be ≥ 1, got {self.keep_every} and {self.scale}")
        if not 0 <= self.crf <= 51:
            raise ValueError(f"crf must be in 0..51, got {self.crf}")
        if self.bits not in (8, 16):
            raise ValueError(f"bits must be 8 or 16, got {self.bits}")


@dataclass(frozen=True)
class PackResult:
    output: Path
    frames: int
    kept: int
    #: Bytes of the whole file, and of its parts.
    bytes: int
    weight_bytes: int
    frame_bytes: int
    seconds: float


def _frac(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}"


def _timing(times: tuple[tuple[Fraction, Fraction], ...]) -> dict:
    """The frames' times, as a start and a step when they are evenly spaced."""
    start, step = times[0][0], times[0][1]
    if all(pts == start + i * step and duration == step for i, (pts, duration) in enumerate(times)):
        return {"start": _frac(start), "step": _frac(step)}
    return {"times": [[_frac(p), _frac(d)] for p, d in times]}


def _times(timing: dict, count: int) -> list[tuple[Fraction, Fraction]]:
    if "times" in timing:
        times = [(Fraction(p), Fraction(d)) for p, d in timing["times"]]
    else:
        start, step = Fraction(timing["start"]), Fraction(timing["step"])
        times = [(start + i * step, step) for i in range(count)]
    if len(times) != count:
        raise ValueError(f"{len(times)} frame times for {count} frames")
    return times


def pack(model: Path, source: Path, output: Path, config: PackConfig = PackConfig(), *, device: torch.device | str = "cpu") -> PackResult:
    """``source`` (the video ``model`` was fit on) written as a ``.kvae`` file."""
    started = time.perf_counter()
    source, output, model = Path(source), Path(output), Path(model)
    check_output(output, overwrite=config.overwrite, inputs=(source, model))
    vm, footage = open_model_and_video(model, source, device=device)
    count = len(footage.frames)
    kept = kept_indices(count, config.keep_every)
    small = shrink(footage.as_float(kept), config.scale).mul(255).round().clamp(0, 255).to(torch.uint8)
    frames = encode_h264(small, crf=config.crf)
    state = {k: v.cpu() for k, v in vm.net.state_dict().items()}
    sections = {"frames": frames}
    if config.weights:
        # zlib takes a tenth off either precision (the exponents and high bytes repeat).
        sections["weights"] = zlib.compress(save_tensors(quantize_state(state, bits=config.bits, transposed=transposed_weights(vm.net))), 9)
    info = footage.info
    header = {
        "content": CONTENT,
        "kinema": __version__,
        "model": {
            "arch": ARCH,
            "config": vm.net.config.as_dict(),
            "digest": tensor_digest(state),
            "bits": config.bits if config.weights else None,
            # What the model file says it was fit on, not how (the fit's settings are
            # a sizeable share of a stream-only file).
            "meta": {key: vm.meta[key] for key in ("source", "size", "psnr") if key in vm.meta},
        },
        "video": {
            "frames": count,
            "size": list(footage.size),
            "rate": _frac(info.fps or info.average_fps),
            "time_base": _frac(info.time_base),
            "constant_rate": not info.vfr,
            "loop": info.loop,
            **_timing(footage.times),
        },
        "kept": {"every": config.keep_every, "scale": config.scale, "size": list(small.shape[-2:]), "crf": config.crf},
    }
    size = write_kvae(output, header, sections, overwrite=config.overwrite, inputs=(source, model))
    return PackResult(
        output=output, frames=count, kept=len(kept), bytes=size, weight_bytes=len(sections.get("weights", b"")), frame_bytes=len(frames), seconds=time.perf_counter() - started
    )


@dataclass(frozen=True)
class Packed:
    """A ``.kvae`` file read and checked: the network (None for a stream-only file),
    the kept frames ``(K, 3, h, w)`` uint8 and what the header says."""

    net: VideoAE | None
    kept: torch.Tensor
    indices: list[int]
    size: tuple[int, int]
    times: list[tuple[Fraction, Fraction]]
    timeline: Timeline
    header: dict
    bytes: int


def read_packed(path: Path, *, device: torch.device | str = "cpu") -> Packed:
    """Everything in a ``.kvae`` file, with every field checked (:class:`BadInputError`)."""
    contents = read_kvae(path)
    header, sections = contents.header, contents.sections
    if header.get("content") != CONTENT:
        raise BadInputError(f"{path}: a .kvae file of another kind ({header.get('content')!r})")
    try:
        video, kept, model = header["video"], header["kept"], header["model"]
        count, size = int(video["frames"]), (int(video["size"][0]), int(video["size"][1]))
        every = int(kept["every"])
        small = (int(kept["size"][0]), int(kept["size"][1]))
        if not (0 < count <= MAX_FRAMES and 0 < every <= count):
            raise ValueError(f"{count} frames, one kept in {every}")
        indices = kept_indices(count, every)
        times = _times(video, count)
        rate = Fraction(video["rate"])
        timeline = Timeline(time_base=Fraction(video["time_base"]), rate=rate, constant_rate=bool(video["constant_rate"]), loop=video["loop"])
        config = VideoAEConfig.from_dict(model["config"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise BadInputError(f"{path}: unreadable .kvae header ({exc})") from None
    if model.get("arch") != ARCH:
        raise ModelMismatchError(f"{path}: holds a model of another kind ({model.get('arch')!r})")
    frames = decode_h264(sections.get("frames", b""), count=len(indices), size=small)
    net = None
    if "weights" in sections:
        try:
            state = dequantize_state(load_tensors(zlib.decompress(sections["weights"])), transposed=transposed_weights(VideoAE(config)))
            net = VideoAE(config)
            net.load_state_dict(state)
        except (SafetensorError, RuntimeError, ValueError, zlib.error) as exc:
            raise BadInputError(f"{path}: unreadable weights ({exc})") from None
        net = net.to(device).eval()
    return Packed(net=net, kept=frames, indices=indices, size=size, times=times, timeline=timeline, header=header, bytes=contents.size)


@dataclass(frozen=True)
class UnpackConfig:
    between: Between = Between.MOTION
    #: Passes through the autoencoder: after each upscaled kept frame's first, and after
    #: each in-between.
    reproject: int = 5
    #: Kept frames upscaled per batch.
    batch: int = 8
    output: OutputOptions = field(default_factory=OutputOptions)
    overwrite: bool = False

    def __post_init__(self):
        if self.reproject < 0 or self.batch < 1:
            raise ValueError(f"reproject must be ≥ 0 and batch ≥ 1, got {self.reproject} and {self.batch}")
        self.output.validate()


@dataclass(frozen=True)
class UnpackResult:
    output: Path
    frames: int
    kept: int
    size: tuple[int, int]
    seconds: float


def rebuild(net: VideoAE, kept: torch.Tensor, indices: list[int], size: tuple[int, int], *, between: Engine, reproject: int, batch: int = 8) -> Iterator[tuple[int, torch.Tensor]]:
    """``(index, frame (3, *size))`` for every frame from ``indices[0]`` to ``indices[-1]``,
    in order: kept frames ``(K, 3, h, w)`` (uint8 or float) upscaled through ``net``, the
    frames between them made by ``between`` and, for an engine other than the latent one
    (which reprojects itself), pulled onto the video by ``reproject`` passes."""
    device = next(net.parameters()).device
    previous = None
    for start in range(0, len(indices), batch):
        low = kept[start : start + batch]
        low = low.float() / 255 if low.dtype == torch.uint8 else low
        with torch.no_grad():
            high = upscale_frames(net, low.to(device), size, reproject=reproject).cpu()
        for k, frame in enumerate(high):
            index = indices[start + k]
            if previous is not None and index - previous[0] > 1:
                gap = index - previous[0]
                times = [j / gap for j in range(1, gap)]
                with torch.inference_mode():
                    middle = between.interpolate(previous[1][None].to(device), frame[None].to(device), times)[0]
                    if not isinstance(between, LatentEngine):
                        middle = net.reproject(middle, reproject)
                for j, image in enumerate(middle.cpu(), start=1):
                    yield previous[0] + j, image
            yield index, frame
            previous = (index, frame)


def unpack(source: Path, output: Path, config: UnpackConfig = UnpackConfig(), *, model: Path | None = None, device: torch.device | str = "cpu", progress: Progress | None = None) -> UnpackResult:
    """The video in ``source`` (a ``.kvae``) rebuilt into ``output``; ``model`` is the
    autoencoder for a stream-only file (it must be the one the file was packed with)."""
    started = time.perf_counter()
    source, output = Path(source), Path(output)
    output_kind(output)
    check_output(output, overwrite=config.overwrite, inputs=(source, *(() if model is None else (Path(model),))))
    packed = read_packed(source, device=device)
    net = packed.net
    if net is None:
        if model is None:
            raise BadInputError(f"{source}: holds the stream only; name the model it was packed with (--model)")
        vm = load_video_model(model, device=device)
        digest = tensor_digest(vm.net.state_dict())
        if digest != packed.header["model"]["digest"]:
            raise ModelMismatchError(f"{model} is not the model {source} was packed with")
        net = vm.net
    engine = LatentEngine(net, reproject=config.reproject, size=packed.size) if config.between is Between.LATENT else LearnedEngine.from_file(None, device=device)
    count = len(packed.times)
    with open_writer(output, packed.timeline, options=config.output, overwrite=config.overwrite) as writer:
        for index, image in rebuild(net, packed.kept, packed.indices, packed.size, between=engine, reproject=config.reproject, batch=config.batch):
            pts, duration = packed.times[index]
            writer.write(Frame(image=image, pts=pts, duration=duration, index=index))
            if progress is not None:
                progress(index + 1, count)
    return UnpackResult(output=output, frames=count, kept=len(packed.indices), size=packed.size, seconds=time.perf_counter() - started)
