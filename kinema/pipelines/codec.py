"""``kinema codec``: a video to a ``.kvc`` stream and back.

:func:`encode_video` reads any input kinema reads, codes it frame by frame (I-frame every
``gop`` frames, P-frames between) and writes packets as they come, so memory stays flat in
video length. ``bpp`` picks the quality level by coding the first GOP at each level;
``adapt`` tunes the encoder's transforms to this video first (the decoder, its gains and
its tables stay as shipped, so any kinema decoder reads the stream).
:func:`decode_video` writes the frames with the stream's exact timestamps; a damaged
stream is decoded up to the damaged frame, what came before is kept, and the error says
where.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import torch

from kinema.engines.codec import CodecEngine, adapt_encoder
from kinema.io.atomic import check_output
from kinema.io.kvc_file import INTRA, DamagedStreamError, KvcReader, KvcWriter, Packet, StreamHeader
from kinema.io.output import OutputOptions, Timeline, open_writer, output_kind
from kinema.io.probe import open_reader
from kinema.models.codec import VideoCodec
from kinema.pipelines.convert import Progress
from kinema.types import BadInputError, Frame, MediaInfo, UnsupportedFormatError

DEFAULT_GOP = 12


@dataclass(frozen=True)
class EncodeResult:
    output: Path
    frames: int
    bytes: int
    #: Bits per pixel of the whole file (header and index included).
    bpp: float
    level: int
    audio: str
    seconds: float


@dataclass(frozen=True)
class DecodeResult:
    output: Path
    frames: int
    seconds: float
    #: Why decoding stopped early (a damaged stream), else None.
    damage: str | None = None


def load_engine(weights: Path | None = None, *, device: str | torch.device = "cpu") -> CodecEngine:
    """The shipped codec (or ``weights``) ready to code on ``device``."""
    if weights is None:
        from kinema.weights import CODEC

        codec, _ = CODEC.load()
    else:
        codec, _ = VideoCodec.load(Path(weights))
    return CodecEngine(codec, device=device)


def _level_for_rate(engine: CodecEngine, source: Path, info: MediaInfo, bpp: float, gop: int) -> int:
    """The highest level whose first GOP costs at most ``bpp`` (the lowest if none does)."""
    frames = [f.image[None] for _, f in zip(range(gop), open_reader(source, info=info), strict=False)]
    if not frames:
        raise BadInputError(f"{source}: no frames")
    chosen = 1
    for level in range(1, engine.levels + 1):
        encoder = engine.encoder(level, gop)
        bits = sum(8 * len(encoder.push(f)[1]) for f in frames)
        if bits / (len(frames) * frames[0].shape[-1] * frames[0].shape[-2]) <= bpp:
            chosen = level
    return chosen


def _adaptation_runs(source: Path, info: MediaInfo, count: int, length: int = 3) -> list[torch.Tensor]:
    """Up to ``count`` runs of ``length`` consecutive frames ``(length, 1, 3, H, W)``, spread over the video."""
    total = max(info.frame_count, length)
    starts = sorted({round(i * (total - length) / max(count - 1, 1)) for i in range(count)})
    runs, current = [], []
    for index, frame in enumerate(open_reader(source, info=info)):
        if any(s <= index < s + length for s in starts):
            current.append(frame.image[None])
            if len(current) == length:
                runs.append(torch.stack(current))
                current = []
        elif current:
            current = []
    return runs


def encode_video(
    source: Path,
    output: Path,
    *,
    level: int | None = None,
    bpp: float | None = None,
    gop: int = DEFAULT_GOP,
    adapt: int = 0,
    engine: CodecEngine | None = None,
    device: str | torch.device = "cpu",
    overwrite: bool = False,
    progress: Progress | None = None,
    seed: int = 0,
) -> EncodeResult:
    """Code ``source`` into ``output`` (``.kvc``). ``level`` (1 = smallest file) or
    ``bpp`` (a target rate) sets the quality; ``adapt`` steps of encoder updating first."""
    source, output = Path(source), Path(output)
    if level is not None and bpp is not None:
        raise UnsupportedFormatError("give a quality level or a target rate (bpp), not both")
    if gop < 1 or adapt < 0:
        raise UnsupportedFormatError(f"gop must be at least 1 and adapt at least 0 (got {gop}, {adapt})")
    check_output(output, overwrite=overwrite, inputs=(source,))
    started = time.perf_counter()
    engine = engine or load_engine(device=device)
    reader = open_reader(source)
    info = reader.info
    if bpp is not None:
        level = _level_for_rate(engine, source, info, bpp, gop)
    level = (engine.levels + 1) // 2 if level is None else level  # the middle level by default
    if not 1 <= level <= engine.levels:
        raise UnsupportedFormatError(f"quality level must be 1…{engine.levels}, got {level}")
    if adapt:
        runs = _adaptation_runs(source, info, count=8)
        adapted = adapt_encoder(engine.codec, runs, level - 1, steps=adapt, generator=torch.Generator().manual_seed(seed))
        engine = CodecEngine(adapted, device=engine.device)
    audio = "dropped" if info.audio is not None or "audio_file" in info.extra else "none"
    header = StreamHeader(
        width=info.width, height=info.height, gop=gop, level=level, model=engine.digest, time_base=info.time_base,
        rate=info.fps or info.average_fps, constant_rate=not info.vfr, audio=audio,
    )  # fmt: skip
    encoder = engine.encoder(level, gop)
    count = 0
    with KvcWriter(output, header, overwrite=overwrite, inputs=(source,)) as writer:
        for frame in reader:
            intra, payload, _ = encoder.push(frame.image[None])
            writer.write(0 if intra else 1, _ticks(frame.pts, info.time_base), _ticks(frame.duration, info.time_base), payload)
            count += 1
            if progress is not None:
                progress(count, info.frame_count)
        if count == 0:
            raise BadInputError(f"{source}: no frames to code")
    size = output.stat().st_size
    return EncodeResult(output, count, size, 8 * size / (count * info.width * info.height), level, audio, time.perf_counter() - started)


def _ticks(seconds: Fraction, time_base: Fraction) -> int:
    return round(Fraction(seconds) / time_base)


def decode_video(
    source: Path,
    output: Path,
    *,
    engine: CodecEngine | None = None,
    device: str | torch.device = "cpu",
    start_gop: int = 0,
    output_options: OutputOptions = OutputOptions(),
    overwrite: bool = False,
    progress: Progress | None = None,
) -> DecodeResult:
    """Decode a ``.kvc`` stream to any output kinema writes. A damaged stream is decoded
    up to the damage and the result says so (``damage``); if nothing before it is sound,
    :class:`DamagedStreamError` is raised and nothing is written."""
    source, output = Path(source), Path(output)
    output_kind(output)
    check_output(output, overwrite=overwrite, inputs=(source,))
    started = time.perf_counter()
    with KvcReader(source) as reader:
        head = reader.header
        engine = engine or load_engine(device=device)
        decoder = engine.decoder(head.level, head.height, head.width, head.model)
        timeline = Timeline(time_base=head.time_base, rate=head.rate or Fraction(25), constant_rate=head.constant_rate)
        damage: list[str] = []
        packets = _until_damage(reader.packets(gop=start_gop), damage)
        first = next(packets, None)
        if first is None:  # nothing sound to write: no output at all
            raise DamagedStreamError(damage[0], 0) if damage else BadInputError(f"{source}: no frames")  # the reader names the file
        count = 0
        with open_writer(output, timeline, options=output_options, overwrite=overwrite) as writer:
            for packet in itertools.chain([first], packets):
                image = decoder.decode(packet.kind == INTRA, packet.payload)[0]
                pts, duration = packet.pts * head.time_base, max(packet.duration, 1) * head.time_base
                writer.write(Frame(image, pts=pts, duration=duration, index=count))
                count += 1
                if progress is not None:
                    progress(count, reader.frames)
    return DecodeResult(output, count, time.perf_counter() - started, damage[0] if damage else None)


def _until_damage(packets: Iterator[Packet], damage: list[str]) -> Iterator[Packet]:
    """``packets`` up to the first damaged one; its message is appended to ``damage``."""
    try:
        yield from packets
    except DamagedStreamError as exc:
        damage.append(str(exc))
