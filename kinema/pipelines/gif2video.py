"""``gif2video``: a colour-quantized GIF back to smooth full-colour video.

1. Look at up to :data:`PROBE_FRAMES` frames spread over the GIF: its palette size (the
   most distinct colours any of them shows) and how it was made — not dithered, error
   diffusion or ordered dithering (the classifier, unless the caller says).
2. Restore every frame with the CCDNet for that kind and the nearest palette size, kept
   consistent with the GIF where the kind allows; or, when the classifier cannot tell,
   keep the frames as they are (:class:`kinema.engines.gif2video.GifRestorer`).
3. Retime the *restored* frames with an interpolation engine (``factor`` / ``fps``), with
   the GIF's own per-frame delays as the source timing. A looping GIF loops seamlessly:
   the interval after its last frame is interpolated towards its first, and ``loop`` > 1
   plays it several times with every seam interpolated.

Transparency is kept (GIF alpha is 1-bit; it is cross-faded in between frames) where the
output format has alpha, and flattened where it has not.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import torch

from kinema.engines.base import Engine
from kinema.engines.gif2video import GifRestorer, Plan, count_colors
from kinema.io.atomic import check_output
from kinema.io.gif import GifReader
from kinema.io.output import OutputOptions, output_kind
from kinema.models.gif2video import GifKind
from kinema.pipelines.convert import Progress
from kinema.pipelines.interpolate import InterpolateConfig, InterpolateResult, interpolate_frames
from kinema.types import CutMode, Frame, MediaInfo

#: Frames examined for palette size and dithering.
PROBE_FRAMES = 8


@dataclass(frozen=True)
class Gif2VideoConfig:
    """At most one of ``factor`` and ``fps``; neither keeps the GIF's own frame timing."""

    factor: int | None = None
    fps: Fraction | None = None
    #: How many times the animation plays in the output.
    loop: int = 1
    #: How the GIF was made (None: the classifier decides).
    kind: GifKind | None = None
    #: Neighbours on each side fused into every restored frame along the motion
    #: (:mod:`kinema.ops.fuse`); 0: each frame on its own. One is the default: it gains
    #: on nearly every encoder and palette size measured (docs/models/ccdnet.md).
    temporal: int = 1
    #: How far the output goes from the GIF towards the restoration, in (0, 1] (None: the
    #: kind's own, :data:`kinema.engines.gif2video.STRENGTH`).
    strength: float | None = None
    #: False: frames pass through unrestored (to compare, or to only retime).
    restore: bool = True
    output: OutputOptions = field(default_factory=OutputOptions)
    #: A GIF's frames are restored on their way to the retimer, so AUTO acts as QUICK here.
    scene_cuts: CutMode = CutMode.QUICK
    overwrite: bool = False

    def __post_init__(self):
        if self.factor is not None and self.fps is not None:
            raise ValueError("give at most one of factor and fps")
        if self.factor is not None and (not isinstance(self.factor, int) or self.factor < 1):
            raise ValueError(f"factor must be a whole number ≥ 1, got {self.factor}")
        if self.fps is not None and self.fps <= 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        if not isinstance(self.loop, int) or self.loop < 1:
            raise ValueError(f"loop must be a whole number ≥ 1, got {self.loop}")
        if not isinstance(self.temporal, int) or not 0 <= self.temporal <= 4:
            raise ValueError(f"temporal must be a whole number in 0..4, got {self.temporal}")
        if self.strength is not None and not 0 < self.strength <= 1:
            raise ValueError(f"strength must be in (0, 1], got {self.strength}")
        self.output.validate()

    def retime(self) -> InterpolateConfig:
        return InterpolateConfig(
            factor=None if self.fps is not None else (self.factor or 1),
            fps=self.fps,
            output=self.output,
            audio=False,
            scene_cuts=self.scene_cuts,
            overwrite=self.overwrite,
        )


@dataclass(frozen=True)
class Gif2VideoResult:
    retimed: InterpolateResult
    #: The palette size found.
    colors: int
    #: What was done (None: not restored, as asked).
    plan: Plan | None
    restore_seconds: float
    #: The least and the most of the way from the GIF any frame went (None: not restored).
    strengths: tuple[float, float] | None = None

    @property
    def level(self) -> int | None:
        """The palette size of the model used (None: frames not restored)."""
        return None if self.plan is None or self.plan.model is None else self.plan.model.config.colors


def _probe_frames(reader: GifReader) -> list[torch.Tensor]:
    count = reader.info.frame_count
    wanted = {round(i * (count - 1) / max(PROBE_FRAMES - 1, 1)) for i in range(min(PROBE_FRAMES, count))}
    return [f.image for f in reader if f.index in wanted]


def gif2video(
    source: Path,
    output: Path,
    config: Gif2VideoConfig,
    *,
    restorer: GifRestorer | None,
    engine: Engine,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> Gif2VideoResult:
    """Restore and retime the GIF ``source`` into ``output`` (video, GIF or PNG folder).

    ``restorer`` may be None only with ``config.restore`` False. Raises
    :class:`kinema.types.KinemaError` subclasses for bad input or options.
    """
    source, output = Path(source), Path(output)
    output_kind(output)  # an unknown output format fails before any work
    check_output(output, overwrite=config.overwrite, inputs=(source,))
    reader = GifReader(source)  # probes: not a GIF, truncated, no frames → BadInputError
    info = reader.info
    probe = _probe_frames(reader)
    colors = max(count_colors(f) for f in probe)
    plan = None
    if config.restore:
        if restorer is None:
            raise ValueError("restoring needs a GifRestorer")
        plan = restorer.plan(probe, colors, kind=config.kind, strength=config.strength)
    spent = [0.0]
    heard: list[float] = []  # each restored frame's strength

    def restored() -> Iterator[Frame]:
        if plan is None or plan.model is None:
            yield from reader
            return
        frames: deque[Frame] = deque()  # read, waiting for their restoration

        def images() -> Iterator[torch.Tensor]:
            decoded = iter(reader)
            while True:
                started = time.perf_counter()
                frame = next(decoded, None)
                spent[0] -= time.perf_counter() - started  # reading is not restoring
                if frame is None:
                    return
                frames.append(frame)
                yield frame.image

        outputs = restorer.restore_frames(images(), plan, temporal=config.temporal, on_strength=heard.append)
        while True:
            started = time.perf_counter()
            image = next(outputs, None)
            spent[0] += time.perf_counter() - started
            if image is None:
                return
            yield frames.popleft().replace(image=image)

    def looped() -> Iterator[Frame]:
        cache: list[Frame] = []
        for frame in restored():
            if config.loop > 1:
                cache.append(frame)
            yield frame
        for repeat in range(1, config.loop):
            shift = repeat * info.duration
            for k, frame in enumerate(cache):
                yield frame.replace(pts=frame.pts + shift, index=repeat * len(cache) + k)

    played: MediaInfo = dataclasses.replace(info, frame_count=info.frame_count * config.loop, duration=info.duration * config.loop)
    retimed = interpolate_frames(
        looped(),
        played,
        output,
        config.retime(),
        engine=engine,
        device=device,
        progress=progress,
        wrap=info.loop != -1,
    )
    return Gif2VideoResult(
        retimed=retimed,
        colors=colors,
        plan=plan,
        restore_seconds=spent[0],
        strengths=(min(heard), max(heard)) if heard else None,
    )
