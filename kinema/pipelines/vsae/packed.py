"""What a ``.kvae`` file holds (:mod:`kinema.io.kvae_file` is the container): the header,
the weights as sent, the kept frames, and reading all of it back with every field checked.

Written by :func:`kinema.pipelines.vsae.transmit.pack`; read by :func:`read_packed` for
:func:`kinema.pipelines.vsae.transmit.unpack`.
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from kinema import __version__
from kinema.io.h264 import decode_h264
from kinema.io.kvae_file import read_kvae
from kinema.io.output import Timeline
from kinema.models.checkpoint import tensor_digest
from kinema.models.video_ae import ARCH, VideoAE, VideoAEConfig
from kinema.ops.quantize import dequantize_state, quantize_state
from kinema.pipelines.vsae.fit import Footage, VideoModel
from kinema.types import BadInputError, ModelMismatchError

#: The most reprojections a pack chooses for one frame (the paper's n = 5).
MOST_PASSES = 5
#: A frame's rebuild mode is one character of the header: for a frame made between kept
#: ones, its pass count (``0`` … ``5``); for a kept frame, its pass count after the first,
#: plus NO_BACK_PROJECTION when the passes are not tied back to the small frame.
NO_BACK_PROJECTION = MOST_PASSES + 1
_MODE_CHARACTERS = "0123456789ab"


def mode(passes: int, back_project: bool) -> int:
    """A kept frame's mode: ``passes`` after the first, with or without back-projection."""
    return passes if back_project else passes + NO_BACK_PROJECTION


def modes_text(modes: list[int]) -> str:
    return "".join(_MODE_CHARACTERS[m] for m in modes)


#: What a ``.kvae`` file's header says it holds.
CONTENT = "kinema.vsae.packed-video"
#: More frames than a header may declare (a day at 100 fps): a damaged or hostile count
#: is refused before any list of that length is made.
MAX_FRAMES = 8_640_000
#: The largest frame side a header may declare (a model draws at its fit size: never near it).
MAX_SIDE = 16384


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


def weights_blob(state: dict[str, torch.Tensor], bits: int, transposed: set[str]) -> bytes:
    """Weights as sent: quantized (:func:`quantize_state`), safetensors, then zlib (which
    takes about a tenth off either precision: exponents and high bytes repeat)."""
    return zlib.compress(save_tensors(quantize_state(state, bits=bits, transposed=transposed)), 9)


def net_from_blob(config: VideoAEConfig, blob: bytes) -> VideoAE:
    """The network a receiver builds from :func:`weights_blob`'s bytes (in eval mode)."""
    net = VideoAE(config)
    net.load_state_dict(dequantize_state(load_tensors(zlib.decompress(blob)), transposed=transposed_weights(net)))
    return net.eval()


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


def make_header(vm: VideoModel, footage: Footage, state: dict[str, torch.Tensor], *, bits: int | None, every: int, scale: int, small: tuple[int, int], crf: float, between: Between, modes: str | None) -> dict:
    """The header of a ``.kvae`` file (:func:`read_packed` reads it): what the model is,
    the video's frame count, size and timing, how the kept frames were made, and how the
    receiver is to rebuild the rest. ``bits`` None: the weights are not in the file."""
    info = footage.info
    return {
        "content": CONTENT,
        "kinema": __version__,
        "model": {
            "arch": ARCH,
            "config": vm.net.config.as_dict(),
            "digest": tensor_digest(state),
            "bits": bits,
            # What the model file says it was fit on, not how (the fit's settings are
            # a sizeable share of a stream-only file).
            "meta": {key: vm.meta[key] for key in ("source", "size", "psnr") if key in vm.meta},
        },
        "video": {
            "frames": len(footage.frames),
            "size": list(footage.size),
            "rate": _frac(info.fps or info.average_fps),
            "time_base": _frac(info.time_base),
            "constant_rate": not info.vfr,
            "loop": info.loop,
            **_timing(footage.times),
        },
        "kept": {"every": every, "scale": scale, "size": list(small), "crf": crf},
        "rebuild": {"between": between.value, "modes": modes},
    }


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
    between: Between
    #: Each frame's rebuild mode (:func:`mode`), as the sender chose them (None: not chosen).
    modes: list[int] | None
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
        if not (0 < count <= MAX_FRAMES and 0 < every):  # one in more than count: the first and last
            raise ValueError(f"{count} frames, one kept in {every}")
        if not (all(0 < n <= MAX_SIDE for n in size) and all(0 < a <= b for a, b in zip(small, size))):
            raise ValueError(f"frames of {size[1]}x{size[0]} from kept frames of {small[1]}x{small[0]}")
        indices = kept_indices(count, every)
        times = _times(video, count)
        rate = Fraction(video["rate"])
        timeline = Timeline(time_base=Fraction(video["time_base"]), rate=rate, constant_rate=bool(video["constant_rate"]), loop=video["loop"])
        config = VideoAEConfig.from_dict(model["config"])
        between = Between(header["rebuild"]["between"])
        modes = header["rebuild"]["modes"]
        if modes is not None:
            modes = [_MODE_CHARACTERS.index(c) for c in modes]  # ValueError for a foreign one
            kept_set = set(indices)
            if len(modes) != count or any(m > MOST_PASSES for i, m in enumerate(modes) if i not in kept_set):
                raise ValueError(f"{len(modes)} rebuild modes for {count} frames")
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise BadInputError(f"{path}: unreadable .kvae header ({exc})") from None
    if model.get("arch") != ARCH:
        raise ModelMismatchError(f"{path}: holds a model of another kind ({model.get('arch')!r})")
    frames = decode_h264(sections.get("frames", b""), count=len(indices), size=small)
    net = None
    if "weights" in sections:
        try:
            net = net_from_blob(config, sections["weights"]).to(device)
        except (SafetensorError, RuntimeError, ValueError, zlib.error) as exc:
            raise BadInputError(f"{path}: unreadable weights ({exc})") from None
    return Packed(net=net, kept=frames, indices=indices, size=size, times=times, timeline=timeline, between=between, modes=modes, header=header, bytes=contents.size)
