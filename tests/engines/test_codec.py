"""The codec engine: what the encoder reconstructs is what the decoder shows, bit for bit."""

import pytest
import torch

from kinema.engines.codec import CodecEngine, adapt_encoder, code_intra, decoder_digest, rd_loss, round_symbols
from kinema.models.codec import CodecConfig, VideoCodec
from kinema.types import ModelMismatchError
from tests.media import texture


def tiny_codec(seed: int = 0) -> VideoCodec:
    torch.manual_seed(seed)
    codec = VideoCodec(CodecConfig.tiny())
    codec.freeze_tables()
    return codec.eval()


def frames(count: int = 5, h: int = 40, w: int = 56) -> list[torch.Tensor]:
    """A textured scene panning 2 pixels a frame, ``(1, 3, h, w)`` each."""
    scene = texture(h, w + 2 * count)
    return [scene[..., 2 * i : 2 * i + w] for i in range(count)]


def test_decoding_gives_the_encoders_reconstruction_exactly_and_encoding_repeats():
    engine = CodecEngine(tiny_codec())
    runs = []
    for _ in range(2):
        encoder = engine.encoder(2, gop=3)
        runs.append([encoder.push(f) for f in frames()])
    assert [p[1] for p in runs[0]] == [p[1] for p in runs[1]]  # the same bytes
    assert [p[0] for p in runs[0]] == [True, False, False, True, False]
    decoder = engine.decoder(2, 40, 56, engine.digest)
    for intra, payload, reconstruction in runs[0]:
        shown = decoder.decode(intra, payload)
        assert shown.shape == (1, 3, 40, 56) and torch.equal(shown, reconstruction)


def test_the_training_rate_estimate_is_within_two_percent_of_the_real_bytes():
    codec = tiny_codec()
    engine = CodecEngine(codec)
    frame = frames(1, 64, 96)[0]
    with torch.no_grad():
        estimate = code_intra(codec, frame, 1, round_symbols(codec)).bits.item()
    _, payload, _ = engine.encoder(2, gop=1).push(frame)
    assert abs(8 * len(payload) - estimate) <= 0.02 * estimate + 64


def test_an_adapted_encoder_keeps_the_decoder():
    codec = tiny_codec()
    run = torch.stack(frames(3, 48, 64))
    adapted = adapt_encoder(codec, [run], 1, steps=5, lr=1e-3, generator=torch.Generator().manual_seed(0))
    assert decoder_digest(adapted) == decoder_digest(codec)
    assert not torch.equal(adapted.log_gains["image"], codec.log_gains["image"])
    # The stock decoder reads the adapted encoder's packets.
    engine, stock = CodecEngine(adapted), CodecEngine(codec)
    encoder, decoder = engine.encoder(2, gop=3), stock.decoder(2, 48, 64, engine.digest)
    for frame in run:
        intra, payload, reconstruction = encoder.push(frame)
        assert torch.equal(decoder.decode(intra, payload), reconstruction)


def test_adapting_the_shipped_encoder_to_a_video_lowers_its_cost():
    """Online encoder updating (``--adapt``) on the shipped networks: the same video costs
    less (rate–distortion loss at inference, with rounding) after the encoder's steps."""
    from kinema.weights import CODEC

    codec, _ = CODEC.load()
    run = torch.stack(frames(3, 64, 96))
    adapted = adapt_encoder(codec, [run], 2, steps=20, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = rd_loss(codec, run, 2, round_symbols(codec))[0].item()
        after = rd_loss(adapted, run, 2, round_symbols(adapted))[0].item()
    assert after < before


def test_another_models_stream_and_unfinished_weights_are_refused():
    engine = CodecEngine(tiny_codec())
    with pytest.raises(ModelMismatchError, match="another codec model"):
        engine.decoder(1, 16, 16, CodecEngine(tiny_codec(seed=1)).digest)
    with pytest.raises(ModelMismatchError, match="no integer tables"):
        CodecEngine(VideoCodec(CodecConfig.tiny()))


def test_with_the_shipped_networks_the_training_estimate_is_within_two_percent_of_the_bytes():
    """With tables made from its own densities the bytes are what training minimised; the
    shipped tables (fitted to the symbols of real training clips) code the same frames,
    and the decoder still shows the encoder's reconstruction."""
    from kinema.weights import CODEC

    shipped, _ = CODEC.load()
    own = VideoCodec(shipped.config)
    own.load_state_dict(shipped.state_dict())
    own.freeze_tables()
    frames_ = frames(2, 96, 128)
    for codec in (own, shipped):
        engine = CodecEngine(codec)
        encoder = engine.encoder(3, gop=2)
        with torch.no_grad():
            first = code_intra(codec, frames_[0], 2, round_symbols(codec))
        intra, payload, reconstruction = encoder.push(frames_[0])
        assert torch.equal(reconstruction, first.frame)
        assert torch.equal(engine.decoder(3, 96, 128, engine.digest).decode(intra, payload), reconstruction)
        if codec is own:
            assert abs(8 * len(payload) - first.bits.item()) <= 0.02 * first.bits.item() + 64
