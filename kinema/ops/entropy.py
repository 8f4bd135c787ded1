"""Entropy coding of integer latents with fixed integer frequency tables (constriction's range coder).

The tables are counts ``(C, K)`` per channel for the symbols ``−range … range`` (``K =
2·range + 1``). The coder is handed ``counts / Σ counts`` as float64: each count is an
integer below 2⁵³ and each channel's sum a power of two, so the quotient is exact and
identical on every machine, and constriction turns it into its fixed-point model by a
deterministic integer procedure. Encoding and decoding therefore never depend on how a
machine rounds floats; the networks that turn the integers into pixels may differ in the
last bits between machines, which moves pixels, never the stream's parsing.

Shapes: symbols ``(C, h, w)`` integers (one frame's latent, batch dimension removed).
"""

from __future__ import annotations

import constriction
import numpy as np
import torch

# constriction is one compiled module: its parts are attributes, not importable submodules.
Categorical = constriction.stream.model.Categorical
RangeEncoder = constriction.stream.queue.RangeEncoder
RangeDecoder = constriction.stream.queue.RangeDecoder


class SymbolTables:
    """The range coder's models for one latent kind at one quality level (built once)."""

    def __init__(self, counts: torch.Tensor):
        counts = counts.to("cpu", torch.int64).numpy()
        if counts.ndim != 2 or (counts < 1).any():
            raise ValueError("tables must be (channels, symbols) counts, each at least 1")
        self.channels, size = counts.shape
        self.range = (size - 1) // 2
        self.models = [Categorical(row.astype(np.float64) / float(row.sum()), perfect=False) for row in counts]

    def encode(self, encoder: RangeEncoder, symbols: torch.Tensor) -> None:
        """Append ``symbols`` ``(C, h, w)`` (each in ``−range … range``) to ``encoder``."""
        if symbols.shape[0] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {symbols.shape[0]}")
        values = symbols.to("cpu", torch.int64).numpy().reshape(self.channels, -1) + self.range
        if values.size and (values.min() < 0 or values.max() > 2 * self.range):
            raise ValueError(f"symbols outside ±{self.range}")
        for row, model in zip(values.astype(np.int32), self.models, strict=True):
            encoder.encode(row, model)

    def decode(self, decoder: RangeDecoder, height: int, width: int) -> torch.Tensor:
        """The next ``(C, height, width)`` symbols from ``decoder`` (float32, as the networks take them)."""
        rows = [decoder.decode(model, height * width) for model in self.models]
        values = np.stack(rows).astype(np.float32) - self.range
        return torch.from_numpy(values.reshape(self.channels, height, width))


def encode_all(parts: list[tuple[SymbolTables, torch.Tensor]]) -> bytes:
    """One packet: each ``(tables, symbols)`` in order, range coded into bytes."""
    encoder = RangeEncoder()
    for tables, symbols in parts:
        tables.encode(encoder, symbols)
    return encoder.get_compressed().astype("<u4").tobytes()


def decoder_for(payload: bytes) -> RangeDecoder:
    """A decoder over a packet's bytes (whole 32-bit words, as :func:`encode_all` writes)."""
    if len(payload) % 4:
        raise ValueError("a packet holds whole 32-bit words")
    return RangeDecoder(np.frombuffer(payload, dtype="<u4").astype(np.uint32))
