"""The learned engine: :class:`kinema.models.interp.InterpNet` guided by classical motion.

For a pair ``a``, ``b`` ``(N, 3, H, W)`` and each time t:

1. both frames are scaled so the longer side is at most ``work_max_side`` (the network's
   cost grows with pixels; motion and occlusion are decided well below 720p);
2. the classical engine's projected DIS flows at t (:meth:`ClassicalEngine.motion`) guide
   the network, which refines them and predicts a blend mask and a synthesis residual (a
   network with a learned priority gets the flows unprojected, :meth:`ClassicalEngine.parts`,
   and projects them itself; the guide's bilateral option does not apply then);
3. flows, mask and residual are resized to the full frame and applied there
   (:func:`kinema.models.interp.model.compose`), so the output keeps the inputs' detail
   and 4K costs little more than 720p beyond the full-size warps.

On a CUDA device the network runs in mixed precision by default (:class:`Precision`):
its convolutions in float16, its flows and warps in float32, where a sub-pixel
coordinate needs more than float16's 11 bits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import torch

from kinema import weights
from kinema.engines.base import Engine, check_pair, check_times
from kinema.engines.classical import ClassicalConfig, ClassicalEngine
from kinema.models.interp import InterpNet
from kinema.models.interp.model import compose
from kinema.ops.flow import resize_flow
from kinema.ops.memo import TensorMemo
from kinema.ops.projection import MotionParts
from kinema.ops.resize import fit_size, resize

#: What gives the network its starting flows: ``guide(a, b, t) → (N, 4, h, w)``.
Guide = Callable[..., torch.Tensor]


class ClassicalGuide:
    """The initial flows the network refines: the classical engine's projected DIS flows,
    ``(N, 4, h, w)`` at the flow resolution. DIS runs on the CPU and is not differentiated.

    The engine asks :meth:`at` for one pair at several times; training calls the guide
    with one t per sample. With several configs, sample ``i`` of a batch uses
    ``configs[i % len(configs)]``: the network then learns to refine flows of more than one
    quality, and the engine may pick its guide preset at inference (``--quality``)."""

    def __init__(self, *configs: ClassicalConfig):
        self.engines = [ClassicalEngine(c) for c in configs or (ClassicalConfig.balanced(),)]
        # Frames on a device, copied to the CPU once each: the same frame asked for again
        # (the next pair, a look-ahead) gets the same copy, which the engine's flow memo
        # finds.
        self._copies: TensorMemo[torch.Tensor] = TensorMemo(8)

    def _on_cpu(self, *frames: torch.Tensor | None) -> list[torch.Tensor | None]:
        return [
            None if x is None else x.detach() if x.device.type == "cpu" else self._copies.get(lambda y: y.detach().cpu(), x)
            for x in frames
        ]

    def at(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        times: Sequence[float],
        *,
        before: torch.Tensor | None = None,
        after: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """One ``(N, 4, h, w)`` per time, from the first config (motion estimated once);
        ``before``/``after``: the neighbouring frames, for four-frame motion."""
        cpu = self._on_cpu(a, b, before, after)
        return self.engines[0].motion(cpu[0], cpu[1], times, before=cpu[2], after=cpu[3])

    def parts(
        self, a: torch.Tensor, b: torch.Tensor, *, before: torch.Tensor | None = None, after: torch.Tensor | None = None
    ) -> MotionParts:
        """What :meth:`at` projects, unprojected (for a network that projects itself)."""
        cpu = self._on_cpu(a, b, before, after)
        return self.engines[0].parts(cpu[0], cpu[1], before=cpu[2], after=cpu[3])

    def lookahead(
        self, a: torch.Tensor, b: torch.Tensor, *, before: torch.Tensor | None = None, after: torch.Tensor | None = None
    ) -> None:
        """Start the first config's flows for a window asked for next."""
        cpu = self._on_cpu(a, b, before, after)
        self.engines[0].lookahead(cpu[0], cpu[1], before=cpu[2], after=cpu[3])

    def __call__(
        self, a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, *, first: int = 0, parts: bool = False
    ) -> torch.Tensor | MotionParts:
        """Training's guide: ``(N, 4, H, W)`` flows at t at the size of ``a`` ``(N, 3, H, W)``.
        ``first``: the index of ``a[0]`` in the global batch (a torchrun rank's share);
        ``parts``: the unprojected :class:`MotionParts` of each pair (at the flow size) instead."""
        a, b = a.detach().cpu(), b.detach().cpu()
        flows = []
        for i in range(a.shape[0]):
            engine = self.engines[(first + i) % len(self.engines)]
            if parts:
                flows.append(engine.parts(a[i : i + 1], b[i : i + 1]))
            else:
                flows.append(engine.motion(a[i : i + 1], b[i : i + 1], [float(t[i])])[0])
        if parts:
            return MotionParts.cat(flows)
        # The network takes its guide at the frames' size; presets project at their own
        # (``fast`` at DIS's 1/4), so each sample's flows are brought there.
        return torch.cat([resize_flow(f, *a.shape[-2:]) for f in flows])


#: The test-time flips of an ensemble, in the order members join (identity first).
FLIPS = ((False, False), (True, False), (False, True), (True, True))


class Precision(Enum):
    """The network's arithmetic (``torch.autocast``: convolutions in the low precision,
    flows, warps and the composition at full size in float32)."""

    #: float16 on a CUDA device, float32 elsewhere (a CPU without native half-precision
    #: units runs float16 and bfloat16 several times slower than float32).
    AUTO = "auto"
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"

    def dtype(self, device: torch.device) -> torch.dtype | None:
        """The autocast type on ``device`` (None: plain float32)."""
        if self is Precision.AUTO:
            return torch.float16 if device.type == "cuda" else None
        return {Precision.FLOAT16: torch.float16, Precision.BFLOAT16: torch.bfloat16}.get(self)


@dataclass(frozen=True)
class LearnedConfig:
    """Settings of :class:`LearnedEngine` (the network's own sizes are in its checkpoint)."""

    #: The network runs on frames whose longer side is at most this (None: full size).
    work_max_side: int | None = 512
    #: The classical settings that produce the guiding flows (at their own flow size: the
    #: guide sees the frames as given).
    guide: ClassicalConfig = ClassicalConfig.balanced().replace(finest_scale=0, multiscale=True)
    #: The shipped weights :meth:`LearnedEngine.from_file` loads when given no path.
    shipped: weights.Shipped = weights.INTERP
    #: Test-time flips averaged (1: none; 2: and mirrored left–right; 4: and upside down,
    #: and both). DIS and the network are not mirror-symmetric, so each member makes
    #: slightly different errors and their mean is closer to the truth; each costs a full
    #: guide, network and composition.
    ensemble: int = 1
    #: The network's arithmetic (:class:`Precision`; the PSNR half precision costs is in
    #: ``docs/performance.md``).
    precision: Precision = Precision.AUTO

    def __post_init__(self):
        if self.work_max_side is not None and self.work_max_side < 32:
            raise ValueError(f"work_max_side must be at least 32, got {self.work_max_side}")
        if self.ensemble not in (1, 2, 4):
            raise ValueError(f"ensemble must be 1, 2 or 4 members, got {self.ensemble}")

    @classmethod
    def fast(cls) -> LearnedConfig:
        """Guided by DIS ultrafast."""
        return cls(guide=ClassicalConfig.fast())

    @classmethod
    def balanced(cls) -> LearnedConfig:
        """The default: guided by DIS down to the full working resolution, started from a
        half-size flow (large motion)."""
        return cls()

    @classmethod
    def best(cls) -> LearnedConfig:
        """Quality first: the weights with adaptive warping, guided by DIS on frames up to
        1024 px, and a four-member flip ensemble (about a thirteenth of the default's speed;
        ``docs/models/interp.md``)."""
        return cls(guide=cls().guide.replace(flow_max_side=1024), shipped=weights.INTERP_ADAPTIVE, ensemble=4)


class LearnedEngine(Engine):
    """Interpolation with kinema's trained network. See the module docstring."""

    def __init__(self, model: InterpNet, config: LearnedConfig | None = None, *, device: str | torch.device = "cpu"):
        self.config = config or LearnedConfig()
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.guide = ClassicalGuide(self.config.guide)
        self._working: TensorMemo[torch.Tensor] = TensorMemo(6)
        self._autocast = self.config.precision.dtype(self.device)

    @classmethod
    def from_file(
        cls, path: Path | None = None, config: LearnedConfig | None = None, *, device: str | torch.device = "cpu"
    ) -> LearnedEngine:
        """The engine with weights from ``path`` (default: the config's shipped file)."""
        config = config or LearnedConfig()
        model, _ = InterpNet.load(Path(path) if path is not None else config.shipped.path, map_location=device)
        return cls(model, config, device=device)

    def predict(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        times: Sequence[float],
        *,
        before: torch.Tensor | None = None,
        after: torch.Tensor | None = None,
    ) -> list:
        """One :class:`~kinema.models.interp.model.Prediction` per time, at the working size."""
        height, width = a.shape[-2:]
        wh, ww = fit_size(height, width, self.config.work_max_side)
        # The guide sees the frames as given and estimates motion at its own flow size
        # (``ClassicalConfig.flow_max_side``, which may exceed the working size: large
        # motion is found better at a higher resolution); the network gets them shrunk,
        # each frame of a video once.
        small_a, small_b = (self._working.get(lambda y: resize(y, wh, ww), x) for x in (a, b))
        if self.model.config.priority:
            # The network projects the motion itself (its learned priority joins the z-buffer).
            parts = self.guide.parts(a, b, before=before, after=after).resized(wh, ww).to(self.device)
            guides = [parts] * len(times)
        else:
            guides = [resize_flow(g, wh, ww).to(self.device) for g in self.guide.at(a, b, times, before=before, after=after)]
        small_a, small_b = small_a.to(self.device), small_b.to(self.device)
        preds = []
        for t, guide in zip(times, guides):
            ts = torch.full((a.shape[0],), t, device=self.device)
            with contextlib.nullcontext() if self._autocast is None else torch.autocast(self.device.type, dtype=self._autocast):
                pred, _ = self.model.predict(small_a, small_b, ts, guide)
            preds.append(pred.float())
        return preds

    def interpolate(self, a: torch.Tensor, b: torch.Tensor, times: Sequence[float]) -> torch.Tensor:
        """``(N, 3, H, W)`` pairs → ``(N, T, 3, H, W)``."""
        return self.interpolate_window(a, b, times)

    def interpolate_window(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        times: Sequence[float],
        *,
        before: torch.Tensor | None = None,
        after: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """:meth:`interpolate` with the neighbouring frames (four-frame motion in the guide)."""
        times = check_times(times)
        check_pair(a, b)
        outputs: list[torch.Tensor | None] = [a if t == 0 else b if t == 1 else None for t in times]
        inner = [t for t, o in zip(times, outputs) if o is None]
        if inner:
            with torch.no_grad():
                # A running sum: one member's frames at a time are held (memory at 4K).
                total = None
                for flip in FLIPS[: self.config.ensemble]:
                    member = self._member(flip, a, b, inner, before, after)
                    total = member if total is None else [x.add_(y) for x, y in zip(total, member)]
                frames = iter([x.div_(self.config.ensemble) for x in total])
                for i, o in enumerate(outputs):
                    if o is None:
                        outputs[i] = next(frames).clamp_(0, 1).to(a.device)
        return torch.stack(outputs, 1)

    def lookahead(
        self, a: torch.Tensor, b: torch.Tensor, *, before: torch.Tensor | None = None, after: torch.Tensor | None = None
    ) -> None:
        """The guide starts on the window's flows (mirrored members estimate theirs anew)."""
        self.guide.lookahead(a, b, before=before, after=after)

    def _member(
        self, flip: tuple[bool, bool], a: torch.Tensor, b: torch.Tensor, times: list[float], before: torch.Tensor | None, after: torch.Tensor | None
    ) -> list[torch.Tensor]:
        """The frames at ``times`` made from the pair mirrored by ``flip`` (left–right,
        upside down), mirrored back. Mirrored frames are not kept between pairs (at 4K,
        three flips of four frames would hold 1.2 GB), so in a video a mirrored member
        computes its neighbour flows again instead of finding them in the guide's memo."""
        dims = [d for d, on in zip((-1, -2), flip) if on]
        mirrored = tuple(x.flip(dims) if x is not None and dims else x for x in (a, b, before, after))
        da, db = (x.to(self.device) for x in mirrored[:2])
        frames = [compose(da, db, pred) for pred in self.predict(*mirrored[:2], times, before=mirrored[2], after=mirrored[3])]
        return [f.flip(dims) if dims else f for f in frames]
