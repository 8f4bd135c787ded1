"""Tiny synthetic media made in code, so no test needs ../shared/data."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import torch
from PIL import Image


def pattern(index: int, height: int, width: int, channels: int = 3, *, dtype=np.uint8) -> np.ndarray:
    """A deterministic, textured, per-frame-distinct image ``(H, W, C)``."""
    rng = np.random.default_rng(1000 + index)
    peak = 255 if dtype == np.uint8 else 65535
    noise = rng.integers(0, peak + 1, size=(height, width, channels), dtype=np.int64)
    return noise.astype(dtype)


def texture(height: int, width: int, *, seed: int = 0, cell: int = 6) -> torch.Tensor:
    """A smooth random texture ``(1, 3, height, width)`` in [0, 1]: band-limited (features
    about ``cell`` pixels wide), so optical flow can track it and sub-pixel shifts are well
    defined, unlike white noise."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, height // cell + 2, width // cell + 2, generator=g)
    return torch.nn.functional.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False).clamp(0, 1)


def smooth(index: int, height: int, width: int) -> np.ndarray:
    """A smooth moving gradient (survives lossy coding well) ``(H, W, 3)`` uint8."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 127 + 100 * np.sin((x + 3 * index) / 7.0)
    g = 127 + 100 * np.cos((y - 2 * index) / 5.0)
    b = np.full_like(x, (40 * index) % 256)
    return np.stack([r, g, b], axis=-1).clip(0, 255).astype(np.uint8)


#: Frames per turn of :func:`orbit`.
PERIOD = 8


def orbit_square(i: int, h: int = 48, w: int = 64) -> torch.Tensor:
    """Where :func:`orbit` draws its square in frame ``i``: ``(h, w)`` int64, 1 on it."""
    y, x = np.mgrid[0:h, 0:w]
    angle = 2 * math.pi * i / PERIOD
    cy, cx = h / 2 + 12 * math.sin(angle), w / 2 + 16 * math.cos(angle)
    return torch.from_numpy((abs(y - cy) < 7) & (abs(x - cx) < 7)).long()


def orbit(i: int, h: int = 48, w: int = 64) -> np.ndarray:
    """A bright square circling on a gradient, one turn every PERIOD frames."""
    y, x = np.mgrid[0:h, 0:w]
    image = np.stack([x * 4, y * 5, np.full_like(x, 90)], -1).astype(np.float32)
    image[orbit_square(i, h, w).bool().numpy()] = (250, 240, 40)
    return image.clip(0, 255).astype(np.uint8)


def make_video(
    path: Path,
    frames: int = 10,
    *,
    size: tuple[int, int] = (48, 64),
    pts: list[int] | None = None,
    time_base: Fraction = Fraction(1, 25),
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    in_format: str = "rgb24",
    audio: bool = False,
    rotation: int | None = None,
    images: list[np.ndarray] | None = None,
    options: dict | None = None,
) -> Path:
    """Encode ``frames`` frames at timestamps ``pts`` (ticks of ``time_base``; default 0,1,2…).

    ``audio`` adds a 440 Hz AAC track as long as the video. Returns ``path``.
    """
    height, width = size
    pts = list(range(frames)) if pts is None else pts
    with av.open(str(path), "w", options=options or {}) as out:
        stream = out.add_stream(codec, rate=max(1, round(1 / time_base)))
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if codec == "libx264":
            stream.codec_context.max_b_frames = 0 if len(set(np.diff(pts))) > 1 else 2
        if rotation is not None:
            stream.set_display_rotation(rotation)
        a_stream = out.add_stream("aac", rate=44100) if audio else None
        if a_stream is not None:
            a_stream.layout = "stereo"
        for i, t in enumerate(pts):
            array = images[i] if images is not None else smooth(i, height, width)
            frame = av.VideoFrame.from_ndarray(array, format=in_format)
            frame.pts, frame.time_base = t, time_base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
        if a_stream is not None:
            seconds = float((pts[-1] + 1) * time_base) if pts else 0.0
            total = int(44100 * seconds)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(total) / 44100)).astype(np.float32)
            for k in range(0, total, 1024):
                chunk = np.ascontiguousarray(np.stack([tone[k : k + 1024]] * 2))
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                af.sample_rate, af.pts, af.time_base = 44100, k, Fraction(1, 44100)
                for packet in a_stream.encode(af):
                    out.mux(packet)
            for packet in a_stream.encode(None):
                out.mux(packet)
    return path


def make_zero_frame_video(path: Path) -> Path:
    """An MP4 whose H.264 track holds no frames at all."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        out.start_encoding()
    return path


def make_gif(
    path: Path,
    durations_ms: list[int],
    *,
    size: tuple[int, int] = (24, 32),
    loop: int | None = 0,
    transparent: bool = False,
) -> Path:
    """A paletted GIF with the given per-frame delays; ``transparent`` clears a corner."""
    height, width = size
    frames = []
    for i in range(len(durations_ms)):
        im = Image.fromarray(smooth(i, height, width)).quantize(colors=63, dither=Image.Dither.NONE)
        if transparent:
            pixels = np.array(im)
            pixels[: height // 2, : width // 2] = 63
            palette = im.getpalette()[: 63 * 3] + [0, 0, 0]
            im = Image.fromarray(pixels, "P")
            im.putpalette(palette)
        frames.append(im)
    extra = {"loop": loop} if loop is not None else {}
    if transparent:
        extra.update(transparency=63, disposal=2)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations_ms, optimize=False, **extra)
    return path


def make_png_sequence(folder: Path, frames: int = 5, *, size=(20, 30), bit_depth: int = 8, channels: int = 3) -> Path:
    """``folder/img_1.png`` … (deliberately unpadded numbers, to need natural sort)."""
    folder.mkdir(parents=True, exist_ok=True)
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    for i in range(frames):
        array = pattern(i, *size, channels, dtype=dtype)
        bgr = array if channels == 1 else cv2.cvtColor(array, cv2.COLOR_RGBA2BGRA if channels == 4 else cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(folder / f"img_{i + 1}.png"), bgr)
    return folder


def audio_packets(path: Path) -> tuple[list[bytes], list[Fraction]]:
    """The payload and start time (seconds) of every packet of the first audio stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        tb = Fraction(stream.time_base)
        payloads, times = [], []
        for packet in container.demux(stream):
            if packet.size:
                payloads.append(bytes(packet))
                times.append(packet.pts * tb)
    return payloads, times
