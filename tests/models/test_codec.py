"""The codec's networks: shapes, quality levels, densities and their integer tables."""

import pytest
import torch

from kinema.models.codec import KINDS, STRIDE, CodecConfig, VideoCodec
from kinema.models.codec.entropy import TOTAL, FactorizedDensity, histogram, table_bits
from kinema.models.codec.model import block_basis


def test_latents_hold_one_coefficient_per_value_and_decode_to_the_input_size():
    torch.manual_seed(0)
    codec = VideoCodec(CodecConfig.tiny())
    b = codec.config.block
    frame = torch.rand(2, 3, 2 * STRIDE, 3 * STRIDE)
    y = codec.analyse("image", frame, 0)
    assert y.shape == (2, 3 * b * b, 2 * STRIDE // b, 3 * STRIDE // b) == (2, codec.channels("image"), *codec.latent_size(2 * STRIDE, 3 * STRIDE))
    assert codec.synthesise("image", y.round(), 0).shape == frame.shape
    flow = torch.randn(2, 2, 2 * STRIDE, 3 * STRIDE) * 4
    assert codec.analyse("motion", flow, 1).shape[1] == codec.channels("motion") == 2 * b * b
    assert codec.synthesise("motion", codec.analyse("motion", flow, 1).round(), 1).shape == flow.shape
    assert codec.compensation(frame, flow).shape == frame.shape


@pytest.mark.parametrize("channels", [2, 3])
def test_a_fresh_coder_is_an_orthonormal_block_transform(channels):
    """Before training the coders are the classical block DCT (with opponent colours for
    RGB): unquantized latents give the input back, and a finer quantization gives a closer
    reconstruction, which is what lets a briefly trained codec reach high quality."""
    torch.manual_seed(0)
    basis = block_basis(channels, 8)
    assert torch.allclose(basis @ basis.T, torch.eye(channels * 64), atol=1e-5)
    codec = VideoCodec(CodecConfig())
    kind = "image" if channels == 3 else "motion"
    x = torch.rand(1, channels, 32, 48) * (1 if channels == 3 else 16)
    with torch.no_grad():
        assert torch.allclose(codec.synthesise(kind, codec.analyse(kind, x, 2), 2), x, atol=1e-4)
        errors = [float((codec.synthesise(kind, codec.analyse(kind, x, level).round(), level) - x).square().mean()) for level in range(codec.config.levels)]
        assert all(a > b for a, b in zip(errors, errors[1:], strict=False))
        # Motion compensation starts as plain warping.
        frame = torch.rand(1, 3, 32, 48)
        assert torch.allclose(codec.compensation(frame, torch.zeros(1, 2, 32, 48)), frame, atol=1e-6)


def test_higher_levels_start_with_finer_quantization():
    codec = VideoCodec(CodecConfig())
    gains = codec.log_gains["image"].exp().mean(1)
    assert torch.all(gains[1:] > gains[:-1])
    assert torch.allclose(codec.log_gains["image"], -codec.log_gains["image_inverse"])


def test_density_is_a_distribution_and_its_tables_keep_every_symbol_codable():
    torch.manual_seed(0)
    density = FactorizedDensity(4)
    grid = torch.arange(-400, 401, dtype=torch.float32)
    mass = density.likelihood(grid.reshape(1, 1, 1, -1).expand(1, 4, 1, -1)).sum(-1)
    assert torch.allclose(mass, torch.ones_like(mass), atol=1e-3)
    counts = density.counts(40)
    assert counts.shape == (4, 81) and counts.min() >= 1 and torch.all(counts.sum(1) == TOTAL)


def test_table_bits_match_the_density_on_rounded_symbols():
    torch.manual_seed(0)
    density = FactorizedDensity(3)
    y = (torch.randn(1, 3, 16, 16) * 3).round()
    assert table_bits(y, density.counts(20), 20).item() == pytest.approx(density.bits(y).item(), rel=0.01)


def test_freeze_fills_every_table_and_a_saved_codec_loads_with_them(tmp_path):
    codec = VideoCodec(CodecConfig.tiny())
    assert not codec.frozen
    codec.freeze_tables()
    assert codec.frozen and all(codec.table(kind, 1).dtype == torch.int32 for kind in KINDS)
    loaded, _ = VideoCodec.load(codec.save(tmp_path / "c.safetensors"))
    assert loaded.frozen and torch.equal(loaded.tables_residual, codec.tables_residual)


def test_bad_configs_are_refused():
    for bad in ({"lambdas": (512.0, 256.0)}, {"range": 0}, {"hidden": 0}, {"post": 0}, {"block": 3}, {"flow_scale": 0.0}):
        with pytest.raises(ValueError):
            CodecConfig(**bad)


def test_tables_fitted_to_histograms_follow_the_symbols_the_encoder_makes():
    torch.manual_seed(0)
    codec = VideoCodec(CodecConfig.tiny())
    r = codec.config.range
    symbols = torch.zeros(4, codec.channels("image"), 3, 3)
    symbols[:, 1] = 2.0  # channel 1 always makes symbol 2
    counts = histogram(symbols, r)
    assert counts.shape == (codec.channels("image"), 2 * r + 1) and counts[1, r + 2] == 36 and counts[0, r] == 36
    histograms = {kind: torch.zeros(codec.config.levels, codec.channels(kind), 2 * r + 1) for kind in KINDS}
    histograms["image"][0] = counts * 100
    codec.freeze_tables(histograms)
    table = codec.table("image", 0)
    assert table[1].argmax() == r + 2 and table[0].argmax() == r and table[1, r + 2] > 0.9 * TOTAL
    # Where no symbol was seen, the density decides.
    assert torch.equal(codec.table("image", 1), codec.density("image", 1).counts(r).to(torch.int32))
