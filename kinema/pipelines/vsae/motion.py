"""New videos from a video's latent space: endless loops (video textures) and retiming.

* :func:`plan_loop` / :func:`video_loop` — a video texture (Schödl et al., as the paper
  builds it): playback runs forward and, at frames whose latent code is close (cosine)
  to an earlier frame's, may jump back to it. Jumps go only backwards and the last
  jumping frame always jumps, so playback never runs out; each jump is bridged by frames
  decoded from interpolated latent codes instead of a cut.
* :func:`retime` — temporal super-resolution by latent interpolation with iterative
  reprojection: :class:`kinema.engines.latent.LatentEngine` inside the ordinary
  interpolation pipeline, so ``--factor``, ``--fps``, scene cuts, repeated frames and
  audio behave exactly as in ``kinema interpolate``.

Both write at the size the autoencoder was fit at: it can only draw the video there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import torch

from kinema.engines.latent import LatentEngine
from kinema.io.atomic import check_output
from kinema.io.output import OutputOptions, Timeline, open_writer, output_kind
from kinema.ops.latent import best_earlier_match
from kinema.pipelines.convert import Progress
from kinema.pipelines.interpolate import InterpolateConfig, InterpolateResult, audio_to_copy, interpolate_frames
from kinema.models.checkpoint import tensor_digest
from kinema.models.latent_path import LatentPath
from kinema.pipelines.vsae.fit import VideoModel, encode_all, open_model_and_video
from kinema.types import BadInputError, Frame, ModelMismatchError


@dataclass(frozen=True)
class Shot:
    """One output frame of a loop: source frame ``a`` (``t = 0``), or the latent blend
    ``(1 − t)·f(a) + t·f(b)`` on the way from ``a`` to ``b`` during a jump."""

    a: int
    b: int
    t: float = 0.0

    @property
    def is_frame(self) -> bool:
        return self.t == 0.0


@dataclass(frozen=True)
class LoopConfig:
    seconds: float
    #: A jump goes back at least this many frames (shorter jumps just stutter).
    min_gap: int = 10
    #: Jumps kept: the most similar (frame, earlier frame) pairs, at most one per frame.
    jumps: int = 6
    #: In-between frames decoded across each jump.
    transition: int = 4
    #: Chance of taking a jump at a frame that has one (the last one always jumps).
    jump_chance: float = 0.5
    reproject: int = 5
    seed: int = 0
    output: OutputOptions = OutputOptions()
    overwrite: bool = False

    def __post_init__(self):
        if self.seconds <= 0:
            raise ValueError(f"seconds must be positive, got {self.seconds}")
        if self.min_gap < 1 or self.jumps < 1 or self.transition < 0 or self.reproject < 0:
            raise ValueError("min_gap and jumps must be ≥ 1, transition and reproject ≥ 0")
        if not 0 <= self.jump_chance <= 1:
            raise ValueError(f"jump_chance must be in [0, 1], got {self.jump_chance}")


def find_jumps(codes: torch.Tensor, *, min_gap: int, count: int) -> dict[int, int]:
    """``{from frame i: to frame j}``: the ``count`` frames whose codes best match an earlier
    frame's (cosine, ``j ≤ i − min_gap``), skipping any within 2 frames of one already
    kept (a run of near-identical pairs is one loop point, not several)."""
    n = len(codes)
    if n <= min_gap:
        raise BadInputError(f"a loop needs more than {min_gap} frames (the shortest jump), got {n}")
    similarity, target = best_earlier_match(codes, min_gap)
    jumps: dict[int, int] = {}
    for i in similarity.argsort(descending=True)[: n - min_gap].tolist():
        if any(abs(i - x) <= 2 for x in jumps):
            continue
        jumps[i] = int(target[i])
        if len(jumps) == count:
            break
    return jumps


def plan_loop(jumps: dict[int, int], count: int, *, transition: int, jump_chance: float, seed: int) -> list[Shot]:
    """``count`` shots of a random walk through the video using ``jumps``. It starts at the
    earliest jump target, so every frame it plays can be reached again."""
    rng = random.Random(seed)
    last = max(jumps)
    frame = min(jumps.values())
    shots: list[Shot] = []
    while len(shots) < count:
        shots.append(Shot(frame, frame))
        if frame in jumps and (frame == last or rng.random() < jump_chance):
            target = jumps[frame]
            shots += [Shot(frame, target, k / (transition + 1)) for k in range(1, transition + 1)]
            frame = target
        else:
            frame += 1
    return shots[:count]


@dataclass(frozen=True)
class LoopResult:
    output: Path
    shots: tuple[Shot, ...]
    jumps: dict[int, int]
    fps: Fraction


def video_loop(
    model: Path,
    source: Path,
    output: Path,
    config: LoopConfig,
    *,
    device: torch.device | str = "cpu",
    fps: Fraction | None = None,
    path: Path | None = None,
    progress: Progress | None = None,
) -> LoopResult:
    """A ``config.seconds`` long video texture of ``source`` written to ``output``; jumps
    are bridged along the learned path in ``path`` when given (else a straight line)."""
    output = Path(output)
    output_kind(output)
    check_output(output, overwrite=config.overwrite, inputs=(Path(source), Path(model)))
    vm, footage = open_model_and_video(model, source, device=device, fps=fps)
    learned = None if path is None else load_latent_path(path, vm)
    codes = encode_all(vm, footage)
    jumps = find_jumps(codes, min_gap=config.min_gap, count=config.jumps)
    rate = footage.info.fps or footage.info.average_fps
    count = max(1, round(Fraction(config.seconds) * rate))
    shots = plan_loop(jumps, count, transition=config.transition, jump_chance=config.jump_chance, seed=config.seed)
    timeline = Timeline(time_base=1 / rate, rate=rate, loop=0)
    net = vm.net
    dev = next(net.parameters()).device
    with open_writer(output, timeline, options=config.output, overwrite=config.overwrite) as writer:
        for k, shot in enumerate(shots):
            if shot.is_frame:
                image = footage.as_float([shot.a])[0]
            else:
                with torch.no_grad():
                    za, zb = codes[shot.a][None].to(dev), codes[shot.b][None].to(dev)
                    code = torch.lerp(za, zb, shot.t) if learned is None else learned(za, zb, torch.tensor([shot.t], device=dev))
                    image = net.reproject(net.decode(code, vm.size), config.reproject)[0].cpu()
            writer.write(Frame(image=image, pts=k / rate, duration=1 / rate, index=k))
            if progress is not None:
                progress(k + 1, count)
    return LoopResult(output=output, shots=tuple(shots), jumps=jumps, fps=rate)


def load_latent_path(path: Path, vm: VideoModel) -> LatentPath:
    """The learned path at ``path``, refused unless it was fit for ``vm``'s network."""
    net, meta = LatentPath.load(Path(path), map_location=next(vm.net.parameters()).device)
    if meta.get("model") != tensor_digest(vm.net.state_dict()):
        raise ModelMismatchError(f"{path} is a latent path for another model than {vm.path} (learn one with 'kinema vsae path')")
    return net


def retime(
    model: Path,
    source: Path,
    output: Path,
    config: InterpolateConfig,
    *,
    reproject: int = 0,
    geodesic: int = 0,
    path: Path | None = None,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> InterpolateResult:
    """``source`` retimed by latent interpolation (see :func:`kinema.pipelines.interpolate.interpolate_frames`),
    along the learned path in ``path`` when given (a file written by ``vsae path``)."""
    source, output = Path(source), Path(output)
    kind = output_kind(output)
    check_output(output, overwrite=config.overwrite, inputs=(source, Path(model)))
    vm, footage = open_model_and_video(model, source, device=device, fps=config.source_fps)
    learned = None if path is None else load_latent_path(path, vm)
    engine = LatentEngine(vm.net, reproject=reproject, geodesic=geodesic, path=learned, size=vm.size)
    info = footage.info
    audio = audio_to_copy(config, info, kind)
    frames = (footage.frame(i) for i in range(len(footage.frames)))
    return interpolate_frames(frames, info, output, config, engine=engine, device=device, progress=progress, audio=audio)
