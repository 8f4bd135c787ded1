"""What ``interpolate`` is asked to do (:class:`InterpolateConfig`), what it reports
(:class:`InterpolateResult`), and the output timing the options imply — shared by the
one-pass runner (:mod:`.run`), the chunked runner and ``vsae retime``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from kinema.io.output import OutputOptions, Timeline
from kinema.pipelines.convert import audio_source
from kinema.pipelines.deblur import BlurCheck
from kinema.pipelines.retime import FactorSchedule, RateSchedule
from kinema.types import CutMode, DeblurMode, MediaInfo, MediaKind

#: Default bound on an output's frame count: 9 hours at 60 fps.
MAX_FRAMES = 2_000_000


@dataclass(frozen=True)
class InterpolateConfig:
    """Exactly one of ``factor``, ``fps`` and ``slowmo`` says how to retime."""

    #: N frames per source frame interval, at N × the source rate (duration unchanged).
    factor: int | None = None
    #: A constant output rate; the duration is kept to within one output frame.
    fps: Fraction | None = None
    #: N frames per source interval played at the source rate: N × longer, no audio.
    slowmo: int | None = None
    output: OutputOptions = field(default_factory=OutputOptions)
    #: Frame rate for an image-sequence input that has no timing sidecar.
    source_fps: Fraction | None = None
    audio: bool = True
    scene_cuts: CutMode = CutMode.QUICK
    #: With ``CutMode.AUTO``: in-betweens inside a fade or dissolve are the two frames
    #: cross-faded instead of the engine's. Off by default: the engine scored higher inside
    #: dissolves (``benchmarks/results/transitions.md``), as both shots move in them.
    blend_gradual: bool = False
    #: Up to this many repeats of a frame are one held drawing (interpolated across);
    #: longer runs are a pause and stay still. 0 turns repeat handling off.
    max_repeats: int = 2
    #: In-between times rendered per engine call (bounds memory at large N or 4K).
    batch: int = 8
    overwrite: bool = False
    #: Refuse to write more frames than this (a mistyped --fps 1e9 would run for days).
    max_frames: int = MAX_FRAMES
    #: Concurrent stages: decode ahead and encode behind in their own threads
    #: (:mod:`kinema.pipelines.stages`), and the engine told the next window while it works
    #: on this one (:meth:`Engine.lookahead`: its flows run beside the synthesis). The
    #: output is the same either way (tested); ``docs/performance.md`` has the timings.
    concurrent: bool = True
    #: Restore motion-blurred source frames first (:mod:`kinema.pipelines.deblur`), with
    #: the network at ``deblur_weights`` (None: the shipped one).
    deblur: DeblurMode = DeblurMode.OFF
    deblur_weights: Path | None = None

    def __post_init__(self):
        chosen = [name for name in ("factor", "fps", "slowmo") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError("give exactly one of factor, fps and slowmo" + (f" (got {', '.join(chosen)})" if chosen else ""))
        for name in ("factor", "slowmo"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a whole number ≥ 1, got {value}")
        if self.fps is not None and self.fps <= 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        if self.max_repeats < 0 or self.batch < 1:
            raise ValueError("max_repeats must be ≥ 0 and batch ≥ 1")
        if self.max_frames < 1:
            raise ValueError(f"max_frames must be ≥ 1, got {self.max_frames}")
        object.__setattr__(self, "scene_cuts", CutMode(self.scene_cuts))
        object.__setattr__(self, "deblur", DeblurMode(self.deblur))
        self.output.validate()


@dataclass(frozen=True)
class InterpolateResult:
    source: MediaInfo
    output: Path
    frames_in: int
    frames_out: int
    #: Output frames that came out of the engine (not a source frame or a hold).
    interpolated: int
    #: Scene cuts found (each one held instead of interpolated).
    cuts: int
    #: In-betweens cross-faded inside a fade or dissolve (``blend_gradual``).
    blended: int
    #: Source frames set aside as repeats of the previous drawing.
    repeats: int
    duration_in: Fraction
    duration_out: Fraction
    audio_copied: bool
    seconds: float
    #: Seconds spent in each stage: ``decode`` (reading and turning frames into floats),
    #: ``tests`` (repeat and scene-cut tests), ``engine``, ``encode`` (writing); the rest of
    #: ``seconds`` is the pipeline's own bookkeeping. With concurrent stages, decode and
    #: encode run beside the engine and are counted where the main thread waits for them.
    stages: dict[str, float] = field(default_factory=dict)
    #: With ``deblur``: whether the frames were restored, and what ``auto``'s check saw.
    deblurred: bool = False
    blur_check: BlurCheck | None = None


def schedule_for(config: InterpolateConfig, origin: Fraction | None) -> FactorSchedule | RateSchedule:
    if config.fps is not None:
        return RateSchedule(config.fps, start=origin)
    return FactorSchedule(config.factor or config.slowmo)


def output_timeline(config: InterpolateConfig, info: MediaInfo) -> Timeline:
    """Output timing: constant ``fps``; N × the rate on a tick N × finer (``factor``, exact
    for every k/N subdivision, VFR included); the source's own timing (``slowmo``)."""
    rate, time_base, constant = info.fps or info.average_fps, info.time_base, not info.vfr
    if config.fps is not None:
        rate, time_base, constant = config.fps, 1 / config.fps, True
    elif config.factor is not None:
        rate, time_base = rate * config.factor, time_base / config.factor
    return Timeline(
        time_base=time_base,
        rate=rate,
        constant_rate=constant,
        bit_depth=info.bit_depth,
        alpha=info.has_alpha,
        loop=info.loop,
    )


def expected_frames(config: InterpolateConfig, info: MediaInfo) -> int | None:
    """Output frame count, when the source's length is known."""
    if config.fps is not None:
        return math.ceil(info.duration * config.fps) if info.duration else None
    return info.frame_count * (config.factor or config.slowmo) if info.frame_count else None


def audio_to_copy(config: InterpolateConfig, info: MediaInfo, kind: MediaKind) -> Path | None:
    """The file whose audio goes into an output of ``kind``: none for a GIF, for slow
    motion (the audio would no longer match), or when ``config.audio`` is off."""
    return audio_source(info) if config.audio and kind is not MediaKind.GIF and not config.slowmo else None


def output_duration(config: InterpolateConfig, duration_in: Fraction, frames_out: int) -> Fraction:
    if config.fps is not None:
        return frames_out / config.fps
    return duration_in * (config.slowmo or 1)
