"""GIF colour restoration: the classifier says how a GIF was made (:class:`GifKind`), and
that routes it to the CCDNet trained for its kind (dithered or not) and the palette size
nearest to its own, with the consistency step that suits the kind.

Consistency (:func:`kinema.ops.color.project_to_cells`), per kind (:data:`MARGINS`):
without dithering every restored pixel is pulled into the palette cell of its GIF colour —
exact cells, which measured better than a widened cell even for encoders that pick colours
by another distance than RGB (ffmpeg ≥ 6: OkLab); ordered dithering moves a colour by a
bounded amount, so cells widened by that much hold there; error diffusion moves it
arbitrarily far, so it gets no step. Dithering keeps a softer constraint: a dithered GIF's
colours averaged over a few pixels are its source's, so the dithered kinds' outputs take
their local means from the GIF (:data:`LOCAL_MEANS`, before the cells). Then each kind's output goes only part of the way
from the GIF to the restoration (:data:`STRENGTH`): on footage it never saw, the network's
error is partly independent of the GIF's, and a point between two estimates with
independent errors beats both; the blend stays inside the cell, since the cell is convex
and holds the GIF colour. When the classifier is unsure
(its likeliest kind below :data:`SURE`), kinema does not guess: the frames are kept as
they are, which is never worse than the GIF.

Palette size is what a frame really shows — its count of distinct colours — not the size
of the palette table in the file (encoders often write 256-entry tables for 40 colours).
The nearest level is nearest on a log scale (40 → 32, 100 → 128).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from kinema.io.pixels import to_hwc
from kinema.models.gif2video import CCDNet, DitherNet, GifKind
from kinema.ops.color import keep_local_means, palette_indices, palette_of, project_to_cells, stack_palettes
from kinema.ops.fuse import fuse_neighbours
from kinema.types import BadInputError
from kinema.weights import DITHER, FOLDER

#: A folder of GIF weights holds ``gif-{flat|dither}-{colors}.safetensors`` (named as
#: :func:`kinema.weights.gif_name` names them) and, optionally, the classifier.
CLASSIFIER_FILE = DITHER.path.name
MODEL_GLOB = "gif-*.safetensors"
#: The likeliest kind must be at least this probable for kinema to restore on its own.
SURE = 0.6
#: How far (8-bit units) the consistency step lets a restored colour lie outside its GIF
#: colour's cell, per kind; a kind not here gets no step.
MARGINS = {GifKind.NONE: 0.0, GifKind.ORDERED: 16.0}
#: How far each kind's output goes from the GIF towards its restoration (1: all the way;
#: None: set per frame by :func:`flat_strength`). If the GIF's and the network's errors
#: are uncorrelated, s stays no worse than the GIF while the network's error is below
#: (2/s − 1) times the GIF's (s = 1: only while it is smaller). Chosen on clips of a
#: source no GIF model or benchmark read (docs/models/ccdnet.md, "Strength").
STRENGTH: dict[GifKind, float | None] = {GifKind.NONE: None, GifKind.DIFFUSION: 1.0, GifKind.ORDERED: 0.96}
#: The soft consistency step of the dithered kinds (:func:`kinema.ops.color.keep_local_means`):
#: the Gaussian σ (pixels) over which the output takes its local means from the GIF. Chosen
#: on the same clips as STRENGTH (docs/models/ccdnet.md, "Local means").
LOCAL_MEANS = {GifKind.DIFFUSION: 0.7, GifKind.ORDERED: 1.0}
#: ``(a, b, c)`` of :func:`flat_strength`, fitted with STRENGTH on the same clips.
FLAT_RULE = (-0.419, -0.184, -0.109)
#: The least strength :func:`flat_strength` gives.
FLAT_FLOOR = 0.1


@dataclass(frozen=True)
class Plan:
    """What :class:`GifRestorer` does with one GIF."""

    kind: GifKind
    #: The classifier's probability of each kind (None: the caller named the kind).
    probabilities: tuple[float, ...] | None
    #: None: frames kept as they are (the classifier could not tell the kind).
    model: CCDNet | None
    #: The consistency step's margin (None: no step).
    margin: float | None
    #: How far the output goes from the GIF towards the restoration (:data:`STRENGTH`;
    #: None: per frame, :func:`flat_strength`).
    strength: float | None = 1.0
    #: σ (pixels) of the local means taken from the GIF (:data:`LOCAL_MEANS`; None: none).
    means: float | None = None

    def describe(self) -> str:
        """One line for people: the kind, how sure, the model and the consistency step."""
        sure = "" if self.probabilities is None else f" (p={max(self.probabilities):.2f})"
        kind = {GifKind.NONE: "not dithered", GifKind.DIFFUSION: "error-diffusion dithered", GifKind.ORDERED: "ordered dithered"}[self.kind]
        if self.model is None:
            return f"kept as it is: could not tell how it was made{sure}, likeliest {kind}; --dither chooses"
        step = "no consistency step" if self.margin is None else "kept consistent with the GIF" + (f" (±{self.margin:g})" if self.margin else "")
        if self.means is not None:
            step = ("local means" if self.margin is None else step + ", local means") + f" from the GIF (σ {self.means:g} px)"
        share = (
            ", part of the way from the GIF (set per frame)" if self.strength is None
            else "" if self.strength == 1 else f", {100 * self.strength:.0f} % of the way from the GIF"
        )
        return f"{kind}{sure}, {self.model.config.colors}-colour {'dithered' if self.model.config.dithered else 'flat'} model, {step}{share}"


def count_colors(image: torch.Tensor) -> int:
    """Distinct 8-bit colours of a ``(3, H, W)`` frame."""
    return len(palette_of(to_hwc(image)))


class GifRestorer:
    """Holds the CCDNets (one per kind and level) and the classifier; all in eval mode."""

    def __init__(self, models: Sequence[CCDNet], classifier: DitherNet | None, *, device: str | torch.device = "cpu"):
        if not models:
            raise ValueError("no CCDNet models given")
        self.device = torch.device(device)
        # Channels-last weights: the convolutions of these small-channel U-Nets run faster so
        # on CPU (oneDNN) and GPU alike; the outputs are the same to float rounding.
        self.models = {
            (m.config.dithered, m.config.colors): m.to(self.device, memory_format=torch.channels_last).eval() for m in models
        }
        self.classifier = None if classifier is None else classifier.to(self.device).eval()

    @classmethod
    def from_folder(cls, folder: Path | None = None, *, device: str | torch.device = "cpu") -> GifRestorer:
        """Every ``gif-*.safetensors`` in ``folder`` (default: the shipped weights) and its
        ``dither.safetensors`` if present."""
        folder = Path(folder) if folder is not None else FOLDER
        paths = sorted(folder.glob(MODEL_GLOB))
        if not paths:
            raise BadInputError(f"{folder}: no GIF restoration weights ({MODEL_GLOB})")
        classifier = folder / CLASSIFIER_FILE
        return cls(
            [CCDNet.load(p)[0] for p in paths],
            DitherNet.load(classifier)[0] if classifier.exists() else None,
            device=device,
        )

    def levels(self, dithered: bool) -> list[int]:
        return sorted(c for d, c in self.models if d == dithered)

    def pick(self, dithered: bool, colors: int) -> CCDNet:
        """The model for this kind of GIF whose palette size is nearest to ``colors``
        (the other kind's models if this kind has none)."""
        kind = dithered if self.levels(dithered) else not dithered
        best = min(self.levels(kind), key=lambda level: (abs(math.log2(level) - math.log2(max(colors, 2))), level))
        return self.models[(kind, best)]

    @torch.inference_mode()
    def kind_probabilities(self, frames: Sequence[torch.Tensor]) -> tuple[float, ...]:
        """How likely each :class:`GifKind` is for these ``(3, H, W)`` frames of one GIF (mean
        of per-frame probabilities). Without a classifier: all equally likely."""
        if self.classifier is None or not frames:
            return tuple(1 / len(GifKind) for _ in GifKind)
        probs = torch.stack([self.classifier.kind_probabilities(f[None].to(self.device))[0].cpu() for f in frames])
        return tuple(float(p) for p in probs.mean(0))

    def dither_probability(self, frames: Sequence[torch.Tensor]) -> float:
        """How likely these frames are dithered (either way)."""
        return 1 - self.kind_probabilities(frames)[GifKind.NONE]

    def plan(self, frames: Sequence[torch.Tensor], colors: int, *, kind: GifKind | None = None, strength: float | None = None) -> Plan:
        """How to restore a GIF of ``colors`` colours, from some of its frames (the
        classifier decides unless ``kind`` is given; ``strength`` in (0, 1] overrides the
        kind's :data:`STRENGTH`)."""
        if strength is not None and not 0 < strength <= 1:
            raise ValueError(f"strength must be in (0, 1], got {strength}")
        probabilities = None
        if kind is None:
            probabilities = self.kind_probabilities(frames)
            kind = GifKind(max(range(len(probabilities)), key=probabilities.__getitem__))
            if probabilities[kind] < SURE:
                return Plan(kind, probabilities, None, None)
        share = STRENGTH[kind] if strength is None else strength
        return Plan(kind, probabilities, self.pick(kind.dithered, colors), MARGINS.get(kind), share, LOCAL_MEANS.get(kind))

    def restore_planned(self, image: torch.Tensor, plan: Plan) -> torch.Tensor:
        """One ``(3, H, W)`` GIF frame restored as ``plan`` says (kept when it says so)."""
        return next(self.restore_frames([image], plan))

    def restore_frames(
        self,
        images: Iterable[torch.Tensor],
        plan: Plan,
        *,
        temporal: int = 0,
        on_strength: Callable[[float], None] | None = None,
    ) -> Iterator[torch.Tensor]:
        """A GIF's ``(3, H, W)`` frames, in order, restored as ``plan`` says, each fused with
        its ``temporal`` neighbours on either side (:func:`kinema.ops.fuse.fuse_neighbours`)
        before its consistency step, then taken its strength of the way from the GIF
        (per frame, from the signs of the frames it was fused with, if the plan says so;
        ``on_strength`` hears each frame's). Streams: at most ``2·temporal + 1`` frames are
        held, and each comes out once the ones after it that it needs are in."""
        if plan.model is None:
            yield from images
            return
        # (GIF frame, its palette, its own restoration, its signs)
        window: list[tuple[torch.Tensor, np.ndarray, torch.Tensor, np.ndarray | None]] = []

        def fused(k: int) -> torch.Tensor:
            image, palette, own, _ = window[k]
            near = [j for j in range(len(window)) if abs(j - k) <= temporal]
            strength = plan.strength
            if strength is None:
                strength = flat_strength(np.mean([window[j][3] for j in near], axis=0))
            if on_strength is not None:
                on_strength(strength)
            restored = fuse_neighbours(own, [window[j][2] for j in near if j != k])
            return self.consistent(restored, image, palette, plan.margin, strength, plan.means)

        for image in images:
            palette = palette_of(to_hwc(image))
            own = self.restore(image, plan.model, palette, consistent=False)
            window.append((image, palette, own, cell_signs(image, own) if plan.strength is None else None))
            if len(window) > temporal:
                yield fused(len(window) - 1 - temporal)
            if len(window) > 2 * temporal:
                window.pop(0)
        for k in range(max(0, len(window) - temporal), len(window)):
            yield fused(k)

    @staticmethod
    def consistent(
        restored: torch.Tensor, image: torch.Tensor, palette: np.ndarray, margin: float | None, strength: float, means: float | None = None
    ) -> torch.Tensor:
        """The soft step (local means from the GIF frame ``image`` over σ = ``means``; None:
        none), the consistency step (``margin``; None: none) under the frame's ``palette``
        ``(K, 3)`` uint8, then ``strength`` of the way from ``image``. The soft step comes
        first, so the cells still hold the output."""
        if means is not None:
            restored = keep_local_means(restored[None], image[None], means)[0]
        if margin is not None:
            restored = project_to_cells(restored[None], image[None], stack_palettes([palette]), margin=margin)[0]
        return _toward(image, restored, strength)

    @torch.inference_mode()
    def restore(
        self,
        image: torch.Tensor,
        model: CCDNet,
        palette: np.ndarray | None = None,
        *,
        consistent: bool = True,
        margin: float = 0.0,
    ) -> torch.Tensor:
        """One ``(3, H, W)`` GIF frame → restored ``(3, H, W)`` on the CPU. ``palette``
        ``(K, 3)`` uint8 defaults to the frame's own colours.

        ``consistent``: every restored pixel is moved into the palette cell of its GIF
        colour widened by ``margin`` (:func:`kinema.ops.color.project_to_cells`), where its
        true colour lies; no pixel moves away from the truth. A dithered model's output is
        projected only with a ``margin`` (ordered dithering), never onto exact cells. (All
        the way to the network's output: gif2video's strength is applied by
        :meth:`restore_frames`.)"""
        palettes = stack_palettes([palette if palette is not None else palette_of(to_hwc(image))])
        if model.config.dithered:
            restored = model(image[None].to(self.device), None)[0].cpu()
            consistent = consistent and margin > 0
        else:
            restored = model(image[None].to(self.device), palettes.to(self.device))[0].cpu()
        return project_to_cells(restored[None], image[None], palettes, margin=margin)[0] if consistent else restored


def cell_signs(image: torch.Tensor, free: torch.Tensor) -> np.ndarray:
    """Signs that the network does not know a flat GIF frame's content, from its
    unprojected output ``free`` and the GIF frame ``image`` (``(3, H, W)`` each): mean
    squares (8-bit units) of ``F − P``, ``F − G`` and ``P − G``, where ``P`` is ``F``
    projected into the cells, and the mean over pixels of the squared inner radius of
    each pixel's cell (half the distance from its colour to the nearest other one).
    Measured on every second pixel of every second row: means, at a quarter of the cost."""
    image, free = image[:, ::2, ::2], free[:, ::2, ::2]
    palette = palette_of(to_hwc(image))
    projected = project_to_cells(free[None], image[None], stack_palettes([palette]))[0]
    f = free.clamp(0, 1)
    squares = [float((a - b).square().mean()) * 255**2 for a, b in ((f, projected), (f, image), (projected, image))]
    colours = palette.astype(np.float64)
    gaps = ((colours[:, None] - colours[None]) ** 2).sum(-1)
    np.fill_diagonal(gaps, np.inf)
    own = palette_indices(to_hwc(image), palette)
    return np.array([*squares, float((gaps.min(1) / 4)[own].mean())])


def flat_strength(signs: np.ndarray, rule: tuple[float, float, float] = FLAT_RULE) -> float:
    """How far a flat GIF frame goes from the GIF towards its restoration, from
    :func:`cell_signs` (averaged over the frames fused into it):
    ``a + b·ln(|F − P|² / |F − G|² + 10⁻⁴) + c·ln(|P − G|² / r² + 10⁻⁴)`` with
    ``(a, b, c)`` = ``rule`` (:data:`FLAT_RULE`; :mod:`kinema.train.gif_strength` fits it),
    clipped to [:data:`FLAT_FLOOR`, 1]. The more of the network's move contradicts the GIF
    (leaves the cells), and the farther into small cells its consistent move goes, the
    less it is trusted."""
    outside, move, inside, radius = (float(x) for x in signs)
    a, b, c = rule
    ratio = lambda x, y: x / y if y > 0 else 0.0  # noqa: E731
    value = a + b * math.log(ratio(outside, move) + 1e-4) + c * math.log(ratio(inside, radius) + 1e-4)
    return float(min(1.0, max(FLAT_FLOOR, value)))


def _toward(image: torch.Tensor, restored: torch.Tensor, strength: float) -> torch.Tensor:
    """The point ``strength`` of the way from ``image`` to ``restored`` (same shapes)."""
    return restored if strength == 1 else torch.lerp(image.to(restored.dtype), restored, strength)
