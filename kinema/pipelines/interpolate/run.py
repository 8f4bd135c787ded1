"""The one-pass runner of ``interpolate``: a source streamed once through repeat and
scene-cut tests and an engine into the output (see the package docstring)."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from kinema.engines.base import Engine
from kinema.io.atomic import check_output
from kinema.io.output import open_writer, output_kind
from kinema.io.probe import open_reader
from kinema.ops.memo import TensorMemo
from kinema.ops.scenes import is_cut
from kinema.pipelines.anchors import Thumbnails, anchors
from kinema.pipelines.convert import Progress
from kinema.pipelines.deblur import deblurrer_for, restored
from kinema.pipelines.interpolate.config import (
    InterpolateConfig,
    InterpolateResult,
    audio_to_copy,
    expected_frames,
    output_duration,
    output_timeline,
    schedule_for,
)
from kinema.pipelines.retime import Slot
from kinema.pipelines.stages import BackgroundWriter, Prefetch, StageClock
from kinema.types import BadInputError, CutMode, Frame, KinemaError, MediaInfo

if TYPE_CHECKING:
    from kinema.pipelines.transitions import Shots


@dataclass
class _Counts:
    frames_in: int = 0
    frames_out: int = 0
    interpolated: int = 0
    cuts: int = 0
    blended: int = 0
    repeats: int = 0
    end: Fraction = Fraction(0)


def interpolate_video(
    source: Path,
    output: Path,
    config: InterpolateConfig,
    *,
    engine: Engine,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> InterpolateResult:
    """Retime ``source`` into ``output`` with ``engine``; the output appears only when complete.
    With ``config.deblur`` the source frames are restored first
    (:mod:`kinema.pipelines.deblur`): every later step sees sharp frames.

    Raises :class:`kinema.types.KinemaError` subclasses for bad input or options.
    """
    source, output = Path(source), Path(output)
    kind = output_kind(output)
    check_output(output, overwrite=config.overwrite, inputs=(source,))
    reader = open_reader(source, fps=config.source_fps)
    audio = audio_to_copy(config, reader.info, kind)
    found = find_transitions(source, config, device=device)
    deblurrer, check = deblurrer_for(source, config.deblur, weights=config.deblur_weights, fps=config.source_fps, device=device)
    result = interpolate_frames(
        restored(reader, deblurrer), reader.info, output, config, engine=engine, device=device, progress=progress, audio=audio, transitions=found
    )
    return dataclasses.replace(result, deblurred=deblurrer is not None, blur_check=check)


def find_transitions(source: Path, config: InterpolateConfig, *, device: torch.device | str = "cpu") -> Shots | None:
    """The learned detector's pass over ``source`` when ``config`` asks for it (else None)."""
    if config.scene_cuts is not CutMode.AUTO:
        return None
    from kinema.pipelines.transitions import Shots, detect

    return Shots(detect(open_reader(source, fps=config.source_fps), device=device))


def interpolate_frames(
    frames: Iterable[Frame],
    info: MediaInfo,
    output: Path,
    config: InterpolateConfig,
    *,
    engine: Engine,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
    audio: Path | None = None,
    wrap: bool = False,
    origin: Fraction | None = None,
    finish: bool = True,
    before: Frame | None = None,
    after: Frame | None = None,
    transitions: Shots | None = None,
) -> InterpolateResult:
    """Retime a stream of ``frames`` described by ``info`` (any source: a reader, restored
    GIF frames…) into ``output``; ``audio`` is a file whose audio is copied.

    ``wrap``: the clip loops, so the time after the last frame leads back into the first
    one and is interpolated towards it (seamless loops) instead of holding the last frame.

    A part of a longer video (:mod:`kinema.pipelines.chunked`): ``origin`` is the whole
    video's first pts (a constant output rate counts its frames from there, and slow
    motion stretches time around it); ``finish=False`` stops at the last frame given,
    which the next part starts with, instead of filling the time after it; ``before`` and
    ``after`` are the drawings just outside the part, which four-frame motion looks at.

    ``transitions`` (frame indices of this stream's source, from
    :func:`find_transitions`) replace the pair-by-pair cut test: no in-between across a
    cut (and cross-fades inside a fade or dissolve with ``config.blend_gradual``).
    Without them ``CutMode.AUTO`` falls back to the quick test (a stream has no file to
    read first).
    """
    output = Path(output)
    started = time.perf_counter()
    slowmo = config.slowmo or 1
    schedule = schedule_for(config, origin)
    counts = _Counts()
    total = expected_frames(config, info)
    if total is not None and total > config.max_frames:
        raise KinemaError(_too_many(total, config.max_frames, known=True))
    start: Fraction | None = origin

    clock = StageClock()

    def fed(frames: Iterable[Frame]) -> Iterator[Frame]:
        nonlocal start
        frames = iter(frames)
        while True:
            with clock("decode"):
                frame = next(frames, None)
                if frame is None:
                    return
                frame.image  # noqa: B018 — floats made here, so decoding is timed as decoding
            if start is None:
                start = frame.pts
            schedule.feed(frame.pts, frame.duration)
            counts.frames_in += 1
            counts.end = max(counts.end, frame.end)
            yield frame

    writer = open_writer(output, output_timeline(config, info), options=config.output, audio_from=audio, overwrite=config.overwrite)
    try:  # from here on an interruption removes the temporary the writer has made
        thumbs = Thumbnails(clock=clock)
        if config.concurrent:
            depth = _stage_depth(info)
            writer = BackgroundWriter(writer, depth=depth)
            frames = Prefetch(frames, prepare=_to_float, depth=depth)
    except BaseException:
        writer.abort()
        raise

    def emit(slot: Slot, image: torch.Tensor | Frame, alpha: torch.Tensor | None = None) -> None:
        """Write ``image`` (a new one, or a source frame shown again) at ``slot``."""
        pts, duration = slot
        if slowmo > 1:  # stretch time around the first frame
            pts, duration = start + (pts - start) * slowmo, duration * slowmo
        if counts.frames_out >= config.max_frames:
            raise KinemaError(_too_many(counts.frames_out, config.max_frames, known=False))
        if isinstance(image, Frame):  # its stored samples are written as they are
            frame = image.replace(pts=pts, duration=duration, index=counts.frames_out)
        else:
            alpha = None if alpha is None else alpha.to("cpu", torch.float32)
            frame = Frame(image=image.to("cpu", torch.float32), pts=pts, duration=duration, alpha=alpha, index=counts.frames_out)
        with clock("encode"):
            writer.write(frame)
        counts.frames_out += 1
        if progress is not None:
            progress(counts.frames_out, total)

    decided: list[tuple[Frame, Frame, bool]] = []  # the last few cut tests, newest last

    def cut_between(x: Frame, y: Frame) -> bool:
        """The cut test, once per pair of drawings (a pair is also a neighbour of the next)."""
        for p, q, known in decided:
            if p is x and q is y:
                return known
        if transitions is not None:
            known = transitions.splits(x.index, y.index)
        elif config.scene_cuts is CutMode.OFF:
            known = False
        else:
            small_x, small_y = thumbs(x), thumbs(y)
            with clock("tests"):
                known = bool(is_cut(small_x, small_y)[0])
        decided[:] = [*decided[-5:], (x, y, known)]
        return known

    # Each frame is moved to the engine's device once: a frame is in two pairs and in
    # look-aheads, and the engine's memos find its motion by the tensor it was given.
    placed: TensorMemo[torch.Tensor] = TensorMemo(6)

    def window(before: Frame | None, a: Frame, b: Frame, after: Frame | None) -> dict:
        """What the engine is given: the pair, and the neighbours that share its shot."""
        if before is not None and cut_between(before, a):
            before = None
        if after is not None and cut_between(b, after):
            after = None
        tensors = {"a": a, "b": b, "before": before, "after": after}
        return {k: None if f is None else placed.get(lambda x: x[None].to(device), f.image) for k, f in tensors.items()}

    def look_ahead(before: Frame | None, a: Frame, b: Frame, after: Frame | None) -> None:
        """Tell the engine the window it will be given next, unless the pair is not
        interpolated (a cut or a blend), so its motion overlaps the current pair's work."""
        if cut_between(a, b) or (config.blend_gradual and transitions is not None and transitions.blends(a.index, b.index)):
            return
        inputs = window(before, a, b, after)
        engine.lookahead(inputs["a"], inputs["b"], before=inputs["before"], after=inputs["after"])

    def render(a: Frame, b: Frame | None, slots: Iterator[Slot], before: Frame | None = None, after: Frame | None = None) -> None:
        """Write the frames of ``slots`` between ``a`` and ``b``, ``config.batch``
        in-between times per engine call; memory stays bounded however many there are."""
        pending: list[tuple[Slot, float]] = []
        cut: bool | None = None  # decided at the first in-between time
        inputs: dict | None = None
        blend = config.blend_gradual and b is not None and transitions is not None and transitions.blends(a.index, b.index)

        def flush() -> None:
            nonlocal inputs
            moving = [i for i, (_, t) in enumerate(pending) if t > 0 and not cut]
            frames: dict[int, torch.Tensor] = {}
            if moving and blend:
                # Inside a fade or dissolve the picture itself is a blend in time.
                frames.update((i, torch.lerp(a.image, b.image, pending[i][1])) for i in moving)
                counts.blended += len(moving)
            elif moving:
                inputs = inputs or window(before, a, b, after)
                with torch.inference_mode(), clock("engine"):
                    out = engine.interpolate_window(
                        inputs["a"], inputs["b"], [pending[i][1] for i in moving], before=inputs["before"], after=inputs["after"]
                    )[0]
                frames.update(zip(moving, out))
                counts.interpolated += len(moving)
            for i, (slot, t) in enumerate(pending):
                if i not in frames:
                    emit(slot, a)
                    continue
                alpha = a.alpha
                if a.alpha is not None and b.alpha is not None:
                    # Alpha is cross-faded, not motion-compensated (the engines see RGB only).
                    alpha = torch.lerp(a.alpha, b.alpha, t)
                emit(slot, frames[i], alpha)
            pending.clear()

        waiting = 0  # in-between times in ``pending``
        for slot in slots:
            t = float((slot[0] - a.pts) / (b.pts - a.pts)) if b is not None else 0.0
            if t > 0 and cut is None:
                cut = cut_between(a, b)
                counts.cuts += cut
            pending.append((slot, t))
            waiting += t > 0 and not cut
            if waiting == config.batch:
                flush()
                waiting = 0
        flush()

    with contextlib.closing(frames) if isinstance(frames, Prefetch) else contextlib.nullcontext():
        try:
            drawings = (frame for frame, _ in anchors(fed(frames), config.max_repeats, counts, thumbs))
            a = first = next(drawings, None)
            if a is None:
                raise BadInputError(f"{info.path}: no frames to interpolate")
            previous, b = before, next(drawings, None)
            second = b  # where a loop goes on after its first frame
            # After the last drawing: the next part's first, or in a loop the first frame again.
            beyond = first if wrap and finish else after
            following = None if b is None else next(drawings, None)  # four-frame motion looks one drawing ahead
            while b is not None:
                # One more is read so that the next window's motion can start now.
                further = None if following is None else next(drawings, None)
                if config.concurrent and following is not None:
                    look_ahead(a, b, following, further if further is not None else beyond)
                render(a, b, schedule.take(b.pts), previous, following if following is not None else beyond)
                previous, a, b, following = a, b, following, further
            if finish:
                # Looping: the last interval ends where the loop restarts, on the first frame,
                # and the motion beyond it is the loop's own first interval.
                loop_end = first.replace(pts=counts.end) if wrap and a is not first else None
                render(a, loop_end, schedule.finish(counts.end), previous, second if loop_end is not None and second is not a else None)
        except BaseException:
            writer.abort()  # nothing appears
            raise
        with clock("encode"):  # the encoder's delayed frames are encoded on close
            writer.close()
    duration_in = counts.end - (start or 0)
    return InterpolateResult(
        source=info,
        output=output,
        frames_in=counts.frames_in,
        frames_out=counts.frames_out,
        interpolated=counts.interpolated,
        cuts=counts.cuts,
        blended=counts.blended,
        repeats=counts.repeats,
        duration_in=duration_in,
        duration_out=output_duration(config, duration_in, counts.frames_out),
        audio_copied=audio is not None,
        seconds=time.perf_counter() - started,
        stages=dict(clock.seconds),
    )


#: What each concurrent stage may hold in frames waiting, as float32 RGB.
STAGE_BYTES = 256 << 20


def _stage_depth(info: MediaInfo) -> int:
    """Frames a concurrent stage queues: four, fewer where four would pass
    :data:`STAGE_BYTES` (two at 4K, one at 8K), so concurrency never costs more memory
    than a few frames of the video's size."""
    frame_bytes = 3 * 4 * max(1, info.width) * max(1, info.height)
    return max(1, min(4, STAGE_BYTES // frame_bytes))


def _to_float(frame: Frame) -> None:
    frame.image  # noqa: B018 — decodes the stored samples to floats in the reading thread


def _too_many(frames: int, limit: int, *, known: bool) -> str:
    what = f"would have {frames} frames" if known else "has reached"
    return f"the output {what}, over the limit of {limit} frames (pass a larger --max-frames if that is really meant)"
