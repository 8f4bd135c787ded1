"""The commands on single files: ``info``, ``convert``, ``interpolate``, ``pair``, ``gif2video``.

Each parses its options, builds a config and calls one pipeline function, imported when
the command runs (so ``kinema --help`` and ``kinema info`` never load torch).
"""

from __future__ import annotations

import enum
import json
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from kinema.cli.app import app
from kinema.cli.common import make_engine, progress_bar, stderr
from kinema.cli.options import (
    DEFAULT_ENGINE,
    Adapt,
    Audio,
    BlendDissolves,
    Codec,
    Crf,
    DeblurOption,
    DeblurWeights,
    Device,
    EngineName,
    EngineOption,
    Factor,
    MediaOutput,
    OddSizeOption,
    Overwrite,
    Preset,
    Quality,
    QualityOption,
    Quiet,
    SceneCuts,
    Slowmo,
    SourceFps,
    TargetFps,
    Threads,
    WeightsOption,
    usage,
    use_threads,
)
from kinema.cli.options import device as device_of
from kinema.types import CutMode, DeblurMode
from kinema.io.video_out import OddSize, VideoCodec

if TYPE_CHECKING:
    from kinema.types import MediaInfo


def _loop_text(loop: int | None) -> str:
    if loop is None:
        return "-"
    return {0: "forever", -1: "once"}.get(loop, f"{loop} repeats")


def _seconds(x: Fraction) -> str:
    return f"{float(x):.3f} s"


def describe(info: MediaInfo) -> str:
    """Human-readable summary used by ``kinema info``."""
    rate = f"{float(info.fps):.6g} (constant)" if info.fps else f"variable (VFR), average {float(info.average_fps):.6g}"
    size = f"{info.width}x{info.height}" + (f" (rotated {info.rotation}°)" if info.rotation else "")
    audio = "none"
    if info.audio:
        audio = f"{info.audio.codec}, {info.audio.sample_rate} Hz, {info.audio.channels} ch"
    lines = [
        str(info.path),
        f"  kind       {info.kind.value} ({info.container}, {info.codec})",
        f"  size       {size}",
        f"  frames     {info.frame_count}",
        f"  fps        {rate}",
        f"  duration   {_seconds(info.duration)} (starts at {_seconds(info.start)})",
        f"  pixels     {info.pixel_format}, {info.bit_depth}-bit, {'alpha' if info.has_alpha else 'no alpha'}",
        f"  audio      {audio}",
        f"  loop       {_loop_text(info.loop)}",
    ]
    lines += [f"  {key:<10} {value}" for key, value in info.extra.items()]
    return "\n".join(lines)


@app.command()
def info(
    path: Annotated[Path, typer.Argument(help="Video, GIF, or image-sequence folder / glob pattern.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    source_fps: SourceFps = None,
) -> None:
    """Frames, size, frame rate (or VFR), duration, codec, audio and alpha of a file (or a
    .kvc stream's header and index)."""
    from kinema.io.probe import probe

    if path.suffix.lower() == ".kvc":
        from kinema.io.kvc_file import KvcReader

        with KvcReader(path) as reader:
            stream = reader.summary()
        typer.echo(json.dumps(stream, indent=2) if as_json else "\n".join(f"{key:<10} {value}" for key, value in stream.items()))
        return

    meta = probe(path, fps=source_fps)
    typer.echo(json.dumps(meta.as_dict(), indent=2) if as_json else describe(meta))


@app.command("convert")
def convert_cmd(
    source: Annotated[Path, typer.Argument(help="Input: video, GIF, or image-sequence folder / glob pattern.")],
    output: MediaOutput,
    overwrite: Overwrite = False,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    preset: Preset = "medium",
    odd_size: OddSizeOption = OddSize.PAD,
    bit_depth: Annotated[Optional[int], typer.Option(help="8 or 16 bits for PNG frames and lossless video (default: the source's).")] = None,
    source_fps: SourceFps = None,
    audio: Audio = True,
    colors: Annotated[int, typer.Option(help="GIF palette size, 2 to 256.")] = 256,
    dither: Annotated[bool, typer.Option("--dither/--no-dither", help="Floyd–Steinberg dithering for GIF output.")] = True,
    loop: Annotated[Optional[int], typer.Option(help="GIF loop count: 0 forever, -1 once, N repeats (default: the source's).")] = None,
    quiet: Quiet = False,
) -> None:
    """Convert between video, GIF and image sequences, keeping timing and audio."""
    from kinema.io import GifOptions, ImageOptions, OutputOptions, VideoOptions
    from kinema.pipelines.convert import ConvertConfig, convert

    with usage():
        config = ConvertConfig(
            output=OutputOptions(
                video=VideoOptions(codec=codec, crf=crf, preset=preset, odd_size=odd_size, bit_depth=bit_depth),
                gif=GifOptions(colors=colors, dither=dither),
                images=ImageOptions(bit_depth=bit_depth),
            ),
            fps=source_fps,
            audio=audio,
            loop=loop,
            overwrite=overwrite,
        )
    with progress_bar("convert", quiet=quiet) as progress:
        result = convert(source, output, config, progress=progress)
    if not quiet:
        extra = ", audio copied" if result.audio_copied else ""
        stderr.print(f"wrote {result.output} ({result.frames} frames{extra}) in {result.seconds:.1f} s", highlight=False)


@app.command("interpolate")
def interpolate_cmd(
    source: Annotated[Path, typer.Argument(help="Input: video, GIF, or image-sequence folder / glob pattern.")],
    output: MediaOutput,
    factor: Factor = None,
    fps: TargetFps = None,
    slowmo: Slowmo = None,
    engine: EngineOption = DEFAULT_ENGINE,
    quality: QualityOption = Quality.balanced,
    weights: WeightsOption = None,
    device: Device = "cpu",
    threads: Threads = None,
    adapt: Adapt = 0,
    scene_cuts: SceneCuts = CutMode.QUICK,
    blend_dissolves: BlendDissolves = False,
    deblur: DeblurOption = DeblurMode.OFF,
    deblur_weights: DeblurWeights = None,
    max_repeats: Annotated[int, typer.Option(help="Repeated frames up to this run length are interpolated across (anime on twos/threes); 0 = off.")] = 2,
    overwrite: Overwrite = False,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    preset: Preset = "medium",
    source_fps: SourceFps = None,
    max_frames: Annotated[Optional[int], typer.Option(help="Refuse outputs of more frames than this (default: 9 hours at 60 fps).")] = None,
    audio: Audio = True,
    quiet: Quiet = False,
    profile: Annotated[bool, typer.Option("--profile", help="Print where the time went: decoding, tests, engine, encoding.")] = False,
) -> None:
    """Retime a video with in-between frames: --factor N, --fps F or --slowmo N."""
    from kinema.io import OutputOptions, VideoOptions
    from kinema.io.atomic import check_output
    from kinema.pipelines.adapt import AdaptConfig, adapt_to_video
    from kinema.pipelines.interpolate import InterpolateConfig, interpolate_video

    with usage():
        config = InterpolateConfig(
            factor=factor,
            fps=fps,
            slowmo=slowmo,
            output=OutputOptions(video=VideoOptions(codec=codec, crf=crf, preset=preset)),
            source_fps=source_fps,
            audio=audio,
            scene_cuts=scene_cuts,
            blend_gradual=blend_dissolves,
            deblur=deblur,
            deblur_weights=deblur_weights,
            max_repeats=max_repeats,
            overwrite=overwrite,
            **({} if max_frames is None else {"max_frames": max_frames}),  # None: the config's own bound
        )
        adaptation = AdaptConfig(steps=adapt)  # ≥ 0
    if adapt and engine is not EngineName.learned:
        raise typer.BadParameter("--adapt needs --engine learned")
    use_threads(threads)
    where = device_of(device)
    chosen = make_engine(engine, quality, weights, where)
    if adapt:
        # Refuse a bad output before minutes of adaptation, not after.
        check_output(output, overwrite=overwrite, inputs=(source,))
        with progress_bar("adapt", quiet=quiet, unit="steps") as progress:
            adapt_to_video(chosen, source, adaptation, source_fps=config.source_fps, progress=progress)
    with progress_bar("interpolate", quiet=quiet) as progress:
        result = interpolate_video(source, output, config, engine=chosen, device=where, progress=progress)
    if not quiet:
        if result.blur_check is not None:
            stderr.print(result.blur_check.describe(), highlight=False)
        notes = [f"{result.interpolated} synthesized"]
        if result.deblurred:
            notes.append("source frames deblurred")
        if result.cuts:
            notes.append(f"{result.cuts} scene cut{'s' * (result.cuts > 1)} held")
        if result.blended:
            notes.append(f"{result.blended} cross-faded inside fades/dissolves")
        if result.repeats:
            notes.append(f"{result.repeats} repeated frames bridged")
        notes.append("audio copied" if result.audio_copied else "no audio")
        stderr.print(
            f"wrote {result.output}: {result.frames_in} → {result.frames_out} frames, "
            f"{float(result.duration_in):.3f} s → {float(result.duration_out):.3f} s ({', '.join(notes)}) "
            f"in {result.seconds:.1f} s",
            highlight=False,
        )
    if profile:
        other = result.seconds - sum(result.stages.values())
        parts = [f"{name} {seconds:.2f} s" for name, seconds in result.stages.items()] + [f"other {max(other, 0.0):.2f} s"]
        stderr.print(f"profile: {', '.join(parts)} (of {result.seconds:.2f} s)", highlight=False)


@app.command("pair")
def pair_cmd(
    first: Annotated[Path, typer.Argument(help="The frame at t = 0.")],
    second: Annotated[Path, typer.Argument(help="The frame at t = 1.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Image file (one --t) or folder (several).")],
    t: Annotated[list[float], typer.Option("--t", help="Time in [0, 1]; repeat for several.")] = [0.5],  # noqa: B006
    engine: EngineOption = DEFAULT_ENGINE,
    quality: QualityOption = Quality.balanced,
    weights: WeightsOption = None,
    device: Device = "cpu",
    threads: Threads = None,
    overwrite: Overwrite = False,
) -> None:
    """The frames between two images at one or more times."""
    from kinema.pipelines.pair import interpolate_pair

    if any(not 0.0 <= x <= 1.0 for x in t):
        raise typer.BadParameter(f"--t must be in [0, 1], got {', '.join(f'{x:g}' for x in t)}")
    use_threads(threads)
    where = device_of(device)
    for path in interpolate_pair(first, second, t, output, engine=make_engine(engine, quality, weights, where), device=where, overwrite=overwrite):
        typer.echo(str(path))


class Dither(str, enum.Enum):
    auto = "auto"
    yes = "yes"
    no = "no"
    ordered = "ordered"


@app.command("gif2video")
def gif2video_cmd(
    source: Annotated[Path, typer.Argument(help="The GIF to restore.")],
    output: MediaOutput,
    factor: Factor = None,
    fps: TargetFps = None,
    loop: Annotated[int, typer.Option(help="Play the animation N times in the output (seams interpolated).")] = 1,
    dither: Annotated[Dither, typer.Option(help="How the GIF was made: yes (error diffusion), ordered, no; auto lets the classifier decide.")] = Dither.auto,
    restore: Annotated[bool, typer.Option("--restore/--no-restore", help="Undo the colour quantization (off: only retime).")] = True,
    temporal: Annotated[int, typer.Option(help="Fuse N neighbours on each side into every restored frame, aligned by motion (0: frame by frame).")] = 1,
    strength: Annotated[Optional[float], typer.Option(help="How far to go from the GIF towards the restoration, 0 < S ≤ 1 (default: chosen per kind of GIF).")] = None,
    models: Annotated[Optional[Path], typer.Option(help="Folder of GIF restoration weights (default: the shipped ones).")] = None,
    engine: EngineOption = DEFAULT_ENGINE,
    quality: QualityOption = Quality.balanced,
    weights: WeightsOption = None,
    device: Device = "cpu",
    threads: Threads = None,
    scene_cuts: SceneCuts = CutMode.QUICK,
    overwrite: Overwrite = False,
    codec: Codec = VideoCodec.H264,
    crf: Crf = 18,
    preset: Preset = "medium",
    quiet: Quiet = False,
) -> None:
    """Restore a colour-quantized GIF to smooth full-colour video (optionally at a higher frame rate)."""
    from kinema.engines.gif2video import GifRestorer
    from kinema.engines.spec import AverageSpec
    from kinema.io import OutputOptions, VideoOptions
    from kinema.models.gif2video import GifKind
    from kinema.pipelines.gif2video import Gif2VideoConfig, gif2video

    with usage():
        config = Gif2VideoConfig(
            factor=factor,
            fps=fps,
            loop=loop,
            kind={Dither.auto: None, Dither.yes: GifKind.DIFFUSION, Dither.ordered: GifKind.ORDERED, Dither.no: GifKind.NONE}[dither],
            restore=restore,
            temporal=temporal,
            strength=strength,
            output=OutputOptions(video=VideoOptions(codec=codec, crf=crf, preset=preset)),
            scene_cuts=scene_cuts,
            overwrite=overwrite,
        )
    retiming = factor not in (None, 1) or fps is not None
    use_threads(threads)
    where = device_of(device)
    # Without retiming no in-between frame is made: skip loading the learned engine.
    chosen = make_engine(engine, quality, weights, where) if retiming else AverageSpec().build(where)
    restorer = GifRestorer.from_folder(models, device=where) if restore else None
    with progress_bar("gif2video", quiet=quiet) as progress:
        result = gif2video(source, output, config, restorer=restorer, engine=chosen, device=where, progress=progress)
    if not quiet:
        r = result.retimed
        # Say which path was taken: the kind, the model, the consistency step, or why not.
        what = "not restored" if result.plan is None else f"{result.colors} colours, {result.plan.describe()}"
        if result.plan is not None and result.plan.strength is None and result.strengths:
            low, high = result.strengths
            what += f": {low:.2f}" + (f"–{high:.2f}" if high - low >= 0.005 else "")
        stderr.print(
            f"wrote {r.output}: {r.frames_in} → {r.frames_out} frames, {float(r.duration_out):.3f} s ({what}) in {r.seconds:.1f} s",
            highlight=False,
        )
