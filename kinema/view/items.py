"""The items of ``kinema view`` that run a network: snapshots (expanded on request) and
``kinema vsae`` models (their latent map, summaries of picked frames, videos along a
drawn path). Everything here runs inside a job (:mod:`kinema.view.jobs`), one at a time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from kinema.ops.latent import kmeans, pca_2d, unit_length
from kinema.io.snapshot_file import NoSnapshotMetadata, SnapshotInfo
from kinema.models.snapshot import SnapshotNet
from kinema.pipelines.snapshot import decode_tiles, open_snapshot, smoothed
from kinema.pipelines.vsae.explore import codes_at, decode_codes, resample_path, summarize_selection
from kinema.pipelines.vsae.fit import Footage, VideoModel, encode_all, read_collection, read_footage
from kinema.types import BadInputError
from kinema.view.catalog import Item, Report, State, png, to_pixels


@dataclass(eq=False)
class SnapshotItem(Item):
    """A snapshot picture or a preview sheet. ``tiles`` holds, once expanded, every
    tile's frames (uint8 ``(h, w, 3)``) at ``rate``."""

    device: str | torch.device = "cpu"
    image: torch.Tensor | None = None
    info: SnapshotInfo | None = None
    tiles: list[list[np.ndarray]] = field(default_factory=list)
    rate: float = 0.0
    kind = "snapshot"

    net: SnapshotNet | None = None

    @classmethod
    def open(cls, ident: str, path: Path, *, device) -> SnapshotItem:
        """A picture without kinema's metadata, or made by weights this kinema does not
        have, is refused here, with its own message (not later, on the first hover)."""
        try:
            image, info, net = open_snapshot(path, device=device)
        except NoSnapshotMetadata:
            raise BadInputError(f"{path}: not a snapshot (no kinema metadata): kinema view shows pictures made by 'kinema snapshot embed' or 'preview'") from None
        return cls(id=ident, name=path.name, path=Path(path), state=State.READY, progress=1.0, device=device, image=image, info=info, net=net)

    def describe(self) -> dict:
        info = self.info
        out = super().describe() | {"frames": info.frames, "grid": list(info.grid), "count": info.count, "tile": list(info.tile), "size": list(info.size)}
        out["source"], out["fps"] = info.source, float(info.rate)
        if self.tiles:
            out["expanded"] = {"frames": len(self.tiles[0]), "fps": self.rate}
        return out

    def still(self) -> bytes:
        return png(to_pixels(self.image))

    def expand(self, engine, factor: int, report: Report) -> dict:
        """Every tile's frames with ``factor − 1`` in-betweens by ``engine`` (the work of
        ``kinema snapshot expand``, kept in memory for the page)."""
        if not self.tiles:
            tiles = decode_tiles(self.image, self.info, self.net, self.device)
            done: list[list[np.ndarray]] = []
            for i, frames in enumerate(tiles):
                done.append([to_pixels(f) for f in smoothed(frames, factor, engine, self.device)])
                report((i + 1) / len(tiles))
            self.tiles, self.rate = done, float(self.info.rate * factor)
        return {"frames": len(self.tiles[0]), "fps": self.rate, "tiles": len(self.tiles)}


@dataclass(eq=False)
class ModelItem(Item):
    """A vsae model and the video it was fit on; after loading, every frame's code, its
    place on the map and its cluster."""

    videos: list[Path] = field(default_factory=list)
    #: The videos' sha256, taken once when they were checked.
    prints: list[str] = field(default_factory=list)
    device: str | torch.device = "cpu"
    clusters: int = 4
    vm: VideoModel | None = None
    footage: Footage | None = None
    codes: torch.Tensor | None = None
    coords: torch.Tensor | None = None
    explained: torch.Tensor | None = None
    labels: torch.Tensor | None = None
    kind = "model"

    @classmethod
    def open(cls, ident: str, vm: VideoModel, videos: list[Path], *, device) -> ModelItem:
        """The loaded model ``vm``, once ``videos`` are checked to be what it was fit on (by
        content, before anything is decoded): one video, or a collection's, in order."""
        from kinema.pipelines.vsae.fit import collection_fingerprint, source_fingerprint

        path = vm.path
        prints = [source_fingerprint(Path(v)) for v in videos]
        if len(videos) == 1:
            vm.check(videos[0], prints[0])
        else:
            vm.check(f"{len(videos)} videos ({', '.join(Path(v).name for v in videos)})", collection_fingerprint(prints))
        return cls(id=ident, name=path.name, path=Path(path), videos=[Path(v) for v in videos], device=device, vm=vm, prints=prints)

    def describe(self) -> dict:
        out = super().describe() | {"video": ", ".join(v.name for v in self.videos), "size": list(self.vm.size)[::-1]}
        if self.state is State.READY:
            out |= {"frames": len(self.codes), "clusters": self.clusters}
        return out

    def load(self, report: Report) -> None:
        if len(self.videos) == 1:
            self.footage = read_footage(self.videos[0], size=self.vm.size, fingerprint=self.prints[0])
        else:
            self.footage = read_collection(self.videos, size=self.vm.size, fingerprints=self.prints)
        report(0.3)
        self.codes = encode_all(self.vm, self.footage)
        report(0.8)
        self.coords, self.explained = pca_2d(self.codes)
        self.clusters = min(self.clusters, len(self.codes))
        try:
            self.labels = kmeans(unit_length(self.codes), self.clusters)[0]
        except ValueError:  # fewer distinct codes than clusters (a still video): one cluster
            self.clusters, self.labels = 1, torch.zeros(len(self.codes), dtype=torch.long)

    def frame(self, index: int) -> bytes:
        return png(self.footage.frames[index].permute(1, 2, 0).contiguous().numpy())

    def map(self) -> dict:
        """Every frame's place, cluster and time (from the start of its own video); a
        collection's also its video."""
        footage = self.footage
        video_of = footage.video_of or (0,) * len(self.codes)
        starts = {}
        for i, k in enumerate(video_of):
            starts.setdefault(k, footage.times[i][0])
        points = []
        for i, ((x, y), c) in enumerate(zip(self.coords.tolist(), self.labels.tolist())):
            point = {"x": round(float(x), 6), "y": round(float(y), 6), "cluster": int(c), "t": round(float(footage.times[i][0] - starts[video_of[i]]), 4)}
            if footage.videos:
                point["video"] = video_of[i]
            points.append(point)
        out = {"points": points, "explained": [round(float(v), 4) for v in self.explained], "clusters": self.clusters}
        return out | ({"videos": list(footage.videos)} if footage.videos else {})

    def summary(self, picked: list[int], report: Report, *, reproject: int = 5) -> tuple[dict, bytes]:
        """The picked frames' summary (PNG) and what the page says of it."""
        picked = sorted(set(picked))
        if not picked or picked[0] < 0 or picked[-1] >= len(self.codes):
            raise BadInputError(f"frames must be between 0 and {len(self.codes) - 1}")
        result = summarize_selection(self.vm, self.codes, self.footage, picked, reproject=reproject)
        report(1.0)
        return {"frames": len(picked), "medoid": result.medoid, "nearest_psnr": round(result.nearest_psnr, 2)}, png(to_pixels(result.image))

    def follow(self, points: list[list[float]], *, seconds: float, fps: int, loop: bool, report: Report, reproject: int = 5) -> tuple[dict, bytes]:
        """A WebM video (VP8) of ``seconds`` at ``fps`` whose frames follow ``points`` drawn on
        the map: a loop returns to its start and repeats seamlessly."""
        count = max(1, round(seconds * fps))
        at = resample_path(torch.tensor(points, dtype=torch.float64), count, loop=loop)
        codes = codes_at(self.coords, self.codes, at)
        frames = []
        for start in range(0, count, 8):
            frames.append(decode_codes(self.vm, codes[start : start + 8], reproject=reproject))
            report(min(count, start + 8) / count * 0.9)
        data = webm(torch.cat(frames), fps)
        nearest = torch.cdist(at, self.coords.to(torch.float64)).argmin(1).tolist()
        return {"frames": count, "fps": fps, "loop": loop, "nearest": nearest}, data


def webm(frames: torch.Tensor, fps: int) -> bytes:
    """Frames ``(N, 3, h, w)`` in [0, 1] as a WebM file (VP8, which every browser plays)."""
    h, w = frames.shape[-2:]
    out = io.BytesIO()
    with av.open(out, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=Fraction(fps))
        stream.width, stream.height = w + w % 2, h + h % 2  # 4:2:0 needs even sizes
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "8", "b": "4M", "deadline": "good", "cpu-used": "4"}
        for i, image in enumerate(frames):
            pixels = np.pad(to_pixels(image), ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return out.getvalue()
