"""Long videos interpolated in parts that run in parallel, then joined.

Three steps, each a plain function so a process pool or a Ray cluster can run the parts:

1. :func:`plan_chunks` reads the video once (decoding and the cheap repeat test only;
   with ``CutMode.AUTO`` the transition detector reads it once more, and parts end at
   scene cuts where they can) and cuts it into parts of about ``frames`` source frames. Every cut is at a *clean
   anchor* — a frame the whole-video pass interpolates from and after which its repeat
   detector holds no history — so a part that starts there makes the same decisions the
   whole-video pass makes. Neighbouring parts share that frame: one part ends on it, the
   next starts with it.
2. :func:`render_chunk` interpolates one part, covering output times from its first frame
   up to, not including, the next part's first frame. A part of a video file is encoded
   in the output's own codec and settings (:func:`part_options`); a part of a GIF or a
   frame folder losslessly (FFV1). Parts are NUT files: exact timestamps in any time base.
3. :func:`join_chunks` puts the parts, in order, into the final output with the source's
   audio copied once. Encoded parts are joined by copying their packets
   (:mod:`kinema.io.remux`), so the join is not a second, serial encode; lossless parts,
   or parts that cannot be copied, are decoded and encoded. The joined file equals the
   unchunked result in frame count, timestamps and audio, and in every pixel when the
   codec is lossless and the engine deterministic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import torch

from kinema.engines.base import Engine
from kinema.io.atomic import check_output
from kinema.io.output import OutputOptions, open_writer, output_kind
from kinema.io.probe import open_reader
from kinema.io.remux import can_join, join_packets
from kinema.io.video import LOOP_TAG, VideoReader
from kinema.io.video_out import VideoCodec, VideoOptions
from kinema.pipelines.convert import Progress
from kinema.pipelines.anchors import anchors
from kinema.pipelines.interpolate import (
    InterpolateConfig,
    InterpolateResult,
    audio_to_copy,
    find_transitions,
    interpolate_frames,
    output_timeline,
)
from kinema.pipelines.transitions import Shots, Transition
from kinema.types import BadInputError, Frame, MediaKind

#: The parts' container: it keeps any time base exactly, whatever the codec.
PART_SUFFIX = ".nut"
#: Parts of a GIF or a frame folder: lossless RGB (re-encoded by the join).
PART_OPTIONS = OutputOptions(video=VideoOptions(codec=VideoCodec.FFV1))


@dataclass(frozen=True)
class Chunk:
    """Source frames ``first`` … ``last`` (indices, inclusive) of one part.

    A part that is not the video's last ends on the frame the next one starts with."""

    index: int
    first: int
    last: int
    final: bool
    #: The whole video's first pts: output times are counted from it.
    origin: Fraction
    #: The pts of frame ``first`` (where decoding the part starts).
    start: Fraction
    #: The drawings just outside the part, ``(index, pts)``, that four-frame motion
    #: looks at (None at the video's ends).
    before: tuple[int, Fraction] | None = None
    after: tuple[int, Fraction] | None = None
    #: The learned detector's transitions that touch the part (``CutMode.AUTO``; None:
    #: the part tests its pairs itself).
    transitions: tuple[Transition, ...] | None = None


def plan_chunks(source: Path, config: InterpolateConfig, *, frames: int) -> list[Chunk]:
    """Parts of about ``frames`` source frames each, cut at clean anchors (see the module
    doc); a video too short to cut is one part."""
    if frames < 2:
        raise ValueError(f"a part needs at least 2 frames, got {frames}")
    reader = open_reader(source, fps=config.source_fps)
    # With the learned detector, parts also end at scene cuts (once half a part long): a
    # part then needs nothing from its neighbours, and the detector's finds go with it.
    shots = find_transitions(source, config)
    if reader.info.frame_count < frames + frames // 2:
        # No cut can leave a tail of half a part: one part, and no pass over the video.
        first = next(iter(reader), None)
        if first is None:
            raise BadInputError(f"{source}: no frames to interpolate")
        return [Chunk(0, 0, reader.info.frame_count - 1, True, first.pts, first.pts, transitions=None if shots is None else tuple(shots.transitions))]
    scene_cuts = {t.first for t in shots.transitions if not t.gradual} if shots is not None else set()
    cuts, starts, origin, count = [0], [], None, 0

    def counted() -> Iterator[Frame]:
        nonlocal origin, count
        for frame in reader:
            origin = frame.pts if origin is None else origin
            count += 1
            yield frame

    drawn: list[tuple[int, Fraction]] = []  # every anchor, for the parts' neighbours
    for frame, clean in anchors(counted(), config.max_repeats):
        drawn.append((frame.index, frame.pts))
        length = frame.index - cuts[-1]
        if clean and (length >= frames or (frame.index in scene_cuts and length >= frames // 2)):
            cuts.append(frame.index)
            starts.append(frame.pts)
    if count == 0:
        raise BadInputError(f"{source}: no frames to interpolate")
    # A tail shorter than half a part joins the part before it.
    if len(cuts) > 1 and count - cuts[-1] < frames // 2:
        cuts.pop()
        starts.pop()
    ends = cuts[1:] + [count - 1]
    starts = [origin, *starts]
    position = {index: k for k, (index, _) in enumerate(drawn)}

    def beside(index: int, step: int) -> tuple[int, Fraction] | None:
        k = position[index] + step
        return drawn[k] if 0 <= k < len(drawn) else None

    chunks = []
    for i, (first, last, start) in enumerate(zip(cuts, ends, starts)):
        final = i == len(cuts) - 1
        found = None if shots is None else tuple(t for t in shots.transitions if t.last + 1 >= first and t.first - 1 <= last)
        chunks.append(Chunk(i, first, last, final, origin, start, beside(first, -1) if i else None, None if final else beside(last, 1), found))
    return chunks


def _frame_at(reader, where: tuple[int, Fraction] | None) -> Frame | None:
    """Source frame ``index`` (at ``pts``), decoded from the keyframe before it."""
    if where is None:
        return None
    index, pts = where
    stream = reader.frames_from(pts, index=index) if isinstance(reader, VideoReader) else iter(reader)
    with contextlib.closing(stream):  # the file is closed now, not when the generator is collected
        return next(f for f in stream if f.index == index)


def _frames(reader, chunk: Chunk) -> Iterator[Frame]:
    if isinstance(reader, VideoReader) and chunk.first > 0:
        stream = reader.frames_from(chunk.start, index=chunk.first)  # from the keyframe before it
    else:  # GIFs and image sequences: reading past frames is cheap
        stream = (f for f in reader if f.index >= chunk.first)
    return itertools.takewhile(lambda f: f.index <= chunk.last, stream)


def part_options(config: InterpolateConfig, output: Path) -> OutputOptions:
    """How the parts of ``output`` are encoded: in the output's own codec and settings
    when it is a video file (so the join copies packets: no second encode; H.264 without
    B-frames, whose reordered decoding times would clash at the seams), else losslessly
    (the join re-encodes them as a GIF or PNG frames)."""
    if output_kind(output) is not MediaKind.VIDEO:
        return PART_OPTIONS
    return dataclasses.replace(config.output, video=dataclasses.replace(config.output.video, b_frames=False))


def render_chunk(
    source: Path,
    chunk: Chunk,
    part: Path,
    config: InterpolateConfig,
    *,
    options: OutputOptions = PART_OPTIONS,
    engine: Engine,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> InterpolateResult:
    """Interpolate one part of ``source`` into ``part`` (``.nut``), encoded with ``options``
    (see :func:`part_options`)."""
    source, part = Path(source), Path(part)
    if part.suffix != PART_SUFFIX:
        raise ValueError(f"a part is written as {PART_SUFFIX}, got {part}")
    reader = open_reader(source, fps=config.source_fps)
    part_config = dataclasses.replace(config, output=options, overwrite=True)
    before, after = _frame_at(reader, chunk.before), _frame_at(reader, chunk.after)
    return interpolate_frames(
        _frames(reader, chunk), reader.info, part, part_config, engine=engine, device=device,
        progress=progress, origin=chunk.origin, finish=chunk.final, before=before, after=after,
        transitions=None if chunk.transitions is None else Shots(chunk.transitions),
    )  # fmt: skip


@dataclass(frozen=True)
class JoinResult:
    output: Path
    frames: int
    audio_copied: bool
    #: The parts' packets were copied (no second encode).
    copied: bool
    seconds: float


def join_chunks(source: Path, parts: Sequence[Path], output: Path, config: InterpolateConfig) -> JoinResult:
    """Stream ``parts`` (in order) into ``output`` with the source's audio; the output
    appears only when complete."""
    source, output = Path(source), Path(output)
    started = time.perf_counter()
    kind = output_kind(output)
    check_output(output, overwrite=config.overwrite, inputs=(source, *parts))
    info = open_reader(source, fps=config.source_fps).info
    audio = audio_to_copy(config, info, kind)
    timeline = output_timeline(config, info)
    if kind is MediaKind.VIDEO and can_join(parts):
        metadata = {LOOP_TAG: str(timeline.loop)} if timeline.loop is not None else None
        count = join_packets(parts, output, time_base=timeline.time_base, metadata=metadata, audio_from=audio, overwrite=config.overwrite)
        return JoinResult(output, count, audio is not None, True, time.perf_counter() - started)
    # Parts that cannot be copied (lossless parts of a GIF, say) are decoded and encoded.
    writer = open_writer(output, timeline, options=config.output, audio_from=audio, overwrite=config.overwrite)
    count = 0
    with writer:
        for part in parts:
            for frame in open_reader(part):
                writer.write(frame.replace(index=count))
                count += 1
    return JoinResult(output, count, audio is not None, False, time.perf_counter() - started)


def interpolate_chunked(
    source: Path,
    output: Path,
    config: InterpolateConfig,
    *,
    engine: Engine,
    frames: int,
    workdir: Path,
    device: torch.device | str = "cpu",
) -> JoinResult:
    """The three steps in one process, one part after another (the batch runner spreads
    the parts over its workers instead); parts go to ``workdir``."""
    check_output(Path(output), overwrite=config.overwrite, inputs=(Path(source),))
    parts, options = [], part_options(config, Path(output))
    for chunk in plan_chunks(source, config, frames=frames):
        part = Path(workdir) / f"part-{chunk.index:05d}{PART_SUFFIX}"
        render_chunk(source, chunk, part, config, options=options, engine=engine, device=device)
        parts.append(part)
    return join_chunks(source, parts, output, config)
