"""Synthetic interpolation triplets with exact ground truth at any t.

In the spirit of FlyingChairs / FlyingThings: a photo background and several photo
sprites (soft-edged blobs cut from other photos), each moving with its own affine motion
— translation, rotation and scaling that grow linearly in time — composited back to
front, so sprites occlude the background and each other. Because the motion of every
layer is a known function of time, the frame at any ``t`` is rendered exactly, not
interpolated. Optional global brightness drift and motion blur (the same exposure for all
three frames) make the task harder in the ways real video is.

Every layer is rendered with :func:`kinema.ops.warp.backward_warp` on a canvas larger
than the frame (so moving layers do not expose empty borders), then cropped.

:func:`smooth_clip` draws the other kind of content: smooth ramps and shaded shapes with
no photo in them, where GIF quantization shows most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from kinema.io.images import IMAGE_SUFFIXES, read_image
from kinema.io.pixels import from_hwc
from kinema.ops.blur import integrate
from kinema.ops.resize import fit_within, resize
from kinema.ops.warp import Padding, backward_warp, base_grid
from kinema.types import BadInputError


@dataclass(frozen=True)
class SyntheticConfig:
    """Ranges the generator draws from; motions are over the whole interval (t = 0 → 1)."""

    height: int = 256
    width: int = 256
    min_sprites: int = 1
    max_sprites: int = 5
    #: Largest background / sprite translation in pixels.
    background_shift: float = 16.0
    sprite_shift: float = 40.0
    #: Largest rotation (degrees) and log-scale change of a sprite.
    max_rotation: float = 15.0
    max_log_scale: float = 0.15
    #: Sprite size as a fraction of the frame's shorter side.
    sprite_size: tuple[float, float] = (0.15, 0.5)
    #: Probability of motion blur, and how many sub-frames it averages.
    blur_probability: float = 0.2
    blur_steps: int = 5
    #: Largest global brightness change over the interval (multiplicative, ±).
    brightness: float = 0.1
    #: Camera zoom: largest log-scale change of the background over the interval (0: pans only).
    background_zoom: float = 0.0
    #: Probability that a sprite is small and fast: a third of the smallest size, twice the shift.
    small_fast: float = 0.0

    @classmethod
    def tiny(cls) -> SyntheticConfig:
        """Small frames for tests."""
        return cls(height=48, width=64, max_sprites=2, background_shift=4.0, sprite_shift=8.0, blur_steps=3)


@dataclass(frozen=True)
class Motion:
    """Affine motion of one layer: ``x(s) = c + R(s·θ)·e^{s·σ}·(x − c) + s·d``."""

    center: tuple[float, float]
    shift: tuple[float, float]
    rotation: float  # radians over the interval
    log_scale: float

    def source_coords(self, grid: torch.Tensor, s: float) -> torch.Tensor:
        """Where each output pixel of ``grid`` ``(1, 2, H, W)`` comes from at time ``s``."""
        cx, cy = self.center
        angle, scale = s * self.rotation, math.exp(s * self.log_scale)
        cos, sin = math.cos(angle) / scale, math.sin(angle) / scale  # inverse rotation·scale
        x = grid[:, 0] - cx - s * self.shift[0]
        y = grid[:, 1] - cy - s * self.shift[1]
        return torch.stack([cx + cos * x + sin * y, cy - sin * x + cos * y], 1)


def _uniform(g: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=g))


def _blob(height: int, width: int, g: torch.Generator) -> torch.Tensor:
    """A soft-edged random blob ``(1, 1, H, W)`` in [0, 1]: a superellipse with a wobbly rim."""
    grid = base_grid(height, width)[0]
    x = (grid[0] + 0.5) / width * 2 - 1
    y = (grid[1] + 0.5) / height * 2 - 1
    radius = torch.sqrt(x**2 + y**2) + 1e-6
    angle = torch.atan2(y, x)
    rim = 0.8 * torch.ones_like(angle)
    for k in (2, 3, 5):
        rim = rim + _uniform(g, -0.12, 0.12) * torch.cos(k * angle + _uniform(g, 0, 2 * math.pi))
    edge = 2.0 / min(height, width)  # about one pixel of anti-aliasing
    return ((rim - radius) / edge).clamp(0, 1)[None, None]


class SyntheticTriplets:
    """Draws ``(a, middle, b, t)`` samples from photos; deterministic given a generator.

    ``photos`` are ``(3, H, W)`` tensors in [0, 1] (any sizes; see :func:`load_photos`).
    """

    def __init__(self, photos: list[torch.Tensor], config: SyntheticConfig = SyntheticConfig()):
        if len(photos) < 2:
            raise ValueError("need at least two photos (a background and a sprite source)")
        self.photos = photos
        self.config = config
        self.margin = int(math.ceil(max(config.background_shift, config.sprite_shift))) + 8

    def _texture(self, g: torch.Generator, height: int, width: int) -> torch.Tensor:
        """A random crop of a random photo resized to ``(1, 3, height, width)``, maybe flipped."""
        photo = self.photos[int(torch.randint(len(self.photos), (), generator=g))]
        ph, pw = photo.shape[-2:]
        # The largest crop of the target's aspect that fits, scaled by a random zoom.
        aspect = width / height
        fit_h = min(ph, pw / aspect)
        zoom = _uniform(g, 0.5, 1.0)
        ch = max(2, min(ph, int(fit_h * zoom)))
        cw = max(2, min(pw, int(ch * aspect)))
        y0 = int(torch.randint(ph - ch + 1, (), generator=g))
        x0 = int(torch.randint(pw - cw + 1, (), generator=g))
        crop = photo[None, :, y0 : y0 + ch, x0 : x0 + cw]
        crop = resize(crop, height, width)
        return crop.flip(-1) if bool(torch.rand((), generator=g) < 0.5) else crop

    def _motion(self, g: torch.Generator, center: tuple[float, float], shift: float, rotate: bool) -> Motion:
        cfg = self.config
        angle = _uniform(g, 0, 2 * math.pi)
        length = _uniform(g, 0, shift)
        if rotate:
            rotation = math.radians(_uniform(g, -cfg.max_rotation, cfg.max_rotation))
            log_scale = _uniform(g, -cfg.max_log_scale, cfg.max_log_scale)
        else:  # the background: a camera that pans, and zooms when asked (no draw otherwise)
            rotation = 0.0
            log_scale = _uniform(g, -cfg.background_zoom, cfg.background_zoom) if cfg.background_zoom > 0 else 0.0
        return Motion(center=center, shift=(length * math.cos(angle), length * math.sin(angle)), rotation=rotation, log_scale=log_scale)

    def scene(self, g: torch.Generator) -> Scene:
        """Draw the layers and their motions (everything but the time)."""
        cfg = self.config
        height, width = cfg.height + 2 * self.margin, cfg.width + 2 * self.margin
        center = ((width - 1) / 2, (height - 1) / 2)
        layers = [(self._texture(g, height, width), torch.ones(1, 1, height, width), self._motion(g, center, cfg.background_shift, False))]
        count = int(torch.randint(cfg.min_sprites, cfg.max_sprites + 1, (), generator=g))
        short = min(cfg.height, cfg.width)
        for _ in range(count):
            # Small fast sprites (a ball, a bird) only when asked: no extra draw otherwise.
            small = cfg.small_fast > 0 and bool(torch.rand((), generator=g) < cfg.small_fast)
            low, high = cfg.sprite_size
            sh = max(4, int(short * (_uniform(g, low / 3, low) if small else _uniform(g, low, high))))
            sw = max(4, int(sh * _uniform(g, 0.6, 1.6)))
            texture = self._texture(g, sh, sw)
            mask = _blob(sh, sw, g)
            y0 = self.margin + int(torch.randint(max(1, cfg.height - sh // 2), (), generator=g)) - sh // 4
            x0 = self.margin + int(torch.randint(max(1, cfg.width - sw // 2), (), generator=g)) - sw // 4
            y0, x0 = max(0, min(y0, height - sh)), max(0, min(x0, width - sw))
            canvas = torch.zeros(1, 3, height, width)
            alpha = torch.zeros(1, 1, height, width)
            canvas[:, :, y0 : y0 + sh, x0 : x0 + sw] = texture
            alpha[:, :, y0 : y0 + sh, x0 : x0 + sw] = mask
            shift = cfg.sprite_shift * (2 if small else 1)
            layers.append((canvas, alpha, self._motion(g, (x0 + sw / 2, y0 + sh / 2), shift, True)))
        blur = bool(torch.rand((), generator=g) < cfg.blur_probability)
        exposure = _uniform(g, 0.2, 0.6) if blur else 0.0
        gain = _uniform(g, -cfg.brightness, cfg.brightness)
        return Scene(layers=layers, margin=self.margin, exposure=exposure, steps=cfg.blur_steps if blur else 1, gain=gain)

    def sample(self, g: torch.Generator, t: float | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
        """``(a, middle, b, t)``: frames ``(3, H, W)`` at times 0, t and 1; t drawn in (0, 1)
        when not given."""
        scene = self.scene(g)
        if t is None:
            t = _uniform(g, 0.05, 0.95)
        a, mid, b = (scene.render(s) for s in (0.0, t, 1.0))
        return a, mid, b, t


@dataclass(frozen=True)
class Scene:
    """Layers (texture ``(1, 3, H', W')``, alpha ``(1, 1, H', W')``, motion), back to front."""

    layers: list[tuple[torch.Tensor, torch.Tensor, Motion]]
    margin: int
    exposure: float  # fraction of the interval the shutter is open (0: no motion blur)
    steps: int
    gain: float  # brightness change over the whole interval

    def _render_at(self, s: float) -> torch.Tensor:
        height, width = self.layers[0][0].shape[-2:]
        grid = base_grid(height, width)
        out = torch.zeros(1, 3, height, width)
        for texture, alpha, motion in self.layers:
            flow = motion.source_coords(grid, s) - grid
            colour = backward_warp(texture, flow, padding=Padding.REFLECTION)
            cover = backward_warp(alpha, flow, padding=Padding.ZEROS) if alpha.min() < 1 else alpha
            out = cover * colour + (1 - cover) * out
        return out * (1 + s * self.gain)

    def labels(self, s: float) -> torch.Tensor:
        """Which layer is seen at each pixel at time ``s``: ``(H, W)`` int64, 0 the
        background and ``i`` the ``i``-th sprite (the layer whose visible share — its
        cover times what the layers in front leave — is largest). Exact, and unblurred:
        the label maps of a clip the generator renders."""
        height, width = self.layers[0][0].shape[-2:]
        grid = base_grid(height, width)
        seen, left = [], torch.ones(1, 1, height, width)
        for _, alpha, motion in reversed(self.layers):  # front to back
            flow = motion.source_coords(grid, s) - grid
            cover = backward_warp(alpha, flow, padding=Padding.ZEROS) if alpha.min() < 1 else alpha
            seen.append(cover * left)
            left = left * (1 - cover)
        visible = torch.cat(seen[::-1], 1)  # back to front again: channel i is layer i
        m = self.margin
        return visible[0, :, m:-m, m:-m].argmax(0)

    def render(self, s: float) -> torch.Tensor:
        """The frame at time ``s`` ``(3, H, W)``, motion-blurred over the exposure if any."""
        frame = integrate(self._render_at, s, self.exposure, self.steps)
        m = self.margin
        return frame[0, :, m:-m, m:-m].clamp(0, 1)


def load_photos(folder: Path, *, max_side: int = 640) -> list[torch.Tensor]:
    """Every image in ``folder`` as ``(3, H, W)`` float tensors, longer side ≤ ``max_side``."""
    photos = []
    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    if not paths:
        raise BadInputError(f"{folder}: no photos ({', '.join(sorted(IMAGE_SUFFIXES))})")
    for path in paths:
        photos.append(fit_within(from_hwc(read_image(path))[0][None], max_side)[0])
    return photos


def smooth_clip(g: torch.Generator, *, frames: int = 6, side: int = 160, noise: float = 0.0) -> list[torch.Tensor]:
    """``frames`` frames ``(3, side, side)`` in [0, 1] of smooth, drawn content: a linear or
    radial two-colour gradient with low-frequency shading, and up to three shaded discs
    with hard or soft rims, each drifting a few pixels a frame; ``noise`` adds Gaussian
    noise of that many 8-bit levels (sensor-like). Deterministic given ``g``.

    This is where palette quantization shows most and photos and clips have least: wide
    smooth ramps (banding without dithering, a dense pattern with it), like the graphics
    and renders many GIFs are made from."""
    grid = base_grid(side, side)[0] / (side - 1)  # (2, H, W) in [0, 1]
    x, y = grid[0], grid[1]

    def colour() -> torch.Tensor:
        return torch.rand(3, generator=g)[:, None, None]

    c0, c1 = colour(), colour()
    radial = bool(torch.rand((), generator=g) < 0.35)
    angle = _uniform(g, 0, 2 * math.pi)
    centre = (_uniform(g, 0, 1), _uniform(g, 0, 1))
    drift = _uniform(g, -0.02, 0.02)  # of the ramp per frame
    # Shading: a coarse random field, smoothly upsampled, up to ±15 % of the brightness.
    coarse = torch.rand(1, 1, 4, 4, generator=g) * 2 - 1
    shading = 1 + _uniform(g, 0, 0.15) * torch.nn.functional.interpolate(coarse, size=(side, side), mode="bicubic", align_corners=True)[0]
    discs = []
    for _ in range(int(torch.randint(4, (), generator=g))):
        discs.append(
            (colour(), (_uniform(g, 0.1, 0.9), _uniform(g, 0.1, 0.9)), _uniform(g, 0.08, 0.3), (_uniform(g, -0.015, 0.015), _uniform(g, -0.015, 0.015)), _uniform(g, 0.5, 6.0))
        )
    if radial:
        base = torch.sqrt((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / math.sqrt(2)
    else:
        base = (x - 0.5) * math.cos(angle) + (y - 0.5) * math.sin(angle) + 0.5
    out = []
    for f in range(frames):
        ramp = (base + f * drift).clamp(0, 1)
        image = (c0 + (c1 - c0) * ramp) * shading
        for tint, (cx, cy), radius, (vx, vy), rim in discs:
            dx, dy = x - cx - f * vx, y - cy - f * vy
            r = torch.sqrt(dx**2 + dy**2) / radius
            # A lit sphere: brightest towards the upper left, darkening to the rim.
            lit = (1 - r.clamp(max=1) ** 2).sqrt() * 0.7 + 0.3 * (0.5 - (dx + dy) / (2 * radius)).clamp(0, 1)
            alpha = ((1 - r) * radius * side / rim).clamp(0, 1)  # rim: its width in pixels
            image = image * (1 - alpha) + tint * lit * alpha
        if noise:
            image = image + torch.randn(image.shape, generator=g) * (noise / 255)
        out.append(image.clamp(0, 1))
    return out
