"""What ``kinema view`` shows: the files named on its command line, as items with ids.

The catalogue is built from paths once, before the server starts; a request names an
item by its id and never by a path, so no request can reach a file that was not named.
Every input is checked while the catalogue is built (bad input stops ``kinema view``
with one line, as any command); the heavy part — decoding frames, encoding a video with
its autoencoder — happens later in :meth:`Catalog.loads`, as jobs whose progress the page
shows.

Kinds of item:

* :class:`VideoItem` — a video, GIF or image sequence: its frames held in memory at a
  display size (longer side ≤ ``display_side``) within a memory budget, with their times.
* :class:`Pair` — two videos compared; when they have the same timing, the PSNR of every
  frame pair at full size (8-bit RGB, peak 255).
* :class:`SnapshotItem` — a snapshot picture or preview sheet; its expansion is made on
  request (:meth:`SnapshotItem.expand`).
* :class:`ModelItem` — a ``kinema vsae`` model with the video it was fit on: the latent map
  (PCA of every frame's code), k-means clusters, summaries of picked frames and videos
  that follow a path drawn on the map.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from kinema.io.probe import input_kind, open_reader, probe
from kinema.io.snapshot_file import SUFFIXES as PICTURE_SUFFIXES
from kinema.types import BadInputError, MediaInfo

#: Reports the share done (0–1) of a job; raises if the job was cancelled.
Report = Callable[[float], None]


class State(str, enum.Enum):
    WAITING = "waiting"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class Limits:
    """What the server holds and accepts; every bound in one place."""

    #: Longer side of the frames the page is sent.
    display_side: int = 960
    #: Bytes of display frames held for all videos together; a longer video is held up
    #: to its share and the page says how many of its frames it shows.
    frame_budget: int = 2 << 30
    #: Largest request body (bytes): a drawn path or a frame list is a few kilobytes.
    max_body: int = 256 << 10
    #: Jobs asked for by requests and not yet finished; more are refused (429).
    max_pending: int = 4
    #: A path video's longest duration (s) and highest rate, and a snapshot's factor.
    max_seconds: float = 20.0
    max_fps: int = 60
    expand_factor: int = 2


def png(pixels: np.ndarray) -> bytes:
    """``(H, W, 3)`` uint8 RGB → PNG bytes (fast compression: the page is on this machine)."""
    ok, data = cv2.imencode(".png", np.ascontiguousarray(pixels[..., ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return data.tobytes()


def to_pixels(image) -> np.ndarray:
    """A float image ``(3, H, W)`` in [0, 1] (torch) → ``(H, W, 3)`` uint8."""
    return image.clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).contiguous().numpy()


def display_size(width: int, height: int, side: int) -> tuple[int, int]:
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass(eq=False)
class Item:
    id: str
    name: str
    path: Path
    state: State = State.WAITING
    progress: float = 0.0
    #: What the page should say about the item (why it failed, what is not shown).
    message: str = ""
    kind = ""

    def describe(self) -> dict:
        return {"id": self.id, "kind": self.kind, "name": self.name, "state": self.state.value, "progress": round(self.progress, 3), "message": self.message}


@dataclass(eq=False)
class VideoItem(Item):
    info: MediaInfo | None = None
    frames: list[np.ndarray] = field(default_factory=list)
    #: Start time (s, from the first frame) and duration of every held frame.
    times: list[tuple[float, float]] = field(default_factory=list)
    #: Frames that fit the memory budget and their longer side (set by the catalogue).
    hold: int = 0
    side: int = 960
    kind = "video"

    def describe(self) -> dict:
        info = self.info
        out = super().describe() | {"frames": info.frame_count, "held": len(self.frames), "width": info.width, "height": info.height}
        out["fps"] = None if info.vfr else float(info.average_fps)
        out["duration"] = float(info.duration) if info.duration is not None else None
        if self.frames:
            out["display"] = [int(self.frames[0].shape[1]), int(self.frames[0].shape[0])]
        if self.state is State.READY:
            out["times"] = [[round(a, 6), round(d, 6)] for a, d in self.times]
        return out

    def keep(self, frame, first_pts) -> None:
        """Hold ``frame`` at the display size, timed from ``first_pts``."""
        pixels = frame.pixels(bit_depth=8)
        w, h = display_size(pixels.shape[1], pixels.shape[0], self.side)
        if (w, h) != (pixels.shape[1], pixels.shape[0]):
            pixels = cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)
        self.frames.append(pixels)
        self.times.append((float(frame.pts - first_pts), float(frame.duration)))

    def load(self, report: Report) -> None:
        first = None
        for frame in open_reader(self.path, info=self.info):
            if len(self.frames) >= self.hold:
                break
            first = frame.pts if first is None else first
            self.keep(frame, first)
            report(len(self.frames) / max(1, min(self.hold, self.info.frame_count)))
        self._finish()

    def _finish(self) -> None:
        if not self.frames:
            raise BadInputError(f"{self.path}: no frames could be decoded")
        if len(self.frames) < self.info.frame_count:
            self.message = f"the first {len(self.frames)} of {self.info.frame_count} frames are shown (memory budget)"


def same_timing(a: MediaInfo, b: MediaInfo) -> bool:
    """Whether two videos can be scored frame against frame: the same size, frame count
    and rate (then their times are checked frame by frame while they load)."""
    return (a.width, a.height, a.frame_count) == (b.width, b.height, b.frame_count) and a.vfr == b.vfr and a.average_fps == b.average_fps


@dataclass(eq=False)
class Pair:
    id: str
    a: VideoItem
    b: VideoItem
    #: PSNR (dB) of every frame pair at full size; None when the timings differ.
    psnr: list[float] | None = None
    note: str = ""

    def describe(self) -> dict:
        out = {"id": self.id, "a": self.a.id, "b": self.b.id, "same_timing": self.psnr is not None, "note": self.note}
        if self.psnr is not None:
            out["psnr"] = [None if math.isinf(v) else round(v, 3) for v in self.psnr]
        return out

    def load(self, report: Report) -> None:
        """Both videos, in step; the PSNR of each pair of frames while both are at full size."""
        a, b = self.a, self.b
        if not same_timing(a.info, b.info):
            self.note = "the two videos differ in size, frame count or rate: no per-frame PSNR"
            for k, item in enumerate((a, b)):
                _run(item, lambda share, k=k: report((k + share) / 2), lambda r, item=item: item.load(r))
            return
        scores: list[float] = []

        def both(r: Report) -> None:
            first = None
            total = max(1, min(a.hold, a.info.frame_count))
            for fa, fb in zip(open_reader(a.path, info=a.info), open_reader(b.path, info=b.info)):
                if len(a.frames) >= total:
                    break
                first = first or (fa.pts, fb.pts)
                if not self.note and fa.pts - first[0] != fb.pts - first[1]:
                    self.note = f"frame {fa.index} has a different time in the two videos: no per-frame PSNR"
                if not self.note:
                    pa, pb = fa.pixels(bit_depth=8), fb.pixels(bit_depth=8)
                    mse = cv2.norm(pa, pb, cv2.NORM_L2SQR) / pa.size  # exact in integers, no float copy of a 4K frame
                    scores.append(math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse))
                a.keep(fa, first[0])
                b.keep(fb, first[1])
                a.progress = b.progress = len(a.frames) / total
                r(a.progress)
            a._finish()
            b._finish()

        for item in (a, b):
            item.state = State.LOADING
        try:
            both(report)
        except Exception as exc:
            for item in (a, b):
                item.state, item.message = State.FAILED, str(exc)
            raise
        for item in (a, b):
            item.state, item.progress = State.READY, 1.0
        self.psnr = None if self.note else scores


def _run(item: Item, report: Report, work: Callable[[Report], None]) -> None:
    """``work`` as the loading of ``item``: its state and progress follow it."""
    item.state = State.LOADING

    def step(share: float) -> None:
        item.progress = share
        report(share)

    try:
        work(step)
    except Exception as exc:
        item.state, item.message = State.FAILED, str(exc)
        raise
    item.state, item.progress = State.READY, 1.0


def kind_of(path: Path) -> str:
    """Which item a named path becomes: a snapshot picture, a vsae model or a video."""
    path = Path(path)
    if path.suffix.lower() == ".safetensors":
        return "model"
    if path.suffix.lower() in PICTURE_SUFFIXES and path.is_file():
        return "snapshot"
    input_kind(path)  # a missing file fails here, with its own message
    return "video"


class VideoCountError(BadInputError):
    """The ``--video`` given do not match the videos the models were fit on, in number
    (the CLI says it as a usage error)."""


def videos_of(meta: dict) -> int:
    """The videos a vsae model was fit on, by its file's description."""
    return len(meta.get("videos", ())) or 1


class Catalog:
    """The items of one ``kinema view``, by id, and what loading them takes."""

    def __init__(self, items: list[Item], pairs: list[Pair], limits: Limits = Limits()):
        self.items = {item.id: item for item in items}
        self.pairs = {pair.id: pair for pair in pairs}
        self.limits = limits
        videos = [item for item in items if isinstance(item, VideoItem)]
        for item in videos:
            w, h = display_size(item.info.width, item.info.height, limits.display_side)
            item.hold = max(1, limits.frame_budget // max(1, len(videos)) // (w * h * 3))
            item.side = limits.display_side

    @classmethod
    def build(cls, paths: list[Path], *, videos_for_models: list[Path] = (), compare: tuple[Path, Path] | None = None, limits: Limits = Limits(), device="cpu") -> Catalog:
        """Check every path and make its item. Two videos and nothing else, or ``compare``,
        make a pair. Model files take their source from ``videos_for_models``, in order."""
        from kinema.pipelines.vsae.fit import load_video_model
        from kinema.view.items import ModelItem, SnapshotItem

        named = [Path(p) for p in (compare or ())] + [Path(p) for p in paths]
        if not named:
            raise BadInputError("nothing to view: name videos, snapshots or vsae models")
        items: list[Item] = []
        sources = list(videos_for_models)
        kinds = {path: kind_of(path) for path in named}  # a path named twice is one item
        models = {p: load_video_model(p, device=device) for p, kind in kinds.items() if kind == "model"}
        wanted = sum(videos_of(vm.meta) for vm in models.values())
        if len(sources) != wanted:
            raise VideoCountError(f"the vsae models named were fit on {wanted} video(s), and {len(sources)} --video given: name them in order")
        for path, kind in kinds.items():
            ident = f"i{len(items)}"
            if kind == "model":
                count = videos_of(models[path].meta)
                items.append(ModelItem.open(ident, models[path], sources[:count], device=device))
                del sources[:count]
            elif kind == "snapshot":
                items.append(SnapshotItem.open(ident, path, device=device))
            else:
                items.append(VideoItem(id=ident, name=path.name, path=path, info=probe(path)))
        by_path = {item.path: item for item in items}
        videos = [item for item in items if isinstance(item, VideoItem)]
        pairs: list[Pair] = []
        if compare is not None:
            a, b = (by_path[Path(p)] for p in compare)
            if not (isinstance(a, VideoItem) and isinstance(b, VideoItem)) or a is b:
                raise BadInputError("--compare takes two different videos")
            pairs.append(Pair("p0", a, b))
        elif len(videos) == 2 and len(items) == 2:
            pairs.append(Pair("p0", *videos))
        return cls(items, pairs, limits)

    def loads(self) -> list[tuple[str, Callable[[Report], None]]]:
        """``(label, work)`` for every item that needs loading, pairs first (they load both
        their videos in step), in the order the items were named."""
        work: list[tuple[str, Callable[[Report], None]]] = []
        paired = set()
        for pair in self.pairs.values():
            paired |= {pair.a.id, pair.b.id}
            work.append((f"load {pair.a.name} and {pair.b.name}", pair.load))
        for item in self.items.values():
            if item.id in paired or item.state is State.READY:
                continue
            work.append((f"load {item.name}", lambda r, item=item: _run(item, r, item.load)))
        return work

    def describe(self) -> dict:
        return {"items": [item.describe() for item in self.items.values()], "pairs": [pair.describe() for pair in self.pairs.values()]}
