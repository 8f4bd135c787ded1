"""Sparse transmission (the paper's section 6): a video sent as its autoencoder and a few
small frames, rebuilt at full rate and full size by the receiver.

:func:`pack` keeps every ``keep_every``-th frame of the video (and the last, so nothing
is extrapolated), shrinks them ``scale`` times and writes them, with the autoencoder's
weights (float16, or 8 bits per weight), into one ``.kvae`` file
(:mod:`kinema.pipelines.vsae.packed` says what it holds). Without the weights (``weights=False``) the file is the
stream alone — the video-call setting, where the model was sent once beforehand and the
receiver names it.

:func:`unpack` upscales the kept frames by reprojection
(:func:`kinema.pipelines.vsae.upscale.upscale_frames`), then makes the frames between
them, and writes the video with the source's own timing, at the size the model was fit
at (the only size it can draw). The frames between come from one of two
:class:`Between` methods: motion (kinema's learned interpolation engine between the two
upscaled neighbours — the default, because it scored best in the benchmark) or the
paper's latent interpolation; either is then pulled onto the frame of *this* video it
resembles by passes through the autoencoder (iterative reprojection). How many passes
each frame gets the sender chose (:func:`rebuild` with the true frames): it rebuilds the
video as the receiver will and keeps, per frame, the count that came closest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from kinema.engines.base import Engine
from kinema.engines.latent import LatentEngine
from kinema.engines.learned import LearnedEngine
from kinema.io.atomic import check_output
from kinema.io.h264 import decode_h264, encode_h264
from kinema.io.kvae_file import write_kvae
from kinema.io.output import OutputOptions, open_writer, output_kind
from kinema.models.checkpoint import tensor_digest
from kinema.models.video_ae import VideoAE
from kinema.ops.resize import bicubic
from kinema.pipelines.convert import Progress
from kinema.pipelines.vsae.fit import load_video_model, open_model_and_video
from kinema.pipelines.vsae.packed import MOST_PASSES, NO_BACK_PROJECTION, Between, kept_indices, make_header, mode, modes_text, net_from_blob, read_packed, transposed_weights, weights_blob
from kinema.pipelines.vsae.upscale import back_project, shrink
from kinema.types import BadInputError, Frame, ModelMismatchError


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
    #: How the receiver makes the frames between kept ones.
    between: Between = Between.MOTION
    #: Rebuild as the receiver will and record, per frame, the rebuild mode (passes, and
    #: for kept frames back-projection or not) that comes closest to the true frame: one
    #: character a frame. What reprojection does for a frame depends on how well the
    #: model knows it, and back-projection on how faithful its small frame is.
    choose: bool = True
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


def between_engine(between: Between, net: VideoAE, device: torch.device | str) -> Engine:
    """The engine that makes in-betweens (its reprojections are :func:`rebuild`'s)."""
    if between is Between.LATENT:
        return LatentEngine(net, reproject=0)
    return LearnedEngine.from_file(None, device=device)


def pack(model: Path, source: Path, output: Path, config: PackConfig = PackConfig(), *, device: torch.device | str = "cpu", progress: Progress | None = None) -> PackResult:
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
    receiver = vm.net
    if config.weights:
        sections["weights"] = weights_blob(state, config.bits, transposed_weights(vm.net))
        receiver = net_from_blob(vm.net.config, sections["weights"]).to(device).eval()
    modes = None
    if config.choose:  # what the receiver will have: the decoded frames, the sent weights
        engine = between_engine(config.between, receiver, device)
        rebuilt = rebuild(receiver, decode_h264(frames), kept, footage.size, between=engine, modes=[], truth=footage.as_float)
        chosen = []
        for index, _, code in rebuilt:
            chosen.append(code)
            if progress is not None:
                progress(index + 1, count)
        modes = modes_text(chosen)
    bits = config.bits if config.weights else None
    header = make_header(vm, footage, state, bits=bits, every=config.keep_every, scale=config.scale, small=tuple(small.shape[-2:]), crf=config.crf, between=config.between, modes=modes)
    size = write_kvae(output, header, sections, overwrite=config.overwrite, inputs=(source, model))
    return PackResult(
        output=output, frames=count, kept=len(kept), bytes=size, weight_bytes=len(sections.get("weights", b"")), frame_bytes=len(frames), seconds=time.perf_counter() - started
    )


@dataclass(frozen=True)
class UnpackConfig:
    #: How to make the frames between kept ones (None: as the file was packed for).
    between: Between | None = None
    #: Passes through the autoencoder after each upscaled kept frame's first, and after
    #: each in-between (None: as the sender chose them per frame; where it did not,
    #: MOST_PASSES), kept frames back-projected only when sent losslessly.
    reproject: int | None = None
    #: Kept frames upscaled per batch.
    batch: int = 8
    output: OutputOptions = field(default_factory=OutputOptions)
    overwrite: bool = False

    def __post_init__(self):
        if (self.reproject is not None and not 0 <= self.reproject <= MOST_PASSES) or self.batch < 1:
            raise ValueError(f"reproject must be in 0..{MOST_PASSES} and batch ≥ 1, got {self.reproject} and {self.batch}")
        self.output.validate()


@dataclass(frozen=True)
class UnpackResult:
    output: Path
    frames: int
    kept: int
    size: tuple[int, int]
    seconds: float


def _candidates(net: VideoAE, first: torch.Tensor, modes: set[int], low: torch.Tensor | None = None) -> dict[int, torch.Tensor]:
    """``{mode: frames}``: what ``first`` becomes under each of ``modes``. Frames made
    between kept ones: ``mode`` passes through ``net``. Kept frames (``low``: the small
    frames ``first`` was enlarged from): a first pass and the :func:`mode`'s count more,
    each followed by back-projection onto ``low`` when the mode says so (as
    :func:`upscale_frames` does)."""
    if low is None:
        out, x = {0: first}, first
        for k in range(1, max(modes) + 1):
            x = out[k] = net(x)
        return {m: out[m] for m in modes}
    out = {}
    for tied in {m < NO_BACK_PROJECTION for m in modes}:
        x = first
        for k in range(1 + max(m % NO_BACK_PROJECTION for m in modes if (m < NO_BACK_PROJECTION) == tied)):
            x = net(x)
            if tied:
                x = back_project(x, low)
            out[mode(k, tied)] = x
    return {m: out[m] for m in modes}


def _pick(candidates: dict[int, torch.Tensor], frames: list[int], modes: list[int], truth: Callable[[list[int]], torch.Tensor] | None) -> list[int]:
    """Per frame of ``frames``, the mode to keep: its ``modes``, or the candidate that
    comes closest to the ``truth``."""
    if truth is None:
        return [modes[i] for i in frames]
    truth = truth(frames).to(next(iter(candidates.values())).device)
    keys = list(candidates)
    errors = torch.stack([(candidates[m] - truth).pow(2).flatten(1).mean(1) for m in keys])  # (modes, N)
    return [keys[i] for i in errors.argmin(0).tolist()]


def rebuild(
    net: VideoAE,
    kept: torch.Tensor,
    indices: list[int],
    size: tuple[int, int],
    *,
    between: Engine,
    modes: list[int],
    truth: Callable[[list[int]], torch.Tensor] | None = None,
    batch: int = 8,
) -> Iterator[tuple[int, torch.Tensor, int]]:
    """``(index, frame (3, *size), mode)`` for every frame from ``indices[0]`` to
    ``indices[-1]``, in order. Kept frames ``(K, 3, h, w)`` (uint8 or float) are upscaled
    through ``net`` as their ``modes[index]`` says (passes, back-projection); the frames
    between them are made by ``between`` from their upscaled neighbours and pulled onto
    the video by ``modes[index]`` passes through ``net``.

    With ``truth`` (the sender's view: the true frames of given indices) the modes are
    chosen instead, per frame, as the one that comes closest to the truth (up to
    :data:`MOST_PASSES` passes; for kept frames with or without back-projection, which
    pulls towards a small frame's coding artifacts as well as towards its content);
    ``modes`` is then ignored."""
    device = next(net.parameters()).device
    every_kept = {mode(k, tied) for k in range(MOST_PASSES + 1) for tied in (True, False)}
    every_between = set(range(MOST_PASSES + 1))
    previous = None
    for start in range(0, len(indices), batch):
        chunk = indices[start : start + batch]
        low = kept[start : start + batch].to(device)
        low = low.float() / 255 if low.dtype == torch.uint8 else low
        with torch.no_grad():
            upscaled = _candidates(net, bicubic(low, size), every_kept if truth is not None else {modes[i] for i in chunk}, low)
        chosen = _pick(upscaled, chunk, modes, truth)
        for k, index in enumerate(chunk):
            frame = upscaled[chosen[k]][k].cpu()
            if previous is not None and index - previous[0] > 1:
                gap = index - previous[0]
                inner = list(range(previous[0] + 1, index))
                with torch.inference_mode():
                    middle = between.interpolate(previous[1][None].to(device), frame[None].to(device), [(i - previous[0]) / gap for i in inner])[0]
                    made = _candidates(net, middle, every_between if truth is not None else {modes[i] for i in inner})
                picks = _pick(made, inner, modes, truth)
                for j, i in enumerate(inner):
                    yield i, made[picks[j]][j].cpu(), picks[j]
            yield index, frame, chosen[k]
            previous = (index, frame)


def fixed_modes(count: int, indices: list[int], passes: int, *, back_project: bool) -> list[int]:
    """The same ``passes`` for every frame (kept frames with or without back-projection)."""
    kept = set(indices)
    return [mode(passes, back_project) if i in kept else passes for i in range(count)]


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
    engine = between_engine(config.between or packed.between, net, device)
    count = len(packed.times)
    if config.reproject is None and packed.modes is not None and config.between in (None, packed.between):
        modes = packed.modes
    else:  # back-projection ties a frame to its small version: to its coding artifacts too
        lossless = packed.header["kept"]["crf"] == 0
        modes = fixed_modes(count, packed.indices, MOST_PASSES if config.reproject is None else config.reproject, back_project=lossless)
    with open_writer(output, packed.timeline, options=config.output, overwrite=config.overwrite) as writer:
        for index, image, _ in rebuild(net, packed.kept, packed.indices, packed.size, between=engine, modes=modes, batch=config.batch):
            pts, duration = packed.times[index]
            writer.write(Frame(image=image, pts=pts, duration=duration, index=index))
            if progress is not None:
                progress(index + 1, count)
    return UnpackResult(output=output, frames=count, kept=len(packed.indices), size=packed.size, seconds=time.perf_counter() - started)
