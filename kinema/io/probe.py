"""What kind of media an input is, its description, and a reader for it.

Inputs are recognized by content, not name: a GIF by its signature, a folder or glob
pattern as an image sequence, anything else is handed to FFmpeg.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from kinema.io.gif import GifReader, probe_gif
from kinema.io.images import ImageSequenceReader, is_pattern, probe_images
from kinema.io.video import VideoReader, probe_video
from kinema.types import BadInputError, MediaInfo, MediaKind

Reader = VideoReader | GifReader | ImageSequenceReader


def input_kind(path: Path) -> MediaKind:
    path = Path(path)
    if is_pattern(path) or path.is_dir():
        return MediaKind.IMAGES
    if not path.exists():
        raise BadInputError(f"{path}: no such file")
    with path.open("rb") as fh:
        head = fh.read(6)
    if head in (b"GIF87a", b"GIF89a"):
        return MediaKind.GIF
    return MediaKind.VIDEO


def probe(path: Path, *, fps: Fraction | None = None) -> MediaInfo:
    """Describe any supported input. ``fps`` times an image sequence without a sidecar."""
    kind = input_kind(path)
    if kind is MediaKind.IMAGES:
        return probe_images(Path(path), fps=fps)
    if kind is MediaKind.GIF:
        return probe_gif(Path(path))
    return probe_video(Path(path))


def open_reader(path: Path, *, fps: Fraction | None = None, info: MediaInfo | None = None) -> Reader:
    """A lazy frame iterator with ``.info`` for any supported input; ``info``: what
    :func:`probe` already said of it (a video's probe demuxes the whole file)."""
    info = info if info is not None else probe(path, fps=fps)
    if info.kind is MediaKind.IMAGES:
        return ImageSequenceReader(Path(path), info=info)
    if info.kind is MediaKind.GIF:
        return GifReader(Path(path), info=info)
    return VideoReader(Path(path), info=info)
