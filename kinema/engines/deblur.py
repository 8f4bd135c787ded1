"""Sharp frames from motion-blurred ones, a shot at a time (:class:`Deblurrer`).

Each blurry frame is restored by :class:`kinema.models.deblur.DeblurNet` from itself, its
blurry neighbours aligned onto it by DIS flow, those flows (the direction and length of
each pixel's streak) and the recurrent state of the frame before, warped onto it along
the same flow. A scene cut ends a shot: nothing is aligned across it and the state starts
again from zeros, so one shot's content never leaks into the next.

:func:`restore_one` is that step for one frame of any indexable shot; the streaming
:class:`Deblurrer` and the trainer (:mod:`kinema.train.deblur`) both call it, so training
sees exactly what inference does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import torch

from kinema.models.deblur import DeblurNet
from kinema.ops.flow import DISPreset, dis_flow, luma, resize_flow
from kinema.ops.resize import fit_size, resize
from kinema.ops.scenes import is_cut
from kinema.ops.warp import backward_warp
from kinema.types import Frame


def stand_ins(k: int, last: int, scope: int) -> list[int]:
    """Indices of the neighbours frame ``k`` of a shot ``0 … last`` is restored with, in
    the network's order (−1, +1, −2, +2, …). A neighbour past either end of the shot is
    replaced by the one as far on the other side, else by the stand-in one step nearer on
    its own side, else by ``k`` itself (a one-frame shot)."""
    out: list[int] = []
    for distance in range(1, scope + 1):
        for sign in (-1, 1):
            wanted, mirrored = k + sign * distance, k - sign * distance
            if 0 <= wanted <= last:
                out.append(wanted)
            elif 0 <= mirrored <= last:
                out.append(mirrored)
            else:
                out.append(out[-2] if distance > 1 else k)
    return out


def restore_one(
    net: DeblurNet,
    frame: Callable[[int], torch.Tensor],
    k: int,
    last: int,
    flow: Callable[[int, int], torch.Tensor],
    state: torch.Tensor | None,
    *,
    run: Callable[..., tuple[torch.Tensor, torch.Tensor | None]] | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Frame ``k`` of a shot ``0 … last``, restored: ``(sharp, state)``.

    ``frame(i)`` is the shot's blurry frame ``i`` ``(N, 3, H, W)``; ``flow(i, j)`` the flow
    ``i → j`` at that size in pixels; ``state`` what restoring frame ``k − 1`` returned
    (ignored for ``k = 0``); ``run`` calls the network (default ``net`` itself; a
    :class:`Deblurrer` runs it tile by tile). ``sharp`` is not clamped.
    """
    run = run or net
    centre = frame(k)
    order = stand_ins(k, last, net.config.scope)
    flows = [flow(k, j) if j != k else centre.new_zeros(centre.shape[0], 2, *centre.shape[-2:]) for j in order]
    aligned = [backward_warp(frame(j), f) if j != k else centre for j, f in zip(order, flows)]
    if k == 0 or state is None:
        state = net.initial_state(centre)
    else:
        size = DeblurNet.state_size(*centre.shape[-2:])
        state = backward_warp(state, resize_flow(flow(k, k - 1), *size))
    motion = motion_at(k, last, flow) if net.config.offsets else None
    if not order:
        empty = centre.new_zeros(centre.shape[0], 0, 3, *centre.shape[-2:])
        return run(centre, empty, empty[:, :, :2], state, motion)
    return run(centre, torch.stack(aligned, 1), torch.stack(flows, 1), state, motion)


def motion_at(k: int, last: int, flow: Callable[[int, int], torch.Tensor]) -> torch.Tensor | None:
    """The motion of frame ``k``'s pixels over one frame interval: half the flow to the next
    frame minus the flow to the one before, or the one there is at a shot's end (None for
    a one-frame shot)."""
    if 0 < k < last:
        return 0.5 * (flow(k, k + 1) - flow(k, k - 1))
    if k < last:
        return flow(k, k + 1)
    if k > 0:
        return -flow(k, k - 1)
    return None


class Deblurrer:
    """Streams a video's frames through a :class:`DeblurNet`, shot by shot.

    ``flow_max_side``: flows are estimated on frames scaled to at most this (speed and
    memory on large frames) and scaled up. ``cut(a, b)`` says whether a shot ends between
    two ``(1, 3, H, W)`` frames (default: :func:`kinema.ops.scenes.is_cut`). Frames larger
    than ``tile`` × ``tile`` run through the network in tiles of that size, each with
    ``margin`` pixels of context on every side, so memory stays bounded at 4K.
    """

    def __init__(
        self,
        net: DeblurNet,
        *,
        device: torch.device | str = "cpu",
        flow_max_side: int = 640,
        preset: DISPreset = DISPreset.MEDIUM,
        cut: Callable[[torch.Tensor, torch.Tensor], bool] | None = None,
        tile: int = 1024,
        margin: int = 64,
    ):
        if tile % 4 or margin % 4 or tile < 16:
            raise ValueError(f"tile and margin must be multiples of 4 (tile ≥ 16), got {tile} and {margin}")
        self.tile, self.margin = tile, margin
        self.device = torch.device(device)
        self.net = net.to(self.device).eval()
        self.flow_max_side = flow_max_side
        self.preset = preset
        self.cut = cut or (lambda a, b: bool(is_cut(a, b)[0]))

    def _flow(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        height, width = a.shape[-2:]
        fh, fw = fit_size(height, width, self.flow_max_side)
        small = [resize(luma(x.cpu()), fh, fw) for x in (a, b)]
        return resize_flow(dis_flow(*small, preset=self.preset), height, width).to(self.device)

    def _run(
        self, frame: torch.Tensor, aligned: torch.Tensor, flows: torch.Tensor, state: torch.Tensor | None, motion: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The network over the frame, tile by tile when it is larger than a tile."""
        height, width = frame.shape[-2:]
        if height <= self.tile and width <= self.tile:
            return self.net(frame, aligned, flows, state, motion)
        sharp = torch.empty_like(frame)
        new_state = None if state is None else torch.empty_like(state)
        m = self.margin
        for y in range(0, height, self.tile):
            for x in range(0, width, self.tile):
                y0, x0 = max(y - m, 0), max(x - m, 0)
                y1, x1 = min(y + self.tile + m, height), min(x + self.tile + m, width)
                box = (..., slice(y0, y1), slice(x0, x1))
                # The state lives at a quarter of the size; tiles and margins are multiples of 4.
                quarter = (..., slice(y0 // 4, -(-y1 // 4)), slice(x0 // 4, -(-x1 // 4)))
                out, part = self.net(
                    frame[box], aligned[box], flows[box], None if state is None else state[quarter], None if motion is None else motion[box]
                )  # fmt: skip
                inner_y, inner_x = slice(y - y0, min(y + self.tile, height) - y0), slice(x - x0, min(x + self.tile, width) - x0)
                sharp[..., y : y + self.tile, x : x + self.tile] = out[..., inner_y, inner_x]
                if new_state is not None:
                    qy, qx = y // 4, x // 4
                    rows, cols = new_state[..., qy : qy + self.tile // 4, qx : qx + self.tile // 4].shape[-2:]
                    new_state[..., qy : qy + rows, qx : qx + cols] = part[..., qy - y0 // 4 : qy - y0 // 4 + rows, qx - x0 // 4 : qx - x0 // 4 + cols]
        return sharp, new_state

    def restore(self, frames: Iterable[torch.Tensor]) -> Iterator[torch.Tensor]:
        """``(3, H, W)`` frames in [0, 1] → the same number of sharp ``(3, H, W)`` frames, in
        order. Memory holds ``2·scope + 1`` frames and their flows, whatever the length."""
        scope = self.net.config.scope
        shot: dict[int, torch.Tensor] = {}  # the current shot's frames still needed, by index
        flows: dict[tuple[int, int], torch.Tensor] = {}
        state: torch.Tensor | None = None
        done = 0  # frames of the shot already given out
        count = 0  # frames of the shot read so far

        def flow(i: int, j: int) -> torch.Tensor:
            if (i, j) not in flows:
                flows[(i, j)] = self._flow(shot[i], shot[j])
            return flows[(i, j)]

        def emit(k: int, last: int) -> torch.Tensor:
            nonlocal state
            with torch.inference_mode():
                sharp, state = restore_one(self.net, shot.__getitem__, k, last, flow, state, run=self._run)
            # Frame k + 1 reads back to k + 1 − scope, and to k for its state's flow.
            keep = k + 1 - max(scope, 1)
            for old in [i for i in shot if i < keep]:
                del shot[old]
            for key in [key for key in flows if min(key) < keep]:
                del flows[key]
            return sharp[0].clamp(0, 1).cpu()

        for image in frames:
            x = image.to(self.device, torch.float32)[None]
            if count and self.cut(shot[count - 1], x):
                while done < count:
                    yield emit(done, count - 1)
                    done += 1
                shot.clear()
                flows.clear()
                state, done, count = None, 0, 0
            shot[count] = x
            count += 1
            while done + scope < count:
                # The last index is not known yet; every neighbour frame `done` needs is read.
                yield emit(done, count - 1)
                done += 1
        while done < count:
            yield emit(done, count - 1)
            done += 1

    def restore_frames(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        """:meth:`restore` for decoded frames: timing and alpha kept, pixels restored."""
        held: list[Frame] = []

        def images() -> Iterator[torch.Tensor]:
            for frame in frames:
                held.append(frame)
                yield frame.image

        for sharp in self.restore(images()):
            source = held.pop(0)
            yield source.replace(image=sharp)


def load_deblurrer(path: Path | None = None, *, device: torch.device | str = "cpu", **options) -> Deblurrer:
    """A :class:`Deblurrer` with the network at ``path`` (default: the shipped one)."""
    from kinema.weights import DEBLUR

    net, _ = DeblurNet.load(Path(path) if path is not None else DEBLUR.path, map_location=device)
    return Deblurrer(net, device=device, **options)
