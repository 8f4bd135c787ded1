"""The video autoencoder: shapes for any frame size, no path around the latent, checkpoints."""

import pytest
import torch

from kinema.models.video_ae import ARCH, VideoAE, VideoAEConfig
from kinema.types import ModelMismatchError


@pytest.mark.parametrize("size", [(64, 64), (144, 256), (65, 1), (7, 9)])
def test_latent_is_a_sixty_fourth_of_the_frame_and_output_matches_input(size):
    torch.manual_seed(0)
    net = VideoAE(VideoAEConfig.tiny()).eval()
    x = torch.rand(2, 3, *size)
    z = net.encode(x)
    assert z.shape == (2, 32, -(-size[0] // 64), -(-size[1] // 64))
    out = net(x)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1


def test_untrained_decoder_draws_flat_grey():
    # The near-zero last layer: a first step cannot blow up (see the model's comment).
    net = VideoAE(VideoAEConfig.tiny()).eval()
    out = net(torch.rand(1, 3, 64, 64))
    assert (out - 0.5).abs().max() < 0.05


def test_output_depends_on_the_input_only_through_the_latent():
    torch.manual_seed(0)
    net = VideoAE(VideoAEConfig.tiny()).eval()
    x = torch.rand(1, 3, 64, 64)
    # No skip connections: decoding the latent alone gives the whole output.
    assert torch.equal(net.decode(net.encode(x), (64, 64)), net(x))


def test_reproject_zero_steps_is_identity_and_n_steps_apply_the_autoencoder():
    torch.manual_seed(0)
    net = VideoAE(VideoAEConfig.tiny()).eval()
    x = torch.rand(1, 3, 32, 48)
    assert torch.equal(net.reproject(x, 0), x)
    assert torch.allclose(net.reproject(x, 2), net(net(x)))


def test_checkpoint_round_trip_keeps_batch_norm_statistics(tmp_path):
    torch.manual_seed(0)
    net = VideoAE(VideoAEConfig.tiny())
    net.train()
    net(torch.rand(4, 3, 64, 64))  # moves the running statistics
    net.eval()
    path = net.save(tmp_path / "ae.safetensors", note="test")
    loaded, meta = VideoAE.load(path)
    x = torch.rand(1, 3, 64, 64)
    assert meta == {"note": "test"}
    assert torch.equal(loaded(x), net(x))


def test_config_is_validated_and_a_file_of_another_arch_refused(tmp_path):
    with pytest.raises(ValueError):
        VideoAEConfig(encoder_widths=(8, 8))
    with pytest.raises(ValueError):
        VideoAEConfig.tiny(decoder_widths=(8, 8, 8, 8, 0))
    from kinema.models.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "x.safetensors", {"w": torch.zeros(1)}, arch="other", config={})
    with pytest.raises(ModelMismatchError):
        VideoAE.load(tmp_path / "x.safetensors")
    assert ARCH.startswith("kinema.")


def test_scaled_keeps_the_default_shape_and_paper_has_the_papers_widths():
    assert VideoAEConfig.scaled(8) == VideoAEConfig()
    wide = VideoAEConfig.scaled(16)
    assert wide.encoder_widths == tuple(2 * w for w in VideoAEConfig().encoder_widths)
    paper = VideoAEConfig.paper(64)
    assert paper.encoder_widths[0] == 64 and paper.latent_channels == 768
    with pytest.raises(ValueError):
        VideoAEConfig.scaled(0)
