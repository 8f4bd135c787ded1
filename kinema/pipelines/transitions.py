"""Finding a video's shot transitions — cuts, fades, dissolves — with the learned detector.

The video streams through once: each frame is shrunk to the detector's working size
(area averaging on its stored 8-bit samples, so a 4K frame never becomes floats) and the
network (:class:`kinema.models.transitions.TransitionNet`) runs on overlapping windows,
each frame's five class probabilities taken from a window that gives it
``config.reach`` frames of context on each side (so they equal one call over the whole
video, tested). Only the working-size frames still needed as context are held; what is
kept of every frame is its probabilities, flatness and times (tens of bytes).

:func:`decode` turns the probabilities into transitions: a cut at each local peak of the
cut probability; a gradual transition over each run of frames that may be inside one
(start, inner or end). A gradual transition through a near-uniform frame is a fade,
any other (a dissolve, a wipe) a dissolve.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import torch

from kinema.io.probe import open_reader
from kinema.models.transitions import TransitionNet
from kinema.types import BadInputError, Frame

#: Frames per network call (besides the context): large enough that the context is cheap.
CHUNK = 256
#: A frame whose working-size picture has a standard deviation below this is "uniform"
#: (black, white or one colour): a gradual transition through one is a fade.
FLAT = 0.04


@dataclass(frozen=True)
class Transition:
    """One transition. ``first``..``last`` (inclusive) are the frames that belong to neither
    shot alone: for a cut, the new shot's first frame (``first == last``); for a fade or a
    dissolve, the mixed frames, so frame ``first − 1`` is the old shot and ``last + 1`` the
    new one. ``start``/``end`` are the same span in seconds (``first``'s pts to ``last``'s end)."""

    kind: str  # "cut", "fade" or "dissolve"
    first: int
    last: int
    start: Fraction
    end: Fraction
    #: The detector's mean probability over the span.
    confidence: float

    @property
    def gradual(self) -> bool:
        return self.kind != "cut"

    def splits(self, i: int, j: int) -> bool:
        """Do source frames ``i < j`` lie in different shots across this transition (a
        pair no motion should be interpolated over)?"""
        return i < self.first <= j if not self.gradual else i < self.first and j > self.last

    def blends(self, i: int, j: int) -> bool:
        """Do frames ``i < j`` both lie within the transition (its mixed frames and the
        shot frame on each side), so an in-between is a blend of the two in time?"""
        return self.gradual and self.first - 1 <= i and j <= self.last + 1


class Shots:
    """A video's transitions, asked pair by pair: is a pair of source frames split by a
    cut, or inside a gradual transition? Looked up by bisection (transitions do not overlap)."""

    def __init__(self, transitions: Iterable[Transition]):
        self.transitions = sorted(transitions, key=lambda t: t.first)
        self._firsts = [t.first for t in self.transitions]

    def _near(self, i: int, j: int) -> Iterable[Transition]:
        """The transitions that can touch frames i..j (with a frame of margin each side)."""
        k = bisect.bisect_right(self._firsts, j + 1)
        while k > 0 and self.transitions[k - 1].last >= i - 1:
            k -= 1
            yield self.transitions[k]

    def splits(self, i: int, j: int) -> bool:
        return i < j and any(t.splits(i, j) for t in self._near(i, j))

    def blends(self, i: int, j: int) -> bool:
        return i < j and any(t.blends(i, j) for t in self._near(i, j))

    def __len__(self) -> int:
        return len(self.transitions)


@dataclass(frozen=True)
class Scan:
    """What the detector saw: per-frame probabilities, flatness and times."""

    #: ``(N, 5)`` float32 class probabilities (:data:`kinema.models.transitions.CLASSES`).
    probabilities: np.ndarray
    #: ``(N,)`` standard deviation of each working-size frame.
    flatness: np.ndarray
    #: Each frame's ``(pts, end)``, exact.
    times: list[tuple[Fraction, Fraction]]


def small_frame(frame: Frame, height: int, width: int) -> np.ndarray:
    """``frame`` at the working size: ``(height, width, 3)`` uint8 by area averaging."""
    pixels = frame.pixels(bit_depth=8)
    return cv2.resize(pixels, (width, height), interpolation=cv2.INTER_AREA) if pixels.shape[:2] != (height, width) else pixels


def scan(
    frames: Iterable[Frame],
    net: TransitionNet,
    *,
    device: torch.device | str = "cpu",
    progress: Callable[[int], None] | None = None,
) -> Scan:
    """Run the detector over ``frames`` (any iterable: a reader, decoded frames)."""
    config = net.config
    reach = config.reach
    small: list[np.ndarray] = []  # working-size frames still needed as context
    offset = 0  # video index of small[0]
    done = 0  # frames whose probabilities are final
    probabilities: list[np.ndarray] = []
    flatness: list[float] = []
    times: list[tuple[Fraction, Fraction]] = []

    def run(until: int) -> None:
        """Final probabilities for frames [done, until): the window adds ``reach`` each side."""
        nonlocal done, offset, small
        lo = max(0, done - reach)
        window = np.stack(small[lo - offset :])
        x = torch.from_numpy(window).to(device).permute(0, 3, 1, 2).float().div_(255)[None]
        with torch.inference_mode():
            p = net(x)[0].softmax(-1).float().cpu().numpy()
        probabilities.append(p[done - lo : until - lo])
        done = until
        keep = max(0, done - reach) - offset  # the next window's context starts there
        small, offset = small[keep:], offset + keep

    for count, frame in enumerate(frames, 1):
        picture = small_frame(frame, config.height, config.width)
        small.append(picture)
        flatness.append(float(picture.std() / 255))
        times.append((frame.pts, frame.end))
        if count >= done + CHUNK + reach:
            run(done + CHUNK)
        if progress is not None:
            progress(count)
    if not times:
        raise BadInputError("no frames to look at")
    if done < len(times):
        run(len(times))
    return Scan(np.concatenate(probabilities), np.asarray(flatness, np.float32), times)


def decode(
    scan: Scan, *, cut_threshold: float = 0.5, gradual_threshold: float = 0.5, min_gradual: int = 2, merge: int = 2
) -> list[Transition]:
    """The transitions in ``scan`` (see the module docstring), in frame order. Runs of
    gradual frames at most ``merge`` frames apart are one transition (the middle of a long
    dissolve changes too slowly to be sure of every frame). The defaults were chosen on
    the validation sequences (``python -m kinema.train.run_transitions --tune``)."""
    p = scan.probabilities
    n = len(p)
    cut, gradual = p[:, 1], p[:, 2:].sum(1)
    inside = np.flatnonzero(gradual >= gradual_threshold)
    runs: list[list[int]] = []
    for i in inside.tolist():
        if runs and i - runs[-1][1] - 1 <= merge:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    found: list[Transition] = []

    def make(kind: str, first: int, last: int, confidence: float) -> Transition:
        return Transition(kind, first, last, scan.times[first][0], scan.times[last][1], round(float(confidence), 4))

    for i, j in runs:
        if j - i + 1 >= min_gradual:
            flat = bool((scan.flatness[i : j + 1] < FLAT).any())
            found.append(make("fade" if flat else "dissolve", i, j, gradual[i : j + 1].mean()))
    covered = np.zeros(n, bool)
    for t in found:
        covered[t.first : t.last + 1] = True
    for i in np.flatnonzero(cut >= cut_threshold).tolist():
        lo, hi = max(0, i - 2), min(n, i + 3)
        if i > 0 and cut[i] == cut[lo:hi].max() and not covered[i]:
            found.append(make("cut", i, i, cut[i]))
    return sorted(found, key=lambda t: t.first)


def detect(
    source: Path | Iterable[Frame],
    net: TransitionNet | None = None,
    *,
    device: torch.device | str = "cpu",
    progress: Callable[[int], None] | None = None,
    **thresholds,
) -> list[Transition]:
    """The transitions of a video file (or any iterable of frames); ``net`` defaults to
    the shipped detector (:data:`kinema.weights.TRANSITIONS`)."""
    if net is None:
        from kinema.weights import TRANSITIONS

        net, _ = TRANSITIONS.load(device=device)
    if isinstance(source, (str, Path)):
        reader = open_reader(Path(source))
        if reader.info.frame_count == 0:
            raise BadInputError(f"{source}: no frames to look at")
        source = reader
    return decode(scan(source, net, device=device, progress=progress), **thresholds)


#: Tiles per row of a contact sheet: the frames around a transition.
SHEET_TILES = 8
SHEET_WIDTH = 160


def sheet_frames(transition: Transition, count: int) -> list[int]:
    """The frames a sheet shows for ``transition`` in a video of ``count`` frames: the
    last two before it, its span (sampled when long) and the first two after."""
    span = list(range(transition.first, transition.last + 1))
    if len(span) > SHEET_TILES - 4:
        step = (len(span) - 1) / (SHEET_TILES - 5)
        span = sorted({span[round(k * step)] for k in range(SHEET_TILES - 4)})
    around = [transition.first - 2, transition.first - 1, *span, transition.last + 1, transition.last + 2]
    return [i for i in dict.fromkeys(around) if 0 <= i < count]


def write_sheet(source: Path, transitions: list[Transition], output: Path, *, overwrite: bool = False) -> Path:
    """A PNG contact sheet: one row per transition (its kind and frames labelled), the
    frames read in a second pass over ``source``. Written atomically."""
    from PIL import Image, ImageDraw

    from kinema.io.atomic import AtomicOutput, check_output

    source, output = Path(source), Path(output)
    check_output(output, overwrite=overwrite, inputs=(source,), directory=False)
    reader = open_reader(source)
    count = reader.info.frame_count or 0
    rows = [sheet_frames(t, count or t.last + 3) for t in transitions]
    wanted = {i for row in rows for i in row}
    tiles: dict[int, Image.Image] = {}
    for frame in reader:
        if frame.index in wanted:
            picture = Image.fromarray(frame.pixels(bit_depth=8))
            height = max(1, round(SHEET_WIDTH * picture.height / picture.width))
            tiles[frame.index] = picture.resize((SHEET_WIDTH, height), Image.Resampling.LANCZOS)
    if not transitions or not tiles:
        raise BadInputError(f"{source}: no transition to show")
    tile_h, label_h = max(t.height for t in tiles.values()), 14
    sheet = Image.new("RGB", (SHEET_WIDTH * SHEET_TILES, len(rows) * (tile_h + 2 * label_h)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (transition, row) in enumerate(zip(transitions, rows)):
        top = r * (tile_h + 2 * label_h)
        span = f"frame {transition.first}" if transition.first == transition.last else f"frames {transition.first}-{transition.last}"
        draw.text((4, top + 1), f"{transition.kind}, {span}, {float(transition.start):.2f} s", fill="black")
        for c, index in enumerate(i for i in row if i in tiles):
            inside = transition.first <= index <= transition.last
            sheet.paste(tiles[index], (c * SHEET_WIDTH, top + 2 * label_h - 2))
            draw.text((c * SHEET_WIDTH + 2, top + label_h), f"{index}{' *' if inside else ''}", fill="firebrick" if inside else "gray")
    out = AtomicOutput(output, overwrite=overwrite)
    try:
        sheet.save(out.path, format="PNG")
        return out.commit()
    finally:
        out.discard()
