"""Choosing and opening the writer for an output path.

Outputs do not exist yet, so their kind comes from the name: ``.gif``, a video suffix,
or no suffix for a folder of images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from kinema.io.atomic import is_directory_output
from kinema.io.gif import GifOptions, GifWriter
from kinema.io.images import IMAGE_SUFFIXES, ImageOptions, ImageSequenceWriter
from kinema.io.video import LOOP_TAG
from kinema.io.video_out import VIDEO_SUFFIXES, VideoOptions, VideoWriter
from kinema.types import MediaKind, UnsupportedFormatError

Writer = VideoWriter | GifWriter | ImageSequenceWriter


def output_kind(path: Path) -> MediaKind:
    """The kind the name asks for; an existing file or folder there does not change it
    (replacing checks that, see :func:`kinema.io.atomic.replace_refusal`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        return MediaKind.GIF
    if suffix in VIDEO_SUFFIXES:
        return MediaKind.VIDEO
    if is_directory_output(path):
        return MediaKind.IMAGES
    if suffix in IMAGE_SUFFIXES:
        raise UnsupportedFormatError(f"{path}: image sequences are written to a folder (e.g. {path.with_suffix('')})")
    known = ", ".join(sorted(VIDEO_SUFFIXES | {".gif"}))
    raise UnsupportedFormatError(f"{path}: unknown output format {suffix!r} (use {known}, or a folder)")


@dataclass(frozen=True)
class OutputOptions:
    """Per-format settings; only the ones for the output's kind are used."""

    video: VideoOptions = field(default_factory=VideoOptions)
    gif: GifOptions = field(default_factory=GifOptions)
    images: ImageOptions = field(default_factory=ImageOptions)

    def validate(self) -> None:
        """Refuse values that no output of any kind accepts (before any work is done)."""
        self.video.validate()
        self.gif.validate()
        self.images.validate()


@dataclass(frozen=True)
class Timeline:
    """What a writer must know of the frames to come, before it sees them."""

    time_base: Fraction
    rate: Fraction
    constant_rate: bool = True
    bit_depth: int = 8
    alpha: bool = False
    #: GIF loop count: 0 forever, -1 once, None when the source says nothing.
    loop: int | None = None


def open_writer(
    path: Path,
    timeline: Timeline,
    *,
    options: OutputOptions = OutputOptions(),
    audio_from: Path | None = None,
    overwrite: bool = False,
) -> Writer:
    """The writer for ``path``'s kind, configured to reproduce ``timeline`` exactly.

    The loop count (see :class:`MediaInfo`) travels as a video tag and in the
    image-sequence sidecar, so a GIF converted to video or frames and back keeps it; a
    GIF made from a source with no loop count loops forever.
    """
    kind = output_kind(path)
    if kind is MediaKind.GIF:
        loop = 0 if timeline.loop is None else timeline.loop
        return GifWriter(path, options=options.gif, loop=loop, overwrite=overwrite)
    if kind is MediaKind.VIDEO:
        return VideoWriter(
            path,
            options=options.video,
            time_base=timeline.time_base,
            rate=timeline.rate,
            constant_rate=timeline.constant_rate,
            source_bit_depth=timeline.bit_depth,
            alpha=timeline.alpha,
            audio_from=audio_from,
            metadata={LOOP_TAG: str(timeline.loop)} if timeline.loop is not None else None,
            overwrite=overwrite,
        )
    return ImageSequenceWriter(
        path,
        options=options.images,
        time_base=timeline.time_base,
        source_bit_depth=timeline.bit_depth,
        audio_from=audio_from,
        loop=timeline.loop,
        overwrite=overwrite,
    )
