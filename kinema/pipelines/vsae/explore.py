"""Looking at a video through its autoencoder: the latent map, clusters, summaries, paths.

* :func:`latent_map` — every frame's latent code projected on the codes' first two
  principal axes (the paper's Figure 1), the time path, thumbnails; with ``clusters``,
  k-means on the codes (scaled to unit length) and a contact sheet per cluster, led by
  the cluster's summary.
* :func:`summary` — one picture per segment of the video: the decoded average of the
  segment's latent codes, sharpened by iterative reprojection (the paper's Eq. 7 and
  Figure 4). With ``compare`` the sheet also shows the per-pixel average and the average
  before reprojection, and the result says how close each comes to a real frame.
* :func:`summarize_selection` — the same summary for any set of frames picked on the map,
  with its medoid; :func:`resample_path`, :func:`codes_at` and :func:`decode_codes` turn
  a path drawn on the map into frames (``kinema view`` uses all of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import torch

from kinema.io.atomic import check_output
from kinema.ops.latent import kmeans, pca_2d, purity, unit_length
from kinema.ops.metrics import psnr
from kinema.pipelines.vsae.figures import draw_map, draw_sheet
from kinema.pipelines.vsae.fit import Footage, VideoModel, encode_all, open_model_and_video
from kinema.types import BadInputError, UnsupportedFormatError


def cluster_sheet_path(output: Path, cluster: int) -> Path:
    """Where the contact sheet of ``cluster`` (0-based) goes, beside the map."""
    output = Path(output)
    return output.with_name(f"{output.stem}-cluster-{cluster + 1}{output.suffix}")


def spread_thumbnails(coords: torch.Tensor, count: int) -> list[int]:
    """Up to ``count`` frames to show as thumbnails: spread over time, but skipping a frame
    whose dot lies too close to one already chosen (the thumbnails would cover each other)."""
    n = len(coords)
    if count < 1 or n == 0:
        return []
    span = (coords.max(0).values - coords.min(0).values).clamp_min(1e-12)
    xy = (coords - coords.min(0).values) / span  # both axes in [0, 1], as the plot shows them
    chosen: list[int] = []
    for i in torch.linspace(0, n - 1, min(n, 4 * count)).round().long().tolist():
        if len(chosen) < count and all(float((xy[i] - xy[j]).norm()) > 0.12 for j in chosen):
            chosen.append(i)
    return sorted(chosen)


@dataclass(frozen=True)
class MapResult:
    output: Path
    #: ``(N, 2)`` PCA coordinates of every frame, and each axis' share of the variance.
    coords: torch.Tensor
    explained: torch.Tensor
    #: ``(N,)`` cluster of every frame (None without clusters), and the sheets written.
    labels: torch.Tensor | None = None
    sheets: tuple[Path, ...] = ()
    #: A collection's: the video of every frame, and how purely the clusters recover
    #: them (:func:`kinema.ops.latent.purity`; None without clusters).
    videos: torch.Tensor | None = None
    purity: float | None = None


@torch.no_grad()
def decode_average(vm: VideoModel, codes: torch.Tensor, *, reproject: int) -> torch.Tensor:
    """``g(mean(codes))`` reprojected ``reproject`` times: ``(3, h, w)``."""
    return decode_codes(vm, codes.mean(0, keepdim=True), reproject=reproject)[0]


def latent_map(
    model: Path,
    source: Path | list[Path],
    output: Path,
    *,
    clusters: int | None = None,
    thumbnails: int = 12,
    reproject: int = 5,
    device: torch.device | str = "cpu",
    fps: Fraction | None = None,
    overwrite: bool = False,
) -> MapResult:
    """Draw the latent map of ``source`` (the video ``model`` was fit on, or the list of
    videos of a collection: then the dots are coloured by video) to ``output`` (PNG)."""
    output = Path(output)
    if output.suffix.lower() != ".png":
        raise UnsupportedFormatError(f"{output}: the map is written as .png")
    if clusters is not None and clusters < 1:
        raise ValueError(f"clusters must be ≥ 1, got {clusters}")
    sheets = [cluster_sheet_path(output, c) for c in range(clusters or 0)]
    sources = [Path(s) for s in source] if isinstance(source, (list, tuple)) else [Path(source)]
    for path in (output, *sheets):
        check_output(path, overwrite=overwrite, inputs=(*sources, Path(model)))
    vm, footage = open_model_and_video(model, source, device=device, fps=fps)
    codes = encode_all(vm, footage)
    n = len(codes)
    if clusters is not None and clusters > n:
        raise BadInputError(f"{vm.meta['source']['name']}: cannot make {clusters} clusters of {n} frames")
    coords, explained = pca_2d(codes)
    picks = spread_thumbnails(coords, thumbnails)
    try:
        # On unit-length codes: their direction, as the loops' cosine similarity compares
        # them (a collection's videos came apart more purely so: docs/models/video_ae.md).
        labels = kmeans(unit_length(codes), clusters)[0] if clusters else None
    except ValueError as exc:  # e.g. a still video: fewer distinct codes than clusters
        raise BadInputError(f"{vm.meta['source']['name']}: {exc}") from None
    fit_on = f"{len(footage.videos)} videos" if footage.videos else vm.meta["source"]["name"]
    title = f"{fit_on}: latent codes of {n} frames ({vm.path.name})"
    thumbs = {i: footage.as_float([i])[0] for i in picks}
    videos = torch.tensor(footage.video_of) if footage.videos else None
    if videos is None:
        draw_map(output, coords, explained, thumbs, labels=labels, title=title, overwrite=overwrite)
    else:
        starts = [footage.video_of.index(k) for k in range(1, len(footage.videos))]
        draw_map(output, coords, explained, thumbs, labels=videos, names=list(footage.videos), breaks=starts, title=title, overwrite=overwrite)
    for c, path in enumerate(sheets):
        members = (labels == c).nonzero().flatten()
        shown = members[torch.linspace(0, len(members) - 1, min(23, len(members))).round().long()].tolist()
        tiles = [(decode_average(vm, codes[members], reproject=reproject), f"summary of {len(members)} frames")]
        tiles += [(footage.as_float([i])[0], f"frame {i}") for i in shown]
        draw_sheet(path, tiles, columns=6, title=f"cluster {c + 1} of {clusters}: {len(members)} frames", overwrite=overwrite)
    score = purity(labels, videos) if labels is not None and videos is not None else None
    return MapResult(output=output, coords=coords, explained=explained, labels=labels, sheets=tuple(sheets), videos=videos, purity=score)


@dataclass(frozen=True)
class SegmentSummary:
    first: int
    last: int
    #: PSNR (dB) of each picture against the segment frame it is closest to: how much
    #: the summary looks like something the video really shows.
    nearest_psnr: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SummaryResult:
    output: Path
    segments: tuple[SegmentSummary, ...]


def _nearest_psnr(image: torch.Tensor, frames: torch.Tensor) -> float:
    return float(psnr(image[None].expand_as(frames), frames).max())


def summary(
    model: Path,
    source: Path,
    output: Path,
    *,
    segments: int = 4,
    reproject: int = 5,
    compare: bool = False,
    device: torch.device | str = "cpu",
    fps: Fraction | None = None,
    overwrite: bool = False,
) -> SummaryResult:
    """One summary picture per equal segment of ``source``, tiled into ``output`` (PNG)."""
    output = Path(output)
    if output.suffix.lower() != ".png":
        raise UnsupportedFormatError(f"{output}: the summary is written as .png")
    if segments < 1 or reproject < 0:
        raise ValueError("segments must be ≥ 1 and reproject ≥ 0")
    check_output(output, overwrite=overwrite, inputs=(Path(source), Path(model)))
    vm, footage = open_model_and_video(model, source, device=device, fps=fps)
    codes = encode_all(vm, footage)
    n = len(codes)
    if segments > n:
        raise BadInputError(f"{source}: cannot make {segments} segments of {n} frames")
    bounds = torch.linspace(0, n, segments + 1).round().long().tolist()
    tiles, results = [], []
    for first, end in zip(bounds, bounds[1:]):
        frames = footage.as_float(slice(first, end))
        pictures = {f"latent average, {reproject} reprojections": decode_average(vm, codes[first:end], reproject=reproject)}
        if compare:
            pictures["latent average"] = decode_average(vm, codes[first:end], reproject=0)
            pictures["pixel average"] = frames.mean(0)
        results.append(SegmentSummary(first=first, last=end - 1, nearest_psnr={k: _nearest_psnr(v, frames) for k, v in pictures.items()}))
        span = _span(footage, first, end - 1)
        tiles += [(image, f"{name}\nframes {first}–{end - 1} ({span})") for name, image in pictures.items()]
    columns = 3 if compare else min(segments, 4)
    draw_sheet(output, tiles, columns=columns, title=f"{vm.meta['source']['name']}: {segments} segment summaries", overwrite=overwrite)
    return SummaryResult(output=output, segments=tuple(results))


def _span(footage: Footage, first: int, last: int) -> str:
    start = footage.times[0][0]
    a = float(footage.times[first][0] - start)
    b = float(footage.times[last][0] + footage.times[last][1] - start)
    return f"{a:.1f}–{b:.1f} s"


@dataclass(frozen=True)
class Selection:
    """The summary of frames picked on the latent map (the paper's Figure 5)."""

    #: ``(3, h, w)``: the decoded average of the picked frames' codes, reprojected.
    image: torch.Tensor
    #: The picked frame whose code is closest to their average (the figure's medoid).
    medoid: int
    #: PSNR (dB) of the summary against the picked frame most like it.
    nearest_psnr: float


@torch.no_grad()
def summarize_selection(vm: VideoModel, codes: torch.Tensor, footage: Footage, picked: list[int], *, reproject: int = 5) -> Selection:
    """The summary of the frames ``picked`` (indices into ``codes`` ``(N, C, h', w')`` and
    the ``footage`` they encode) — any set, not only a segment of the video."""
    if not picked:
        raise ValueError("no frames picked")
    index = sorted(set(picked))
    chosen = codes[index]
    image = decode_average(vm, chosen, reproject=reproject)
    centre = chosen.flatten(1).mean(0, keepdim=True)
    medoid = index[int(torch.cdist(chosen.flatten(1).double(), centre.double()).argmin())]
    return Selection(image=image, medoid=medoid, nearest_psnr=_nearest_psnr(image, footage.as_float(index)))


def resample_path(points: torch.Tensor, count: int, *, loop: bool) -> torch.Tensor:
    """``count`` points ``(count, 2)`` evenly spaced by length along the polyline ``points``
    ``(P, 2)``. A loop runs back to its first point and stops one step short of it, so
    the output repeats seamlessly; a one-shot includes both ends."""
    points = points.to(torch.float64)
    if points.dim() != 2 or points.shape[1] != 2 or len(points) < 1 or count < 1:
        raise ValueError(f"a path is (P ≥ 1, 2) points and count ≥ 1, got {tuple(points.shape)} and {count}")
    if loop:
        points = torch.cat([points, points[:1]])
    steps = (points[1:] - points[:-1]).norm(dim=1)
    along = torch.cat([torch.zeros(1, dtype=torch.float64), steps.cumsum(0)])
    total = float(along[-1])
    if total == 0:
        return points[:1].expand(count, 2).clone()
    wanted = torch.linspace(0, total, count + 1 if loop else count, dtype=torch.float64)[:count]
    segment = (torch.searchsorted(along, wanted, right=True) - 1).clamp(0, len(steps) - 1)
    share = ((wanted - along[segment]) / steps[segment].clamp_min(1e-300)).clamp(0, 1)
    return points[segment] + share[:, None] * (points[segment + 1] - points[segment])


def codes_at(coords: torch.Tensor, codes: torch.Tensor, points: torch.Tensor, *, neighbours: int = 4) -> torch.Tensor:
    """A latent code ``(M, C, h', w')`` for each map position in ``points`` ``(M, 2)``: the
    codes of the frames drawn nearest it (``coords`` ``(N, 2)``) averaged with Gaussian
    weights. The map is a projection and cannot be inverted, so a position stands for the
    frames shown around it. The weights' width is a third of the typical step between
    consecutive frames on the map: on a frame's dot the code is (nearly) that frame's, and
    a path between two frames blends them (the paper's Figure 7) instead of snapping from
    one to the other."""
    coords = coords.to(torch.float64)
    steps = (coords[1:] - coords[:-1]).norm(dim=1)
    sigma = float(steps.median()) / 3 if len(steps) else 1.0
    sigma = sigma if sigma > 0 else 1.0
    distance = torch.cdist(points.to(torch.float64), coords)
    near, index = distance.topk(min(neighbours, len(coords)), dim=1, largest=False)
    weights = torch.softmax(-(near**2) / (2 * sigma**2), dim=1).to(codes.dtype)
    return (weights[:, :, None] * codes.flatten(1)[index]).sum(1).view(len(points), *codes.shape[1:])


@torch.no_grad()
def decode_codes(vm: VideoModel, codes: torch.Tensor, *, reproject: int = 5, batch: int = 16) -> torch.Tensor:
    """Frames ``(M, 3, h, w)`` on the CPU drawn from latent codes ``(M, C, h', w')``, each
    pulled onto the video's manifold by ``reproject`` reprojections."""
    device = next(vm.net.parameters()).device
    out = [vm.net.reproject(vm.net.decode(codes[i : i + batch].to(device), vm.size), reproject).cpu() for i in range(0, len(codes), batch)]
    return torch.cat(out)
