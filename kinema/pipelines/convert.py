"""``convert``: any supported input to any supported output, keeping timing and audio.

It is the I/O stack end to end with no processing in between, so it doubles as the
proof that reading and writing keep frames, timestamps, loop counts and audio.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from kinema.io.atomic import check_output
from kinema.io.output import OutputOptions, Timeline, open_writer, output_kind
from kinema.io.probe import open_reader
from kinema.types import Frame, MediaInfo, MediaKind

#: ``progress(done, total)``: called after every frame; total may be None when unknown.
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class ConvertConfig:
    output: OutputOptions = field(default_factory=OutputOptions)
    #: Frame rate for an image-sequence input that has no timing sidecar.
    fps: Fraction | None = None
    #: Copy the source's audio (unchanged) when the output can hold it.
    audio: bool = True
    #: GIF loop count for the output (0 forever, -1 once); None keeps the source's.
    loop: int | None = None
    overwrite: bool = False

    def __post_init__(self):
        if self.loop is not None and self.loop < -1:
            raise ValueError(f"loop must be -1 (once), 0 (forever) or a number of repeats, got {self.loop}")
        self.output.validate()


@dataclass(frozen=True)
class ConvertResult:
    source: MediaInfo
    output: Path
    frames: int
    audio_copied: bool
    seconds: float


def audio_source(info: MediaInfo) -> Path | None:
    """The file holding ``info``'s audio: the video itself, or a sequence's sidecar."""
    if info.kind is MediaKind.VIDEO and info.audio is not None:
        return info.path
    if "audio_file" in info.extra:
        return Path(info.extra["audio_file"])
    return None


def timeline_of(info: MediaInfo, *, loop: int | None = None) -> Timeline:
    return Timeline(
        time_base=info.time_base,
        rate=info.fps or info.average_fps,
        constant_rate=not info.vfr,
        bit_depth=info.bit_depth,
        alpha=info.has_alpha,
        loop=info.loop if loop is None else loop,
    )


def convert(
    source: Path,
    output: Path,
    config: ConvertConfig = ConvertConfig(),
    *,
    progress: Progress | None = None,
    transform: Callable[[Iterable[Frame]], Iterable[Frame]] | None = None,
) -> ConvertResult:
    """Convert ``source`` to ``output``; the output appears only when complete.
    ``transform`` (one frame out per frame in, timing kept) changes the frames on the way
    (``kinema deblur`` restores them).

    Raises :class:`kinema.types.KinemaError` subclasses for bad input or options.
    """
    source, output = Path(source), Path(output)
    kind = output_kind(output)  # refuse an unknown output format before reading anything
    check_output(output, overwrite=config.overwrite, inputs=(source,))
    started = time.perf_counter()
    reader = open_reader(source, fps=config.fps)
    info = reader.info
    audio = audio_source(info) if config.audio and kind is not MediaKind.GIF else None
    writer = open_writer(
        output, timeline_of(info, loop=config.loop), options=config.output, audio_from=audio, overwrite=config.overwrite
    )
    count = 0
    with writer:
        for frame in reader if transform is None else transform(reader):
            writer.write(frame)
            count += 1
            if progress is not None:
                progress(count, info.frame_count)
    return ConvertResult(
        source=info, output=output, frames=count, audio_copied=audio is not None, seconds=time.perf_counter() - started
    )
