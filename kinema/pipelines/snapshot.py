"""Video snapshots: a clip embedded in one picture, expanded back, and previews of long videos.

* :func:`embed` — k frames of a video, GIF or image sequence (from ``start``, every
  ``stride``-th) → one 8-bit picture that looks like the middle frame
  (:mod:`kinema.io.snapshot_file`: PNG, or JPEG for the JPEG-robust model).
* :func:`expand` — the k frames back, then ``factor``× more by an interpolation engine,
  written as video, GIF or frames at ``factor`` × the embedded frames' rate.
* :func:`preview` — ``count`` snapshots spread over a long video, tiled into one sheet;
  :func:`expand` plays the tiles one after the other (no interpolation across tiles: they
  are different moments of the video).

The weights are found by name in a folder (default: the shipped ``kinema/weights``):
``snapshot-{k}.safetensors`` and the JPEG-robust ``snapshot-{k}-jpeg.safetensors``. A
snapshot records the name and the weights' digest, so it is only ever expanded by the
network that made it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import torch

from kinema import weights
from kinema.engines.base import Engine
from kinema.io.atomic import check_output
from kinema.io.output import OutputOptions, Timeline, open_writer, output_kind
from kinema.io.pixels import flatten
from kinema.io.probe import open_reader, probe
from kinema.io.snapshot_file import SUFFIXES, NoSnapshotMetadata, SnapshotInfo, read_picture, read_snapshot, write_snapshot
from kinema.models.checkpoint import tensor_digest
from kinema.models.snapshot import SnapshotNet
from kinema.models.snapshot.objective import refine
from kinema.ops.codec import jpeg_approx, round_8bit
from kinema.ops.metrics import psnr
from kinema.ops.resize import fit_within
from kinema.pipelines.convert import Progress
from kinema.types import BadInputError, Frame, MediaInfo, ModelMismatchError


def load_model(name: str, folder: Path | None = None, *, device: torch.device | str = "cpu") -> tuple[SnapshotNet, str]:
    """``(network, digest)`` of the weights ``name`` in ``folder``."""
    path = Path(folder or weights.FOLDER) / f"{name}.safetensors"
    if not path.is_file():
        raise BadInputError(f"{path}: no snapshot weights named {name!r}")
    net, _ = SnapshotNet.load(path, map_location=device)
    return net, tensor_digest(net.state_dict())[:16]


@dataclass(frozen=True)
class EmbedConfig:
    start: int = 0
    stride: int = 1
    #: Longer side of the snapshot (frames are scaled down to fit; None: source size).
    max_side: int | None = None
    #: JPEG quality when the output is .jpg.
    quality: int = 90
    #: Steps of per-clip optimization of the snapshot after the embedder (see
    #: :func:`kinema.models.snapshot.objective.refine`); 0: the embedder's output as is.
    refine: int = 20
    overwrite: bool = False

    def __post_init__(self):
        if self.start < 0 or self.stride < 1:
            raise ValueError(f"start must be ≥ 0 and stride ≥ 1, got {self.start} and {self.stride}")
        if self.max_side is not None and self.max_side < 16:
            raise ValueError(f"max_side must be ≥ 16, got {self.max_side}")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"quality must be in 1..100, got {self.quality}")
        if self.refine < 0:
            raise ValueError(f"refine must be ≥ 0 steps, got {self.refine}")


@dataclass(frozen=True)
class EmbedResult:
    output: Path
    info: SnapshotInfo
    #: PSNR of each written snapshot against its middle frame (dB).
    snapshot_psnr: list[float]
    seconds: float


def read_windows(source: Path, starts: list[int], frames: int, stride: int, max_side: int | None) -> list[torch.Tensor]:
    """Clips ``(k, 3, H, W)`` of ``source`` starting at each of ``starts`` (frames every
    ``stride``, alpha flattened onto black, scaled to fit ``max_side``), in one pass."""
    wanted = {s + i * stride: [] for s in starts for i in range(frames)}
    last = max(wanted)
    for frame in open_reader(source):
        if frame.index in wanted:
            wanted[frame.index] = fit_within(flatten(frame.image, frame.alpha)[None], max_side)[0]
        if frame.index >= last:
            break
    if not isinstance(wanted[last], torch.Tensor):
        seen = sum(isinstance(v, torch.Tensor) for v in wanted.values())
        raise BadInputError(f"{source}: needs frame {last} (frames {frames} × stride {stride} from {min(starts)}), read only {seen} of them")
    return [torch.stack([wanted[s + i * stride] for i in range(frames)]) for s in starts]


def embed_clip(net: SnapshotNet, clip: torch.Tensor, *, refine_steps: int = 0, jpeg_quality: int | None = None) -> torch.Tensor:
    """The 8-bit snapshot ``(3, H, W)`` of ``clip`` ``(k, 3, H, W)`` (on the net's device),
    refined for ``refine_steps`` steps through the channel it will be stored in."""
    with torch.no_grad():
        snapshot, _ = net.embed(clip[None])
    if refine_steps:
        channel = round_8bit if jpeg_quality is None else (lambda x: jpeg_approx(x, jpeg_quality))
        snapshot = refine(net, clip[None], snapshot, steps=refine_steps, channel=channel)
    return round_8bit(snapshot)[0]


def _is_jpeg(output: Path) -> bool:
    return SUFFIXES[output.suffix.lower()] == "JPEG"


def _suffix_check(output: Path) -> None:
    if output.suffix.lower() not in SUFFIXES:
        raise BadInputError(f"{output}: a snapshot is written as .png (lossless) or .jpg")


def _embed_sheet(
    source: Path, info: MediaInfo, output: Path, config: EmbedConfig, starts: list[int], *, model: str, net: SnapshotNet, digest: str, device, progress: Progress | None
) -> EmbedResult:
    """Embed the window at each of ``starts`` of ``source`` (probed as ``info``) and write
    them as one picture: a sheet of ``ceil(√n)`` columns (unused cells black); one window
    is a plain snapshot."""
    started = time.perf_counter()
    k = net.config.frames
    clips = read_windows(source, starts, k, config.stride, config.max_side)
    jpeg_quality = config.quality if _is_jpeg(output) else None
    tiles, scores = [], []
    for i, clip in enumerate(clips):
        tile = embed_clip(net, clip.to(device), refine_steps=config.refine, jpeg_quality=jpeg_quality).cpu()
        tiles.append(tile)
        scores.append(float(psnr(tile[None], clip[net.config.middle][None])[0]))
        if progress is not None:
            progress(i + 1, len(clips))
    h, w = tiles[0].shape[-2:]
    columns = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    sheet = torch.zeros(3, rows * h, columns * w)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[:, r * h : (r + 1) * h, c * w : (c + 1) * w] = tile
    meta = SnapshotInfo(
        frames=k, model=model, digest=digest, fps=str(info.average_fps / config.stride), stride=config.stride,
        starts=tuple(starts), source=source.name, source_size=(info.width, info.height),
        size=(columns * w, rows * h), tile=(w, h), grid=(columns, rows),
    )  # fmt: skip
    path = write_snapshot(output, sheet, meta, quality=config.quality, overwrite=config.overwrite)
    return EmbedResult(path, meta, scores, time.perf_counter() - started)


def embed(
    source: Path, output: Path, config: EmbedConfig, *, model: str, net: SnapshotNet, digest: str, device: torch.device | str = "cpu"
) -> EmbedResult:
    """Embed ``net.config.frames`` frames of ``source`` into the picture ``output``."""
    source, output = Path(source), Path(output)
    _suffix_check(output)
    check_output(output, overwrite=config.overwrite, inputs=(source,))
    return _embed_sheet(source, probe(source), output, config, [config.start], model=model, net=net, digest=digest, device=device, progress=None)


def preview(
    source: Path,
    output: Path,
    config: EmbedConfig,
    *,
    count: int,
    model: str,
    net: SnapshotNet,
    digest: str,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> EmbedResult:
    """``count`` snapshots spread evenly over ``source`` (``config.start`` is ignored), tiled
    into a sheet of ``ceil(√count)`` columns; unused cells are black."""
    source, output = Path(source), Path(output)
    _suffix_check(output)
    if count < 1:
        raise ValueError(f"count must be ≥ 1, got {count}")
    check_output(output, overwrite=config.overwrite, inputs=(source,))
    k = net.config.frames
    span = (k - 1) * config.stride + 1
    info = probe(source)
    if info.frame_count < span:
        raise BadInputError(f"{source}: {info.frame_count} frames, a snapshot of {k} frames at stride {config.stride} needs {span}")
    last = info.frame_count - span
    starts = sorted({round(i * last / max(count - 1, 1)) for i in range(count)})
    return _embed_sheet(source, info, output, config, starts, model=model, net=net, digest=digest, device=device, progress=progress)


@dataclass(frozen=True)
class ExpandResult:
    output: Path
    info: SnapshotInfo
    frames_out: int
    rate: Fraction
    seconds: float


def decode_tiles(image: torch.Tensor, info: SnapshotInfo, net: SnapshotNet, device) -> list[torch.Tensor]:
    """The k frames ``(k, 3, h, w)`` of every tile of a snapshot picture ``(3, H, W)``."""
    w, h = info.tile
    columns = info.grid[0]
    out = []
    with torch.no_grad():
        for i in range(info.count):
            r, c = divmod(i, columns)
            tile = image[:, r * h : (r + 1) * h, c * w : (c + 1) * w]
            out.append(net.expand(tile[None].to(device))[0].cpu())
    return out


def open_snapshot(
    snapshot: Path, *, models: Path | None = None, device: torch.device | str = "cpu", without_metadata: str | None = None
) -> tuple[torch.Tensor, SnapshotInfo, SnapshotNet]:
    """``(picture (3, H, W), info, network)`` of a snapshot file, checked: the weights it
    names, with the digest it records (see :func:`expand` for ``without_metadata``)."""
    net = None
    try:
        image, info = read_snapshot(snapshot)
    except NoSnapshotMetadata:
        if without_metadata is None:
            raise
        image = read_picture(snapshot)
        net, digest = load_model(without_metadata, models, device=device)
        size = (image.shape[2], image.shape[1])
        info = SnapshotInfo(frames=net.config.frames, model=without_metadata, digest=digest, fps="25/1", stride=1, starts=(0,),
                            source=snapshot.name, source_size=size, size=size, tile=size)  # fmt: skip
    if net is None:
        net, digest = load_model(info.model, models, device=device)
    if digest != info.digest:
        raise ModelMismatchError(f"{snapshot}: made by other {info.model!r} weights (digest {info.digest}, these are {digest})")
    if net.config.frames != info.frames:
        raise ModelMismatchError(
            f"{snapshot}: its metadata says {info.frames} frames, but the {info.model!r} weights it names make "
            f"{net.config.frames}: the metadata was edited or damaged"
        )
    return image, info, net


def smoothed(frames: torch.Tensor, factor: int, engine: Engine, device) -> Iterator[torch.Tensor]:
    """One tile's frames ``(k, 3, h, w)`` with ``factor − 1`` in-betweens by ``engine``
    after each but the last, one ``(3, h, w)`` frame at a time."""
    for i in range(len(frames)):
        yield frames[i]
        if i + 1 < len(frames) and factor > 1:
            a, b = frames[i][None].to(device), frames[i + 1][None].to(device)
            yield from engine.interpolate(a, b, [j / factor for j in range(1, factor)])[0].cpu()


def expand(
    snapshot: Path,
    output: Path,
    *,
    factor: int = 1,
    fps: Fraction | None = None,
    engine: Engine,
    models: Path | None = None,
    output_options: OutputOptions = OutputOptions(),
    overwrite: bool = False,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
    without_metadata: str | None = None,
) -> ExpandResult:
    """Expand ``snapshot`` (a picture written by :func:`embed` or :func:`preview`) into
    ``output``: every tile's k frames with ``factor − 1`` interpolated frames between each
    pair, at ``factor`` × the embedded frames' rate (real time), or at ``fps`` (e.g. the
    embedded rate: ``factor`` × slower, a longer preview).

    ``without_metadata``: the weights to expand a picture with when its metadata is gone
    (re-saved by another program): it is taken as one whole snapshot of those weights'
    frame count, embedded at 25 frames/s unless ``fps`` says otherwise."""
    snapshot, output = Path(snapshot), Path(output)
    if not isinstance(factor, int) or factor < 1:
        raise ValueError(f"factor must be a whole number ≥ 1, got {factor}")
    output_kind(output)
    check_output(output, overwrite=overwrite, inputs=(snapshot,))
    started = time.perf_counter()
    image, info, net = open_snapshot(snapshot, models=models, device=device, without_metadata=without_metadata)
    if fps is not None and fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    rate = Fraction(fps) if fps is not None else info.rate * factor
    per_tile = (info.frames - 1) * factor + 1
    total = per_tile * info.count
    writer = open_writer(output, Timeline(time_base=1 / rate, rate=rate), options=output_options, overwrite=overwrite)
    written = 0
    with writer:
        for frames in decode_tiles(image, info, net, device):
            for image_t in smoothed(frames, factor, engine, device):
                writer.write(Frame(image=image_t.clamp(0, 1), pts=Fraction(written) / rate, duration=1 / rate, index=written))
                written += 1
                if progress is not None:
                    progress(written, total)
    return ExpandResult(output, info, written, rate, time.perf_counter() - started)
