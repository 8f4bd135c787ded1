"""Coding one frame with the learned codec: the step the encoder, the decoder and the
trainer share.

:func:`code_intra` and :func:`code_inter` turn a frame into latents and back through a
``quantize`` function. Inference passes :func:`round_symbols` (integers, clamped to the
tables' range) and the decoder rebuilds the same frame from the same integers through
:func:`decode_intra` / :func:`decode_inter`, which the encoder also calls: its reference
frames are therefore exactly the decoder's. Training passes :func:`noisy` (Ballé's
additive uniform noise for the rate, straight-through rounding for the reconstruction).

Shapes: frames ``(N, 3, H, W)`` in [0, 1], H and W multiples of
:data:`kinema.models.codec.STRIDE` (:func:`pad` makes them so); flows ``(N, 2, H, W)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from kinema.models.checkpoint import tensor_digest
from kinema.models.codec import STRIDE, VideoCodec
from kinema.ops.entropy import SymbolTables, decoder_for, encode_all
from kinema.ops.flow import dis_flow
from kinema.types import BadInputError, ModelMismatchError

#: ``quantize(kind, latent, level) → (decoder input, rate input)``.
Quantize = Callable[[str, torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class Coded:
    """One coded frame: its reconstruction (what the decoder will show and the next
    P-frame will be predicted from), the latents (what is entropy coded; integers under
    :func:`round_symbols`) and the density's estimate of their bits."""

    frame: torch.Tensor
    latents: dict[str, torch.Tensor]
    bits: torch.Tensor


def pad(frames: torch.Tensor) -> torch.Tensor:
    """``frames`` ``(..., 3, H, W)`` edge-padded on the right and bottom to multiples of :data:`STRIDE`."""
    h, w = frames.shape[-2:]
    ph, pw = -h % STRIDE, -w % STRIDE
    if not (ph or pw):
        return frames
    flat = frames.reshape(-1, *frames.shape[-3:])
    return F.pad(flat, (0, pw, 0, ph), mode="replicate").reshape(*frames.shape[:-2], h + ph, w + pw)


def round_symbols(codec: VideoCodec) -> Quantize:
    """Inference: latents rounded to integers in the tables' range (the rate is counted on them)."""
    r = codec.config.range

    def quantize(kind: str, y: torch.Tensor, level: int) -> tuple[torch.Tensor, torch.Tensor]:
        q = y.round().clamp(-r, r)
        return q, q

    return quantize


def noisy(codec: VideoCodec, generator: torch.Generator | None = None) -> Quantize:
    """Training: the decoder sees rounded latents (gradients pass straight through), the
    rate is measured on latents plus uniform noise (a differentiable stand-in for rounding)."""
    r = codec.config.range

    def quantize(kind: str, y: torch.Tensor, level: int) -> tuple[torch.Tensor, torch.Tensor]:
        clamped = y.clamp(-r, r)
        straight = clamped + (clamped.round() - clamped).detach()
        # Drawn on the CPU (a seeded CPU generator serves any device), then moved.
        noise = torch.rand(y.shape, generator=generator).to(y.device) - 0.5
        return straight, y + noise

    return quantize


def unit_range(x: torch.Tensor) -> torch.Tensor:
    """``x`` clamped to [0, 1]; the gradient passes as if unclamped, so training still pulls
    an out-of-range pixel back (a plain clamp would leave it with no gradient)."""
    if not torch.is_grad_enabled():
        return x.clamp(0, 1)
    return x + (x.clamp(0, 1) - x).detach()


def decode_intra(codec: VideoCodec, image: torch.Tensor, level: int) -> torch.Tensor:
    """An I-frame from its (rounded) latent."""
    return unit_range(codec.synthesise("image", image, level))


def predict(codec: VideoCodec, reference: torch.Tensor, motion: torch.Tensor, level: int) -> torch.Tensor:
    """A P-frame's prediction: the reference moved by the decoded motion, compensated."""
    return codec.compensation(reference, codec.synthesise("motion", motion, level))


def reconstruct(codec: VideoCodec, prediction: torch.Tensor, residual: torch.Tensor, level: int) -> torch.Tensor:
    return unit_range(prediction + codec.synthesise("residual", residual, level))


def decode_inter(codec: VideoCodec, reference: torch.Tensor, motion: torch.Tensor, residual: torch.Tensor, level: int) -> torch.Tensor:
    """A P-frame from the previous decoded frame and its two (rounded) latents."""
    return reconstruct(codec, predict(codec, reference, motion, level), residual, level)


def code_intra(codec: VideoCodec, frame: torch.Tensor, level: int, quantize: Quantize) -> Coded:
    decoded, rated = quantize("image", codec.analyse("image", frame, level), level)
    bits = codec.density("image", level).bits(rated)
    return Coded(decode_intra(codec, decoded, level), {"image": decoded}, bits)


def code_inter(codec: VideoCodec, frame: torch.Tensor, reference: torch.Tensor, flow: torch.Tensor, level: int, quantize: Quantize) -> Coded:
    """``frame`` predicted from ``reference`` along ``flow`` (frame → reference, the motion
    estimate, any method), then the residual."""
    motion, motion_rated = quantize("motion", codec.analyse("motion", flow, level), level)
    prediction = predict(codec, reference, motion, level)
    residual, residual_rated = quantize("residual", codec.analyse("residual", frame - prediction, level), level)
    bits = codec.density("motion", level).bits(motion_rated) + codec.density("residual", level).bits(residual_rated)
    # The same two steps as decode_inter, so the encoder's reference is the decoder's.
    return Coded(reconstruct(codec, prediction, residual, level), {"motion": motion, "residual": residual}, bits)


def code_run(codec: VideoCodec, run: torch.Tensor, level: int, quantize: Quantize) -> list[Coded]:
    """Code ``run`` ``(T, N, 3, H, W)`` as one GOP (motion: DIS between the original
    frames, as the encoder estimates it), each frame predicted from the one coded before."""
    coded = [code_intra(codec, run[0], level, quantize)]
    for t in range(1, run.shape[0]):
        coded.append(code_inter(codec, run[t], coded[-1].frame, dis_flow(run[t], run[t - 1]), level, quantize))
    return coded


def rd_loss(codec: VideoCodec, run: torch.Tensor, level: int, quantize: Quantize) -> tuple[torch.Tensor, float, float]:
    """``(λ·MSE + bpp, mean PSNR, bpp)`` of ``run`` coded as one GOP: what training and
    ``--adapt`` minimise."""
    coded = code_run(codec, run, level, quantize)
    pixels = run.shape[1] * run.shape[-2] * run.shape[-1]
    mse = torch.stack([F.mse_loss(c.frame, x) for c, x in zip(coded, run, strict=True)])
    bpp = torch.stack([c.bits for c in coded]).sum() / (pixels * run.shape[0])
    loss = codec.config.lambdas[level] * mse.mean() + bpp
    psnr = float((-10 * torch.log10(mse.detach().clamp_min(1e-10))).mean())
    return loss, psnr, float(bpp.detach())


def is_decoder_tensor(name: str) -> bool:
    """Whether the decoder uses tensor ``name``: synthesis, inverse gains, compensation and
    the integer tables; not the analysis transforms, the encoder's gains or the float
    densities (used only to train and to adapt)."""
    if ".analysis." in name or name.startswith("densities."):
        return False
    return not (name.startswith("log_gains.") and not name.endswith("_inverse"))


def decoder_digest(codec: VideoCodec) -> str:
    """A digest of what decoding depends on: a stream names it, so another model's decoder
    is refused, and an encoder adapted to a video (``--adapt``) keeps it."""
    return tensor_digest({k: v for k, v in codec.state_dict().items() if is_decoder_tensor(k)})[:32]


def adapt_encoder(
    codec: VideoCodec, runs: list[torch.Tensor], level: int, *, steps: int, lr: float = 1e-4, crop: int = 256, generator: torch.Generator
) -> VideoCodec:
    """A copy of ``codec`` whose encoder (the analysis corrections and gains) is tuned to
    ``runs`` ``(T, 1, 3, H, W)`` by ``steps`` Adam steps on the rate–distortion loss at
    ``level`` (0-based), the content-adaptive codec's online encoder updating. Every decoder
    tensor is left as it is (:func:`decoder_digest` is unchanged), so the stock decoder reads
    what the adapted encoder writes."""
    adapted = VideoCodec(codec.config).to(next(codec.parameters()).device)
    adapted.load_state_dict(codec.state_dict())
    tuned = [p for name, p in adapted.named_parameters() if not is_decoder_tensor(name) and not name.startswith("densities.")]
    for p in adapted.parameters():
        p.requires_grad_(False)
    for p in tuned:
        p.requires_grad_(True)
    opt = torch.optim.Adam(tuned, lr=lr)
    adapted.train()
    for _ in range(steps):
        run = runs[int(torch.randint(len(runs), (), generator=generator))].to(adapted.log_gains["image"].device)
        h, w = run.shape[-2:]
        ch, cw = min(crop, h) // STRIDE * STRIDE or STRIDE, min(crop, w) // STRIDE * STRIDE or STRIDE
        y0, x0 = int(torch.randint(max(h - ch, 0) + 1, (), generator=generator)), int(torch.randint(max(w - cw, 0) + 1, (), generator=generator))
        loss, _, _ = rd_loss(adapted, pad(run[..., y0 : y0 + ch, x0 : x0 + cw]), level, noisy(adapted, generator))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    adapted.eval()
    for p in adapted.parameters():
        p.requires_grad_(False)
    return adapted


class CodecEngine:
    """A trained codec on a device, with its range-coder tables; one instance encodes or
    decodes any number of streams (:meth:`encoder`, :meth:`decoder`)."""

    def __init__(self, codec: VideoCodec, *, device: str | torch.device = "cpu"):
        if not codec.frozen:
            raise ModelMismatchError("these codec weights have no integer tables (an unfinished training state?)")
        self.device = torch.device(device)
        self.codec = codec.to(self.device).eval()
        self.digest = decoder_digest(codec)
        self._tables: dict[tuple[str, int], SymbolTables] = {}

    @property
    def levels(self) -> int:
        return self.codec.config.levels

    def tables(self, kind: str, level: int) -> SymbolTables:
        if (kind, level) not in self._tables:
            self._tables[kind, level] = SymbolTables(self.codec.table(kind, level))
        return self._tables[kind, level]

    def encoder(self, level: int, gop: int) -> StreamEncoder:
        return StreamEncoder(self, level, gop)

    def decoder(self, level: int, height: int, width: int, digest: str) -> StreamDecoder:
        if digest != self.digest:
            raise ModelMismatchError(f"the stream was made by another codec model ({digest[:12]}…), not these weights ({self.digest[:12]}…)")
        if not 1 <= level <= self.levels:
            raise BadInputError(f"the stream's quality level {level} is not one of these weights' 1…{self.levels}")
        return StreamDecoder(self, level, height, width)


class StreamEncoder:
    """Frames in, packets out: every ``gop``-th frame (from the first) is an I-frame."""

    def __init__(self, engine: CodecEngine, level: int, gop: int):
        if not 1 <= level <= engine.levels:
            raise ValueError(f"quality level must be 1…{engine.levels}, got {level}")
        if gop < 1:
            raise ValueError(f"gop must be at least 1, got {gop}")
        self.engine, self.level, self.gop = engine, level - 1, gop
        self.count = 0
        self._reference: torch.Tensor | None = None
        self._previous: torch.Tensor | None = None

    @torch.no_grad()
    def push(self, frame: torch.Tensor) -> tuple[bool, bytes, torch.Tensor]:
        """Code ``frame`` ``(1, 3, H, W)`` → ``(is I-frame, payload, reconstruction (1, 3, H, W))``;
        the reconstruction is exactly what the decoder will show."""
        codec, quantize = self.engine.codec, round_symbols(self.engine.codec)
        h, w = frame.shape[-2:]
        x = pad(frame.to(self.engine.device, torch.float32))
        intra = self.count % self.gop == 0
        if intra:
            coded = code_intra(codec, x, self.level, quantize)
        else:
            coded = code_inter(codec, x, self._reference, dis_flow(x, self._previous), self.level, quantize)
        kinds = ("image",) if intra else ("motion", "residual")
        payload = encode_all([(self.engine.tables(kind, self.level), coded.latents[kind][0]) for kind in kinds])
        self._reference, self._previous = coded.frame, x
        self.count += 1
        return intra, payload, coded.frame[..., :h, :w]


class StreamDecoder:
    """Packets in, frames out, for a stream of ``height × width`` frames."""

    def __init__(self, engine: CodecEngine, level: int, height: int, width: int):
        self.engine, self.level = engine, level - 1
        self.height, self.width = height, width
        self.latent = engine.codec.latent_size(-(-height // STRIDE) * STRIDE, -(-width // STRIDE) * STRIDE)
        self._reference: torch.Tensor | None = None

    @torch.no_grad()
    def decode(self, intra: bool, payload: bytes) -> torch.Tensor:
        """The frame ``(1, 3, H, W)`` a packet holds; a P-packet needs the frames before it."""
        codec, engine = self.engine.codec, self.engine
        try:
            decoder = decoder_for(payload)
            kinds = ("image",) if intra else ("motion", "residual")
            latents = {k: engine.tables(k, self.level).decode(decoder, *self.latent)[None].to(engine.device) for k in kinds}
        except (ValueError, RuntimeError) as exc:
            raise BadInputError(f"undecodable packet ({exc})") from None
        if intra:
            frame = decode_intra(codec, latents["image"], self.level)
        elif self._reference is None:
            raise BadInputError("a P-frame without an I-frame before it")
        else:
            frame = decode_inter(codec, self._reference, latents["motion"], latents["residual"], self.level)
        self._reference = frame
        return frame[..., : self.height, : self.width]
