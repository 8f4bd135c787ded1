"""The latent engine: in-betweens from a video-specific autoencoder fit to this video.

For a pair ``a``, ``b`` and each time t the frame is ``g((1 − t)·f(a) + t·f(b))`` (the
paper's latent interpolation), then pulled back onto the video's manifold by
``reproject`` more passes through ``g ∘ f`` (the paper's iterative reprojection; what
it does here is measured in ``docs/models/video_ae.md``). No motion is estimated: what the in-between looks
like is whatever the autoencoder learned the video looks like near those two codes.

With ``geodesic`` > 0 the straight line between the two codes is first bent into a
shortest path on the video's manifold (the minimizing-geodesic idea of Chen et al.,
arXiv:2002.12259, solved per pair instead of by a trained network): ``GEODESIC_POINTS``
codes between the ends are moved by Adam to minimize the path's discrete energy
``Σ‖g(z_{k+1}) − g(z_k)‖²``, whose minimizers are constant-speed geodesics; time t is
then the point at fraction t of the path.

With a learned ``path`` (:class:`kinema.models.latent_path.LatentPath`, fit to the video
by ``vsae path``) the code at t is the path network's instead: the same idea trained
once per video, so it costs one small network pass per frame instead of an optimization
per pair.

The autoencoder only knows the video at the size it was fit at, so the frames must come
at that size (:attr:`VideoAE`'s working size, from the model file).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from kinema.engines.base import Engine, check_times
from kinema.models.latent_path import LatentPath
from kinema.models.video_ae import VideoAE

#: Codes between the two ends of a geodesic path.
GEODESIC_POINTS = 7


def geodesic_path(net: VideoAE, za: torch.Tensor, zb: torch.Tensor, size: tuple[int, int], *, steps: int, lr: float = 0.05) -> torch.Tensor:
    """``(GEODESIC_POINTS + 2, C, h, w)`` codes from ``za`` to ``zb`` (each ``(C, h, w)``)
    whose decoded path has (locally) least energy, starting from the straight line."""
    # The pipelines call engines under inference mode; this needs autograd, on ordinary
    # tensors (clones of the codes) and with the network's own weights frozen.
    with torch.inference_mode(False), torch.enable_grad():
        za, zb = za.clone(), zb.clone()
        fractions = torch.linspace(0, 1, GEODESIC_POINTS + 2, dtype=za.dtype, device=za.device)[1:-1].view(-1, 1, 1, 1)
        inner = torch.lerp(za[None], zb[None], fractions).requires_grad_(True)
        opt = torch.optim.Adam([inner], lr=lr * float(za.abs().mean().clamp_min(1e-3)))  # steps sized to the codes
        frozen = [p for p in net.parameters() if p.requires_grad]
        for p in frozen:
            p.requires_grad_(False)
        try:
            for _ in range(steps):
                path = net.decode(torch.cat([za[None], inner, zb[None]]), size)
                energy = (path[1:] - path[:-1]).pow(2).flatten(1).sum(1).sum()
                opt.zero_grad()
                energy.backward()
                opt.step()
                with torch.no_grad():
                    inner.clamp_(min=0)  # codes come out of a ReLU: stay where the decoder was trained
        finally:
            for p in frozen:
                p.requires_grad_(True)
        return torch.cat([za[None], inner.detach(), zb[None]])


def along(path: torch.Tensor, t: float) -> torch.Tensor:
    """The code at fraction ``t`` of a path of evenly spaced codes (linear between them)."""
    x = t * (len(path) - 1)
    k = min(int(x), len(path) - 2)
    return torch.lerp(path[k], path[k + 1], x - k)


class LatentEngine(Engine):
    name = "latent"

    def __init__(self, net: VideoAE, *, reproject: int = 5, geodesic: int = 0, path: LatentPath | None = None, size: tuple[int, int] | None = None):
        if reproject < 0 or geodesic < 0:
            raise ValueError(f"reproject and geodesic must be ≥ 0, got {reproject} and {geodesic}")
        if geodesic and path is not None:
            raise ValueError("a learned path and geodesic steps are two ways to bend the path: choose one")
        #: The learned path (None: the straight line, or the optimized geodesic).
        self.path = None if path is None else path.eval()
        self.net = net.eval()
        self.reproject = reproject
        #: Optimization steps that bend each pair's path into a geodesic (0: straight line).
        self.geodesic = geodesic
        #: The frame size the autoencoder was fit at (None: not checked).
        self.size = size

    def interpolate(self, a: torch.Tensor, b: torch.Tensor, times: Sequence[float]) -> torch.Tensor:
        ts = check_times(times)
        n, _, h, w = a.shape
        if self.size is not None and (h, w) != tuple(self.size):
            raise ValueError(f"frames are {w}x{h}; this autoencoder was fit at {self.size[1]}x{self.size[0]}")
        with torch.no_grad():
            za, zb = self.net.encode(torch.cat([a, b])).chunk(2)
        if self.path is not None:
            t = torch.tensor(ts, dtype=za.dtype, device=za.device).repeat(n)
            with torch.no_grad():
                codes = self.path(za.repeat_interleave(len(ts), 0), zb.repeat_interleave(len(ts), 0), t)
        elif self.geodesic:
            paths = [geodesic_path(self.net, za[i], zb[i], (h, w), steps=self.geodesic) for i in range(n)]
            codes = torch.stack([along(path, t) for path in paths for t in ts])
        else:
            t = torch.tensor(ts, dtype=za.dtype, device=za.device).view(1, -1, 1, 1, 1)
            codes = torch.lerp(za[:, None], zb[:, None], t).flatten(0, 1)  # (N·T, C, h', w')
        with torch.no_grad():
            out = self.net.reproject(self.net.decode(codes, (h, w)), self.reproject).view(n, len(ts), 3, h, w)
        # The ends are the inputs themselves, as every engine promises.
        for i, value in enumerate(ts):
            if value == 0.0:
                out[:, i] = a
            elif value == 1.0:
                out[:, i] = b
        return out
