"""The ``kinema`` command: parses options, builds configs, shows progress, reports errors.

Nothing here does media work; every command calls a pipeline function. Errors that
kinema expects (:class:`KinemaError`) and usage mistakes print one line on stderr and
exit non-zero (1 for bad input, 2 for bad usage); anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import enum
import json
import signal
import sys
import threading
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Optional

import torch
import typer

from kinema import __version__
from kinema.cli import batch, snapshot, vsae
from kinema.cli.common import DEFAULT_ENGINE, EngineName, EngineOption, Quality, QualityOption, WeightsOption, make_engine, progress_bar, rate_option, stderr, usage
from kinema.engines.classical import ClassicalConfig, ClassicalEngine
from kinema.engines.dequantize import GifRestorer
from kinema.io import GifOptions, ImageOptions, OddSize, OutputOptions, VideoCodec, VideoOptions, probe
from kinema.io.atomic import check_output
from kinema.pipelines.adapt import AdaptConfig, adapt_to_video
from kinema.pipelines.convert import ConvertConfig, convert
from kinema.pipelines.gif2video import Gif2VideoConfig, gif2video
from kinema.pipelines.interpolate import MAX_FRAMES, InterpolateConfig, interpolate_video
from kinema.pipelines.pair import interpolate_pair
from kinema.types import KinemaError, MediaInfo

# Typer ships its own copy of click in recent releases and used click itself before:
# find the usage-error base class through the exception it does export.
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")
_NoArgsIsHelp = getattr(sys.modules[_UsageError.__module__], "NoArgsIsHelpError", ())

app = typer.Typer(
    name="kinema",
    help="Synthesize video frames from motion. Reads and writes video, GIF and image sequences.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(snapshot.app, name="snapshot")
app.add_typer(vsae.app, name="vsae")
app.add_typer(batch.app, name="batch")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kinema {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """kinema: interpolation, GIF restoration, video snapshots, per-video autoencoders."""


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
    fps: Annotated[Optional[Fraction], rate_option("Frame rate of an image sequence without kinema.json.")] = None,
) -> None:
    """Frames, size, frame rate (or VFR), duration, codec, audio and alpha of a file."""
    meta = probe(path, fps=fps)
    typer.echo(json.dumps(meta.as_dict(), indent=2) if as_json else describe(meta))


@app.command("convert")
def convert_cmd(
    source: Annotated[Path, typer.Argument(help="Input: video, GIF, or image-sequence folder / glob pattern.")],
    output: Annotated[Path, typer.Argument(help="Output: .mp4/.mov/.mkv/.avi/.nut, .gif, or a folder (PNG frames).")],
    overwrite: Annotated[bool, typer.Option("--overwrite", "-y", help="Replace an existing output.")] = False,
    codec: Annotated[VideoCodec, typer.Option(help="Video codec: h264, or lossless ffv1 (.mkv) / png (.mov).")] = VideoCodec.H264,
    crf: Annotated[int, typer.Option(help="H.264 quality, 0 (lossless luma) to 51; 18 is visually transparent.")] = 18,
    preset: Annotated[str, typer.Option(help="H.264 speed preset, ultrafast … veryslow.")] = "medium",
    odd_size: Annotated[OddSize, typer.Option(help="Odd frame sizes for H.264: pad, crop or error.")] = OddSize.PAD,
    bit_depth: Annotated[Optional[int], typer.Option(help="8 or 16 bits for PNG frames and lossless video (default: the source's).")] = None,
    fps: Annotated[Optional[Fraction], rate_option("Frame rate of an image-sequence input without kinema.json (default 25).")] = None,
    audio: Annotated[bool, typer.Option("--audio/--no-audio", help="Copy the source's audio unchanged.")] = True,
    colors: Annotated[int, typer.Option(help="GIF palette size, 2 to 256.")] = 256,
    dither: Annotated[bool, typer.Option("--dither/--no-dither", help="Floyd–Steinberg dithering for GIF output.")] = True,
    loop: Annotated[Optional[int], typer.Option(help="GIF loop count: 0 forever, -1 once, N repeats (default: the source's).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Convert between video, GIF and image sequences, keeping timing and audio."""
    with usage():
        config = ConvertConfig(
            output=OutputOptions(
                video=VideoOptions(codec=codec, crf=crf, preset=preset, odd_size=odd_size, bit_depth=bit_depth),
                gif=GifOptions(colors=colors, dither=dither),
                images=ImageOptions(bit_depth=bit_depth),
            ),
            fps=fps,
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
    output: Annotated[Path, typer.Argument(help="Output: .mp4/.mov/.mkv/.avi/.nut, .gif, or a folder (PNG frames).")],
    factor: Annotated[Optional[int], typer.Option(help="N× the frame rate, same duration.")] = None,
    fps: Annotated[Optional[Fraction], rate_option("Target frame rate, e.g. 60 or 59.94 or 60000/1001.")] = None,
    slowmo: Annotated[Optional[int], typer.Option(help="N× slower: N× the frames at the source rate (audio dropped).")] = None,
    engine: EngineOption = DEFAULT_ENGINE,
    quality: QualityOption = Quality.balanced,
    weights: WeightsOption = None,
    adapt: Annotated[int, typer.Option(help="Fine-tune the learned engine on this video for N steps first (test-time adaptation; ~0.3 s a step).")] = 0,
    scene_cuts: Annotated[bool, typer.Option("--scene-cuts/--no-scene-cuts", help="Hold the frame at scene cuts.")] = True,
    max_repeats: Annotated[int, typer.Option(help="Repeated frames up to this run length are interpolated across (anime on twos/threes); 0 = off.")] = 2,
    overwrite: Annotated[bool, typer.Option("--overwrite", "-y", help="Replace an existing output.")] = False,
    codec: Annotated[VideoCodec, typer.Option(help="Video codec: h264, or lossless ffv1 (.mkv) / png (.mov).")] = VideoCodec.H264,
    crf: Annotated[int, typer.Option(help="H.264 quality, 0 to 51.")] = 18,
    preset: Annotated[str, typer.Option(help="H.264 speed preset, ultrafast … veryslow.")] = "medium",
    source_fps: Annotated[Optional[Fraction], rate_option("Frame rate of an image-sequence input without kinema.json.")] = None,
    max_frames: Annotated[int, typer.Option(help="Refuse outputs of more frames than this.")] = MAX_FRAMES,
    audio: Annotated[bool, typer.Option("--audio/--no-audio", help="Copy the source's audio unchanged.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Retime a video with in-between frames: --factor N, --fps F or --slowmo N."""
    with usage():
        config = InterpolateConfig(
            factor=factor,
            fps=fps,
            slowmo=slowmo,
            output=OutputOptions(video=VideoOptions(codec=codec, crf=crf, preset=preset)),
            source_fps=source_fps,
            audio=audio,
            scene_cuts=scene_cuts,
            max_repeats=max_repeats,
            overwrite=overwrite,
            max_frames=max_frames,
        )
    if adapt < 0:
        raise typer.BadParameter(f"--adapt must be ≥ 0, got {adapt}")
    if adapt and engine is not EngineName.learned:
        raise typer.BadParameter("--adapt needs --engine learned")
    chosen = make_engine(engine, quality, weights)
    if adapt:
        # Refuse a bad output before minutes of adaptation, not after.
        check_output(output, overwrite=overwrite, inputs=(source,))
        with progress_bar("adapt", quiet=quiet, unit="steps") as progress:
            adapt_to_video(chosen, source, AdaptConfig(steps=adapt), source_fps=config.source_fps, progress=progress)
    with progress_bar("interpolate", quiet=quiet) as progress:
        result = interpolate_video(source, output, config, engine=chosen, progress=progress)
    if not quiet:
        notes = [f"{result.interpolated} synthesized"]
        if result.cuts:
            notes.append(f"{result.cuts} scene cut{'s' * (result.cuts > 1)} held")
        if result.repeats:
            notes.append(f"{result.repeats} repeated frames bridged")
        notes.append("audio copied" if result.audio_copied else "no audio")
        stderr.print(
            f"wrote {result.output}: {result.frames_in} → {result.frames_out} frames, "
            f"{float(result.duration_in):.3f} s → {float(result.duration_out):.3f} s ({', '.join(notes)}) "
            f"in {result.seconds:.1f} s",
            highlight=False,
        )


@app.command("pair")
def pair_cmd(
    first: Annotated[Path, typer.Argument(help="The frame at t = 0.")],
    second: Annotated[Path, typer.Argument(help="The frame at t = 1.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Image file (one --t) or folder (several).")],
    t: Annotated[list[float], typer.Option("--t", help="Time in [0, 1]; repeat for several.")] = [0.5],  # noqa: B006
    engine: EngineOption = DEFAULT_ENGINE,
    quality: QualityOption = Quality.balanced,
    weights: WeightsOption = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", "-y", help="Replace existing outputs.")] = False,
) -> None:
    """The frames between two images at one or more times."""
    if any(not 0.0 <= x <= 1.0 for x in t):
        raise typer.BadParameter(f"--t must be in [0, 1], got {', '.join(f'{x:g}' for x in t)}")
    for path in interpolate_pair(first, second, t, output, engine=make_engine(engine, quality, weights), overwrite=overwrite):
        typer.echo(str(path))


class Dither(str, enum.Enum):
    auto = "auto"
    yes = "yes"
    no = "no"


@app.command("gif2video")
def gif2video_cmd(
    source: Annotated[Path, typer.Argument(help="The GIF to restore.")],
    output: Annotated[Path, typer.Argument(help="Output: .mp4/.mov/.mkv/.avi/.nut, .gif, or a folder (PNG frames).")],
    factor: Annotated[Optional[int], typer.Option(help="N× the GIF's frame rate (in-between frames interpolated).")] = None,
    fps: Annotated[Optional[Fraction], rate_option("Constant output frame rate, e.g. 30 or 60.")] = None,
    loop: Annotated[int, typer.Option(help="Play the animation N times in the output (seams interpolated).")] = 1,
    dither: Annotated[Dither, typer.Option(help="Is the GIF dithered? auto lets the classifier decide.")] = Dither.auto,
    restore: Annotated[bool, typer.Option("--restore/--no-restore", help="Undo the colour quantization (off: only retime).")] = True,
    models: Annotated[Optional[Path], typer.Option(help="Folder of GIF restoration weights (default: the shipped ones).")] = None,
    engine: EngineOption = DEFAULT_ENGINE,
    quality: QualityOption = Quality.balanced,
    weights: WeightsOption = None,
    scene_cuts: Annotated[bool, typer.Option("--scene-cuts/--no-scene-cuts", help="Hold the frame at scene cuts.")] = True,
    overwrite: Annotated[bool, typer.Option("--overwrite", "-y", help="Replace an existing output.")] = False,
    codec: Annotated[VideoCodec, typer.Option(help="Video codec: h264, or lossless ffv1 (.mkv) / png (.mov).")] = VideoCodec.H264,
    crf: Annotated[int, typer.Option(help="H.264 quality, 0 to 51.")] = 18,
    preset: Annotated[str, typer.Option(help="H.264 speed preset, ultrafast … veryslow.")] = "medium",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Restore a colour-quantized GIF to smooth full-colour video (optionally at a higher frame rate)."""
    with usage():
        config = Gif2VideoConfig(
            factor=factor,
            fps=fps,
            loop=loop,
            dithered={Dither.auto: None, Dither.yes: True, Dither.no: False}[dither],
            restore=restore,
            output=OutputOptions(video=VideoOptions(codec=codec, crf=crf, preset=preset)),
            scene_cuts=scene_cuts,
            overwrite=overwrite,
        )
    retiming = factor not in (None, 1) or fps is not None
    # Without retiming no in-between frame is made: skip loading the learned engine.
    chosen = make_engine(engine, quality, weights) if retiming else ClassicalEngine(ClassicalConfig.fast())
    restorer = GifRestorer.from_folder(models) if restore else None
    with progress_bar("gif2video", quiet=quiet) as progress:
        result = gif2video(source, output, config, restorer=restorer, engine=chosen, progress=progress)
    if not quiet:
        r = result.retimed
        if result.level is None:
            what = "not restored"
        else:
            kind = "dithered" if result.dithered else "not dithered"
            sure = "" if result.dither_probability is None else f" (p={result.dither_probability:.2f})"
            what = f"{result.colors} colours, {kind}{sure}, {result.level}-colour model"
        stderr.print(
            f"wrote {r.output}: {r.frames_in} → {r.frames_out} frames, {float(r.duration_out):.3f} s ({what}) in {r.seconds:.1f} s",
            highlight=False,
        )


#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130
#: Exit status after SIGTERM (128 + SIGTERM).
TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so it stops as after Ctrl-C: writers remove
    their temporaries, batch workers are stopped."""


_terminated = False  # typer turns both interruptions into one exit code; this tells them apart


def _on_sigterm(signum, frame) -> None:
    global _terminated
    _terminated = True
    raise Terminated()


def _interrupted() -> int:
    """Say how the run was stopped; its exit status (128 + the signal)."""
    print("kinema: terminated" if _terminated else "kinema: interrupted", file=sys.stderr)
    return TERMINATED if _terminated else INTERRUPTED


def describe_os_error(exc: OSError) -> str:
    """One line for a failure of the system (disk full, read-only, permission denied)."""
    what = exc.strerror or str(exc) or type(exc).__name__
    return f"{what}: {exc.filename}" if exc.filename else what


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (also used by the tests)."""
    args = sys.argv[1:] if argv is None else list(argv)
    # Trained networks produce tiny activations; denormal arithmetic is many times slower on
    # x86 CPUs (measured: the GIF restorer 116 → 77 ms a frame, with bit-identical output).
    torch.set_flush_denormal(True)
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading.current_thread() is threading.main_thread() else None
    try:
        # Without standalone mode click hands back typer.Exit's code instead of exiting.
        status = app(args=args or ["--help"], prog_name="kinema", standalone_mode=False)
        if isinstance(status, int) and status:
            # typer turns Ctrl-C into this code, silently
            return _interrupted() if status == INTERRUPTED else status
    except KinemaError as exc:
        print(f"kinema: error: {exc}", file=sys.stderr)
        return 1
    except _NoArgsIsHelp as exc:  # a command group alone: its help, as `--help` shows it
        print(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        return 2
    except _UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "kinema"
        print(f"kinema: error: {exc.format_message()} (see '{where} --help')", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return _interrupted() if exc.exit_code == INTERRUPTED else exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return _interrupted()
    except OSError as exc:  # the system refused: disk full, read-only, no permission
        print(f"kinema: error: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
