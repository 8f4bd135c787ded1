"""GIFs made the way real encoders make them, for training and for the benchmarks.

A GIF in the wild comes from one of a handful of encoders, and each quantizes differently:

* **Pillow** — a palette per frame, median cut or octree; nearest colour or Floyd–Steinberg.
* **ffmpeg** ``palettegen``/``paletteuse`` — one palette for the whole clip
  (``stats_mode=full``) or one per frame (``stats_mode=single`` + ``new=1``); no dithering,
  ordered (Bayer) dithering or error diffusion (Sierra-2-4A, Floyd–Steinberg). From
  version 6 on it picks colours in a perceptual space (OkLab), so "nearest colour" there
  is not nearest in RGB; two versions are commonly installed (Debian's, and the one the
  ``imageio-ffmpeg`` wheel carries), and both are used when present.
* **gifsicle** — reduces an existing GIF to fewer colours (one global palette), with no
  dithering, Floyd–Steinberg or ordered dithering.

Every encoder here writes a real GIF file and kinema's own reader decodes it (disposal and
transparency as a viewer shows them), except Pillow's, whose frames are the palette
lookups themselves (what its GIF file would decode to). Each has a :class:`GifKind`
— how the pixels were mapped onto the palette — which the classifier learns to tell.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from kinema.io.gif import GifReader
from kinema.io.pixels import from_hwc, to_hwc
from kinema.models.gif2video import GifKind
from kinema.ops.color import median_cut_palette, nearest_indices, palette_of, pillow_palette, quantize_gif

#: Frame rate the encoders are told (it changes no pixel; GIF delays are centiseconds).
RATE = 10


@dataclass(frozen=True)
class PillowEncoder:
    """Pillow: a palette per frame (``octree`` False: median cut), nearest or Floyd–Steinberg."""

    octree: bool = False
    dither: bool = False

    @property
    def kind(self) -> GifKind:
        return GifKind.DIFFUSION if self.dither else GifKind.NONE

    @property
    def name(self) -> str:
        return f"Pillow {'octree' if self.octree else 'median cut'}, {'Floyd–Steinberg' if self.dither else 'no dither'}"

    def encode(self, frames: Sequence[np.ndarray], colors: int) -> list[np.ndarray]:
        out = []
        method = Image.Quantize.FASTOCTREE if self.octree else Image.Quantize.MEDIANCUT
        for rgb in frames:
            indices, palette = quantize_gif(rgb, colors, dither=self.dither, palette=pillow_palette(rgb, colors, method))
            out.append(palette[indices])
        return out


@dataclass(frozen=True)
class FfmpegEncoder:
    """ffmpeg ``palettegen`` + ``paletteuse``: ``dither`` is paletteuse's own option value."""

    binary: str
    version: str
    per_frame: bool = False
    dither: str = "none"

    @property
    def kind(self) -> GifKind:
        return {"none": GifKind.NONE, "bayer": GifKind.ORDERED}.get(self.dither, GifKind.DIFFUSION)

    @property
    def name(self) -> str:
        return f"ffmpeg {self.version}, {'palette per frame' if self.per_frame else 'global palette'}, {self.dither}"

    def encode(self, frames: Sequence[np.ndarray], colors: int) -> list[np.ndarray]:
        h, w = frames[0].shape[:2]
        stats, new = ("single", ":new=1") if self.per_frame else ("full", "")
        graph = f"split[a][b];[a]palettegen=max_colors={colors}:stats_mode={stats}[p];[b][p]paletteuse=dither={self.dither}{new}"
        with tempfile.TemporaryDirectory() as work:
            out = Path(work) / "out.gif"
            command = [self.binary, "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(RATE), "-i", "-"]
            command += ["-filter_complex", graph, str(out)]
            subprocess.run(command, input=np.ascontiguousarray(np.stack(frames)).tobytes(), check=True, capture_output=True)
            return decode(out)


@dataclass(frozen=True)
class GifsicleEncoder:
    """gifsicle ``--colors N`` on a 256-colour GIF of the frames (how it is used: it edits
    GIFs); ``dither``: None, ``floyd-steinberg`` or ``ordered``."""

    binary: str
    dither: str | None = None

    @property
    def kind(self) -> GifKind:
        return {None: GifKind.NONE, "ordered": GifKind.ORDERED}.get(self.dither, GifKind.DIFFUSION)

    @property
    def name(self) -> str:
        return f"gifsicle, {self.dither or 'no dither'}"

    def encode(self, frames: Sequence[np.ndarray], colors: int) -> list[np.ndarray]:
        with tempfile.TemporaryDirectory() as work:
            full, out = Path(work) / "in.gif", Path(work) / "out.gif"
            images = [Image.fromarray(p) for p in PillowEncoder().encode(frames, 256)]
            images[0].save(full, save_all=True, append_images=images[1:], duration=1000 // RATE, loop=0, optimize=False)
            dither = [] if self.dither is None else [f"--dither={self.dither}"]
            subprocess.run([self.binary, "--colors", str(colors), *dither, str(full), "-o", str(out)], check=True, capture_output=True)
            return decode(out)


@dataclass(frozen=True)
class BayerEncoder:
    """Ordered dithering onto a median-cut palette per frame (kinema's own, for training:
    ffmpeg's Bayer pattern is the only other ordered one a training set has, and this one
    varies the matrix size and strength)."""

    size: int = 8
    #: Threshold amplitude, as a share of the palette's typical spacing (255 / K^⅓).
    strength: float = 1.0

    @property
    def kind(self) -> GifKind:
        return GifKind.ORDERED

    @property
    def name(self) -> str:
        return f"kinema Bayer {self.size}×{self.size}, strength {self.strength:g}"

    def encode(self, frames: Sequence[np.ndarray], colors: int) -> list[np.ndarray]:
        matrix = np.zeros((1, 1))
        while matrix.shape[0] < self.size:  # the recursive Bayer construction
            m = matrix * 4
            matrix = np.block([[m, m + 2], [m + 3, m + 1]])
        thresholds = (matrix + 0.5) / matrix.size - 0.5
        out = []
        for rgb in frames:
            palette = median_cut_palette(rgb, colors)
            h, w = rgb.shape[:2]
            tiled = np.tile(thresholds, (h // self.size + 1, w // self.size + 1))[:h, :w, None]
            shifted = np.clip(rgb + tiled * self.strength * 255 / colors ** (1 / 3), 0, 255).round().astype(np.uint8)
            out.append(palette[nearest_indices(shifted, palette)])
        return out


Encoder = PillowEncoder | FfmpegEncoder | GifsicleEncoder | BayerEncoder


def decode(path: Path) -> list[np.ndarray]:
    """A GIF's frames as a viewer shows them, ``(H, W, 3)`` uint8 each (alpha dropped)."""
    return [to_hwc(frame.image[:3]) for frame in GifReader(path)]


@functools.cache
def ffmpeg_binaries() -> tuple[tuple[str, str], ...]:
    """``(path, version)`` of each distinct ffmpeg here: the one on PATH and the one the
    ``imageio-ffmpeg`` wheel carries (either may be missing)."""
    found = [shutil.which("ffmpeg")]
    try:
        import imageio_ffmpeg

        found.append(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        pass
    out: dict[str, str] = {}
    for path in filter(None, found):
        banner = subprocess.run([path, "-version"], capture_output=True, text=True, check=False).stdout
        match = re.search(r"ffmpeg version n?(\d+\.\d+)", banner)
        if match and match.group(1) not in out.values():
            out[path] = match.group(1)
    return tuple(out.items())


def ffmpeg_encoders(binary: str, version: str) -> list[FfmpegEncoder]:
    settings = [(False, d) for d in ("none", "bayer", "sierra2_4a", "floyd_steinberg")] + [(True, d) for d in ("none", "bayer", "floyd_steinberg")]
    return [FfmpegEncoder(binary, version, per_frame, dither) for per_frame, dither in settings]


def encoders(*, ffmpeg: bool = True, gifsicle: bool = True) -> list[Encoder]:
    """Every encoder this machine has, Pillow's first."""
    found: list[Encoder] = [PillowEncoder(octree, dither) for octree in (False, True) for dither in (False, True)]
    if ffmpeg:
        for binary, version in ffmpeg_binaries():
            found += ffmpeg_encoders(binary, version)
    if gifsicle and (binary := shutil.which("gifsicle")):
        found += [GifsicleEncoder(binary, d) for d in (None, "floyd-steinberg", "ordered")]
    return found


def training_encoders() -> list[Encoder]:
    """What the models train on: Pillow's, kinema's Bayer variants and every ffmpeg here.
    gifsicle is left out on purpose: the benchmark measures it as an encoder no model saw."""
    bayer: list[Encoder] = [BayerEncoder(size, strength) for size in (4, 8) for strength in (0.5, 1.0)]
    return [*encoders(gifsicle=False), *bayer]


def random_crop(g: torch.Generator, images: Sequence[np.ndarray], size: int) -> list[np.ndarray]:
    """The same random ``size``² crop (smaller images: whole) of same-sized ``(H, W, 3)``
    images, flipped left–right and up–down at random, each contiguous. Draws, in order:
    y, x, the horizontal flip, the vertical flip."""
    h, w = images[0].shape[:2]
    ch, cw = min(size, h), min(size, w)
    y, x = int(torch.randint(h - ch + 1, (), generator=g)), int(torch.randint(w - cw + 1, (), generator=g))
    out = [a[y : y + ch, x : x + cw] for a in images]
    if bool(torch.rand((), generator=g) < 0.5):
        out = [a[:, ::-1] for a in out]
    if bool(torch.rand((), generator=g) < 0.5):
        out = [a[::-1] for a in out]
    return [np.ascontiguousarray(a) for a in out]


class EncodedSet:
    """Source frames encoded as GIFs by several encoders, at several palette sizes.

    ``clips``: lists of same-sized ``(H, W, 3)`` uint8 frames (a still is a clip of one).
    Each clip is encoded whole, as encoders see a video (ffmpeg's global palette spans
    it). :meth:`sample` draws a random crop of one encoded frame and its source.
    """

    def __init__(self, clips: Sequence[Sequence[np.ndarray]], coders: Sequence[Encoder], colors: Sequence[int], *, crop: int = 128, threads: int = 2):
        if not clips or not coders:
            raise ValueError("no clips or no encoders")
        self.crop, self.colors = crop, tuple(colors)
        self.sources = [frame for clip in clips for frame in clip]
        self.coders = list(coders)

        def encode(level: int, coder: Encoder) -> list[tuple[np.ndarray, np.ndarray, int]]:
            entries, start = [], 0
            for clip in clips:
                for j, gif in enumerate(coder.encode(list(clip), level)):
                    entries.append((gif, palette_of(gif), start + j))
                start += len(clip)
            return entries

        # Threads: most of the time is spent in encoder processes and in Pillow and
        # numpy calls that release the GIL. Results are keyed, so the order is fixed.
        keys = [(level, k) for level in self.colors for k in range(len(self.coders))]
        with ThreadPoolExecutor(threads) as pool:
            done = pool.map(lambda key: encode(key[0], self.coders[key[1]]), keys)
            #: (colors, coder index) → [(gif frame, its palette, source index)]
            self.encoded = dict(zip(keys, done))

    def of_kinds(self, kinds: Sequence[GifKind]) -> KindView:
        """This set seen as a CCDNet trainer sees its data (``sample(g, dither=, colors=)``),
        drawing only GIFs of ``kinds``."""
        return KindView(self, tuple(kinds))

    def sample(self, g, *, kinds: Sequence[GifKind], colors: int | None = None):
        """``((gif (3,c,c), palette (K,3) u8, target (3,c,c)), kind)``: a crop (with flips)
        of a frame made by a random encoder of one of ``kinds``."""
        level = colors or self.colors[int(torch.randint(len(self.colors), (), generator=g))]
        choices = [k for k, c in enumerate(self.coders) if c.kind in kinds]
        coder = choices[int(torch.randint(len(choices), (), generator=g))]
        entries = self.encoded[(level, coder)]
        gif, palette, source = entries[int(torch.randint(len(entries), (), generator=g))]
        gif_crop, target_crop = (from_hwc(a)[0] for a in random_crop(g, (gif, self.sources[source]), self.crop))
        return (gif_crop, palette, target_crop), self.coders[coder].kind


@dataclass(frozen=True)
class KindView:
    """:meth:`EncodedSet.of_kinds`."""

    data: EncodedSet
    kinds: tuple[GifKind, ...]

    def sample(self, g, *, dither: bool | None = None, colors: int | None = None):
        return self.data.sample(g, kinds=self.kinds, colors=colors)[0]
