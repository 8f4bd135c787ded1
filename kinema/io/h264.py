"""Frames as a bare H.264 elementary stream in memory: the smallest container there is.

For video that travels inside another file (a ``.kvae`` holds its kept frames this way)
and for measuring what H.264 does at a given number of bytes: no MP4 boxes, no timing,
just the encoded frames in order (Annex B). The reader of the bytes keeps the timing.

* ``crf = 0`` is exactly lossless: x264's RGB encoder (``libx264rgb``) at quantizer 0,
  which also compresses better than PNG frames because it predicts across frames.
* ``crf > 0`` is lossy: ``libx264`` in 4:4:4 by default (x264 accepts odd sizes only
  without chroma subsampling, and tiny frames lose most to it), or 4:2:0 when asked —
  what an ordinary H.264 file uses, so the fair baseline at a byte budget.

Shapes: frames ``(N, 3, H, W)`` uint8 RGB.
"""

from __future__ import annotations

import io

import av
import av.error
import numpy as np
import torch

from kinema.types import BadInputError

#: x264's presets run from "ultrafast" to "placebo"; the bytes saved past "veryslow" are
#: negligible, and at the sizes sent this way (thumbnails) it costs little time.
PRESET = "veryslow"


def encode_h264(frames: torch.Tensor, *, crf: float, chroma: str = "444", preset: str = PRESET) -> bytes:
    """``(N, 3, H, W)`` uint8 → an H.264 elementary stream. ``crf`` 0–51, fractions allowed (0: lossless);
    ``chroma`` "444" or "420" (420 needs even sizes)."""
    if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[1] != 3 or len(frames) == 0:
        raise ValueError(f"frames must be a non-empty (N, 3, H, W) uint8 tensor, got {tuple(frames.shape)} {frames.dtype}")
    if not 0 <= crf <= 51:
        raise ValueError(f"crf must be in 0..51, got {crf}")
    if chroma not in ("444", "420"):
        raise ValueError(f"chroma must be '444' or '420', got {chroma!r}")
    h, w = frames.shape[-2:]
    if crf == 0:
        codec, pix_fmt, options = "libx264rgb", "rgb24", {"qp": "0"}
    else:
        if chroma == "420" and (h % 2 or w % 2):
            raise ValueError(f"4:2:0 needs an even size, got {w}x{h}")
        codec, pix_fmt, options = "libx264", f"yuv{chroma}p", {"crf": str(crf)}
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="h264") as container:
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        # One thread (PyAV's own thread count overrides x264's "threads" option).
        stream.options = {**options, "preset": preset, "threads": "1"}
        stream.thread_count = 1
        for i, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame.permute(1, 2, 0).numpy()), format="rgb24")
            if pix_fmt != "rgb24":
                picture = picture.reformat(format=pix_fmt)
            # The frame's index only: giving frames a time base too made x264 code
            # different bytes from run to run (measured), as did several threads.
            picture.pts = i
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
    return buffer.getvalue()


def decode_h264(data: bytes, *, count: int | None = None, size: tuple[int, int] | None = None) -> torch.Tensor:
    """An elementary stream → ``(N, 3, H, W)`` uint8. With ``count`` / ``size`` (h, w) given,
    a stream that does not hold that many frames of that size raises :class:`BadInputError`."""
    frames = []
    try:
        with av.open(io.BytesIO(data), format="h264") as container:
            for picture in container.decode(video=0):
                frames.append(torch.from_numpy(picture.to_ndarray(format="rgb24")).permute(2, 0, 1))
    except (av.error.FFmpegError, ValueError) as exc:
        raise BadInputError(f"unreadable H.264 stream ({exc})") from None
    if not frames or (count is not None and len(frames) != count):
        raise BadInputError(f"the H.264 stream holds {len(frames)} frames, expected {count if count is not None else 'some'}")
    out = torch.stack(frames)
    if size is not None and tuple(out.shape[-2:]) != tuple(size):
        raise BadInputError(f"the H.264 stream's frames are {out.shape[-1]}x{out.shape[-2]}, expected {size[1]}x{size[0]}")
    return out
