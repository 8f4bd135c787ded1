"""The classical engine: optical flow projected to time t with a soft z-buffer.

No weights, CPU only. For one pair of frames ``a``, ``b`` and a time ``t``:

1. **Flow both ways** with OpenCV DIS on the luma of frames scaled down to at most
   ``flow_max_side`` (speed, and bounded memory on 4K), optionally coarse-to-fine
   (``multiscale``: a flow from half-size frames starts the full-size search, which
   reaches motions larger than DIS's own pyramid finds).
2. **Project the flows to t** by forward splatting (:mod:`kinema.ops.projection`, the one
   projection the learned interpolator also differentiates through): each pixel
   of ``a`` lands at ``p + t·F_ab(p)``, each pixel of ``b`` at ``p + (1−t)·F_ba(p)``,
   carrying its motion. This gives the flows *from* time t back to each input, which is
   what backward warping needs; scaling ``F_ab(p)`` in place (the plain baseline) uses the
   motion of whatever was at ``p`` at time 0, which is wrong near moving edges.
3. **Occlusion** (``occlusion``): where pixels collide, the one whose flow is
   photo-consistent wins — a soft z-buffer with weight ``exp(−β·|a(p) − b(p + F_ab(p))|)``
   — so a foreground object keeps its own motion instead of the background's that it is
   about to cover. Where both projections landed and agree, the two are averaged.
4. **Holes** (``fill_holes``), where the splat from one side left nothing, borrow that
   side's flow from the other splat (same motion, other origin); what is left is filled
   by push–pull from the surroundings.
5. **Warp and blend**: both inputs are backward-warped at full resolution with
   :func:`kinema.ops.warp.backward_warp` and mixed ``(1−t)·a + t·b``.

Left out after measuring them (``docs/models/interp.md``): per-pixel visibility weights in
step 5 (from splat coverage, from forward–backward consistency splatted to t, or from hole
masks) lost PSNR on UCF101 and DAVIS with DIS flows, whose motion boundaries are too soft
for them.

``ClassicalConfig.plain()`` turns steps 2–4 off: each input warped along its own flow
scaled by t, then averaged — the usual DIS baseline, kept so the benchmark can show what
each step adds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import torch

from kinema.engines.base import Engine, check_pair, check_times
from kinema.ops.bilateral import BilateralConfig, bilateral_motion, match_error
from kinema.ops.flow import DISPreset, dis_finest_scale, dis_flow, luma, resize_flow
from kinema.ops.memo import TensorMemo
from kinema.ops.resize import fit_size, resize
from kinema.ops.projection import MotionParts, project_to_t
from kinema.ops.warp import Padding, backward_warp

@dataclass(frozen=True)
class ClassicalConfig:
    """Settings of :class:`ClassicalEngine`; the presets are the classmethods."""

    preset: DISPreset = DISPreset.MEDIUM
    #: DIS's finest pyramid level (0: full resolution; None: the preset's own, 1 or 2).
    finest_scale: int | None = None
    #: Flow is estimated on frames scaled so the longer side is at most this (None: full size).
    flow_max_side: int | None = 512
    multiscale: bool = False
    #: Project flows to t by forward splatting (False: scale each flow by t in place).
    projection: bool = True
    #: Project at the resolution of DIS's finest pyramid level instead of the flow size:
    #: the presets stop at 1/2 (medium) or 1/4 (fast, ultrafast) and upsample, so the
    #: finer splat would mostly move interpolated motion, at 4 or 16 times the cost.
    #: Not with ``bilateral``, which refines at the flow size.
    project_at_dis_scale: bool = False
    occlusion: bool = True
    fill_holes: bool = True
    #: β of the z-buffer weight exp(−β·photometric error), error in [0, 1] units.
    z_sharpness: float = 50.0
    #: Refine the projected motion into bilateral motion at t (:mod:`kinema.ops.bilateral`);
    #: None: off.
    bilateral: BilateralConfig | None = None
    #: Four-frame motion: where the frames before ``a`` and after ``b`` are given
    #: (:meth:`Engine.interpolate_window`), each side moves along a quadratic path fitted
    #: to its flows towards both neighbours (accelerating motion) instead of a straight one.
    quadratic: bool = True
    #: β of the trust in a neighbour's flow, exp(−β·|a − neighbour warped onto a|): where
    #: the neighbour does not match (occlusion, a flow gone wrong) the path is straight.
    neighbour_sharpness: float = 5.0

    def __post_init__(self):
        if self.flow_max_side is not None and self.flow_max_side < 16:
            raise ValueError(f"flow_max_side must be at least 16, got {self.flow_max_side}")
        if self.z_sharpness < 0 or self.neighbour_sharpness < 0:
            raise ValueError("z_sharpness and neighbour_sharpness must be non-negative")

    @classmethod
    def fast(cls) -> ClassicalConfig:
        """DIS ultrafast, projected at DIS's own 1/4 scale: for previews."""
        return cls(preset=DISPreset.ULTRAFAST, project_at_dis_scale=True)

    @classmethod
    def balanced(cls) -> ClassicalConfig:
        """The default."""
        return cls()

    @classmethod
    def best(cls) -> ClassicalConfig:
        """Full-resolution DIS on frames up to 1280 px, coarse-to-fine: ~4× slower."""
        return cls(finest_scale=0, flow_max_side=1280, multiscale=True)

    @classmethod
    def plain(cls) -> ClassicalConfig:
        """The plain DIS-medium warp baseline: no projection, occlusion or hole handling."""
        return cls(
            finest_scale=None,
            flow_max_side=None,
            multiscale=False,
            projection=False,
            occlusion=False,
            fill_holes=False,
            quadratic=False,
        )

    def replace(self, **changes) -> ClassicalConfig:
        """A copy with some fields changed, e.g. ``config.replace(occlusion=False)``."""
        return dataclasses.replace(self, **changes)


def _acceleration(flow_next: torch.Tensor, flow_previous: torch.Tensor) -> torch.Tensor:
    """A pixel moving with constant acceleration from frame 0 has ``x(1) = F_0→1`` and
    ``x(−1) = F_0→−1``, so ``x(t) = t·F_0→1 − acc·t·(1 − t)`` with ``acc = (F_0→1 + F_0→−1)/2``."""
    return 0.5 * (flow_next + flow_previous)


def _window_key(a: torch.Tensor, b: torch.Tensor, before: torch.Tensor | None, after: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
    """The tensors that identify a window; a missing neighbour is stood in for by its own
    side of the pair, so a window without ``before`` is not taken for one without ``after``."""
    return a, b, a if before is None else before, b if after is None else after


class ClassicalEngine(Engine):
    """Flow-based interpolation with no learned weights. See the module docstring."""

    def __init__(self, config: ClassicalConfig | None = None):
        self.config = config or ClassicalConfig()
        self._shrunk: TensorMemo[torch.Tensor] = TensorMemo(6)
        # A pair's four flows, and the two a look-ahead starts for the next pair.
        self._flow_memo: TensorMemo[Future] = TensorMemo(8)
        self._threads: ThreadPoolExecutor | None = None
        # The motion parts of the window a look-ahead announced, made in a thread of their
        # own (it waits on the flow threads, so it cannot be one of them).
        self._parts_memo: TensorMemo[Future] = TensorMemo(2)
        self._parts_thread: ThreadPoolExecutor | None = None

    def __getstate__(self) -> dict:
        # Threads and remembered flows stay with the process that made them.
        return {"config": self.config}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["config"])

    # -- step 1: motion -------------------------------------------------------------
    def flow(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Flow ``a → b`` ``(N, 2, h, w)`` at the size of ``a``, coarse-to-fine if configured."""
        init = None
        height, width = a.shape[-2:]
        if self.config.multiscale and min(height, width) >= 64:
            half = (height // 2, width // 2)
            coarse = dis_flow(resize(a, *half), resize(b, *half), preset=self.config.preset)
            init = resize_flow(coarse, height, width)
        return dis_flow(a, b, preset=self.config.preset, init=init, finest_scale=self.config.finest_scale)

    # -- steps 2–4: flows from time t back to each input ------------------------------
    def _z_weight(
        self, a: torch.Tensor, b: torch.Tensor, flow_ab: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor] | tuple[None, None]:
        """Soft z-buffer weights, high where a pixel's flow is photo-consistent.

        ``a``, ``b``, ``flow_ab`` stack both directions (``2N`` items); returns the
        weights of the first N and of the last N, or ``(None, None)`` without occlusion
        handling."""
        if not self.config.occlusion:
            return None, None
        error = (a - backward_warp(b, flow_ab)).abs().mean(1, keepdim=True)
        return torch.exp(-self.config.z_sharpness * error).chunk(2)

    def flows_at(self, t: float, parts: MotionParts) -> tuple[torch.Tensor, torch.Tensor]:
        """``(flow_ta, flow_tb)`` at the flow resolution, each ``(N, 2, h, w)``:
        ``flow_ta`` backward-warps ``a`` to time t, ``flow_tb`` does the same for ``b``
        (:func:`kinema.ops.projection.project_to_t`, or the flows scaled in place without
        ``projection``)."""
        if not self.config.projection:
            return -t * parts.flow_ab, -(1 - t) * parts.flow_ba
        return project_to_t(parts, t, fill_holes=self.config.fill_holes)

    def parts(
        self, a: torch.Tensor, b: torch.Tensor, *, before: torch.Tensor | None = None, after: torch.Tensor | None = None
    ) -> MotionParts:
        """Steps 1 and 3: the flows both ways, their z-buffer weights and (with the
        neighbouring frames ``before``/``after``, for :attr:`ClassicalConfig.quadratic`)
        each side's path acceleration, at the flow resolution (``a`` fitted to
        ``flow_max_side``), in pixels of that resolution. The learned interpolator
        projects these itself when it learns a priority."""
        ahead = self._parts_memo.find(*_window_key(a, b, before, after))
        return ahead.result() if ahead is not None else self._parts(a, b, before, after)

    def _parts(self, a: torch.Tensor, b: torch.Tensor, before: torch.Tensor | None, after: torch.Tensor | None) -> MotionParts:
        fh, fw = fit_size(*a.shape[-2:], self.config.flow_max_side)
        flows = {name: future.result() for name, future in self._flows(a, b, before, after).items()}
        small_a, small_b = self._small(a, fh, fw), self._small(b, fh, fw)
        flow_ab, flow_ba = flows["ab"], flows["ba"]
        acc_a = acc_b = None
        if "a-" in flows or "b+" in flows:
            acc_a, acc_b = (
                self._acceleration(x, y, flows[name], own, fh, fw) if name in flows else torch.zeros_like(own)
                for name, own, (x, y) in (("a-", flow_ab, (a, before)), ("b+", flow_ba, (b, after)))
            )
        z_a, z_b = self._z_weight(torch.cat([small_a, small_b]), torch.cat([small_b, small_a]), torch.cat([flow_ab, flow_ba]))
        return MotionParts(flow_ab, flow_ba, z_a, z_b, acc_a, acc_b)

    def motion(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        times: Sequence[float],
        *,
        before: torch.Tensor | None = None,
        after: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """Steps 1–4: for each time, ``(N, 4, h, w)`` = ``(flow_ta, flow_tb)`` at the
        projection resolution: the flow resolution of :meth:`parts`, or DIS's finest level
        with :attr:`ClassicalConfig.project_at_dis_scale`.

        This is also the motion the learned engine starts from and refines."""
        parts = self.parts(a, b, before=before, after=after)
        if self.config.project_at_dis_scale and self.config.projection and self.config.bilateral is None:
            step = 2 ** dis_finest_scale(self.config.preset, self.config.finest_scale)
            parts = parts.resized(*(max(1, round(side / step)) for side in parts.size))
        out = []
        for t in times:
            pair = self.flows_at(t, parts)
            if self.config.bilateral is not None:
                fh, fw = parts.size
                pair = self.bilateral_at(t, self._small(a, fh, fw), self._small(b, fh, fw), *pair)
            out.append(torch.cat(pair, 1))
        return out

    def _acceleration(
        self, x: torch.Tensor, neighbour: torch.Tensor, flow: torch.Tensor, own: torch.Tensor, height: int, width: int
    ) -> torch.Tensor:
        """The acceleration of ``x``'s pixels from ``own`` (x → the pair's other frame) and
        ``flow`` (x → its neighbour outside the pair), trusted as far as the neighbour
        warped by ``flow`` matches ``x``: an occlusion or a wrong flow leaves the path straight."""
        small_x, small_n = self._small(x, height, width), self._small(neighbour, height, width)
        trust = torch.exp(-self.config.neighbour_sharpness * (small_x - backward_warp(small_n, flow)).abs())
        return trust * _acceleration(own, flow)

    def _small(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        # Motion is estimated on luma only: a third of the resizing, and all DIS looks at.
        return self._shrunk.get(lambda y: resize(luma(y), height, width), x)

    def lookahead(
        self, a: torch.Tensor, b: torch.Tensor, *, before: torch.Tensor | None = None, after: torch.Tensor | None = None
    ) -> None:
        """Start this window's motion: its flows in the engine's flow threads, then its
        parts (z-buffer weights, accelerations) in another; :meth:`parts` finds them."""
        self._flows(a, b, before, after)
        key = _window_key(a, b, before, after)
        if self._parts_memo.find(*key) is None:
            if self._parts_thread is None:
                self._parts_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="motion-parts")

            def made() -> MotionParts:
                with torch.no_grad():  # a new thread starts with autograd on
                    return self._parts(a, b, before, after)

            self._parts_memo.put(self._parts_thread.submit(made), *key)

    def _flows(
        self, a: torch.Tensor, b: torch.Tensor, before: torch.Tensor | None, after: torch.Tensor | None
    ) -> dict[str, Future]:
        """The flows a window needs, as futures: ``ab``, ``ba`` and, for four-frame
        motion, ``a-`` (a → before) and ``b+`` (b → after). A frame's flow towards a
        neighbour is estimated once though two pairs of a video use it (the ``ba`` of one
        pair is the ``a-`` of the next)."""
        height, width = fit_size(*a.shape[-2:], self.config.flow_max_side)
        wanted = {"ab": (a, b), "ba": (b, a)}
        if self.config.quadratic and before is not None:
            wanted["a-"] = (a, before)
        if self.config.quadratic and after is not None:
            wanted["b+"] = (b, after)
        found = {}
        for name, (x, y) in wanted.items():
            future = self._flow_memo.find(x, y)
            if future is None:
                # DIS releases the GIL: flows run beside each other and beside the caller.
                if self._threads is None:
                    self._threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dis-flow")
                future = self._threads.submit(self.flow, self._small(x, height, width), self._small(y, height, width))
                self._flow_memo.put(future, x, y)
            found[name] = future
        return found

    def bilateral_at(
        self, t: float, a: torch.Tensor, b: torch.Tensor, flow_ta: torch.Tensor, flow_tb: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Step 4b: the projected flows refined into one bilateral motion ``v`` at t
        (``flow_ta = −t·v``, ``flow_tb = (1 − t)·v``), kept per pixel only where it matches
        better than the projection: an occluded pixel has no match on one side, and there
        the projection's two separate motions stay."""
        init = 0.5 * (flow_tb / (1 - t) - flow_ta / t)
        v = bilateral_motion(a, b, t, init, self.config.bilateral)
        better = match_error(a, b, -t * v, (1 - t) * v) < match_error(a, b, flow_ta, flow_tb)
        return torch.where(better, -t * v, flow_ta), torch.where(better, (1 - t) * v, flow_tb)

    # -- step 5 -----------------------------------------------------------------------
    def interpolate(self, a: torch.Tensor, b: torch.Tensor, times: Sequence[float]) -> torch.Tensor:
        """``(N, 3, H, W)`` pairs → ``(N, T, 3, H, W)``; motion is estimated once per pair."""
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
        """:meth:`interpolate` with the neighbouring frames (see :attr:`ClassicalConfig.quadratic`)."""
        times = check_times(times)
        check_pair(a, b)
        height, width = a.shape[-2:]
        outputs: list[torch.Tensor | None] = [a if t == 0 else b if t == 1 else None for t in times]
        if all(o is not None for o in outputs):
            return torch.stack(outputs, 1)
        inner = [t for t, o in zip(times, outputs) if o is None]
        flows = iter(self.motion(a, b, inner, before=before, after=after))
        for i, t in enumerate(times):
            if outputs[i] is not None:
                continue
            full = resize_flow(next(flows), height, width)
            warped_a = backward_warp(a, full[:, 0:2], padding=Padding.BORDER)
            warped_b = backward_warp(b, full[:, 2:4], padding=Padding.BORDER)
            outputs[i] = torch.lerp(warped_a, warped_b, t).clamp_(0, 1)
        return torch.stack(outputs, 1)
