"""The latent engine: exact ends, latent interpolation, geodesic paths, size checks."""

import pytest
import torch

from kinema.engines.latent import GEODESIC_POINTS, LatentEngine, along, geodesic_path
from kinema.models.video_ae import VideoAE, VideoAEConfig


def net():
    torch.manual_seed(0)
    model = VideoAE(VideoAEConfig.tiny())
    for p in model.decoder[-1].parameters():  # a decoder that draws something, not flat grey
        torch.nn.init.normal_(p, std=0.1)
    return model.eval()


def test_ends_are_the_inputs_and_the_middle_decodes_the_mean_code():
    model = net()
    a, b = torch.rand(2, 3, 32, 48), torch.rand(2, 3, 32, 48)
    out = LatentEngine(model, reproject=0).interpolate(a, b, [0.0, 0.5, 1.0])
    assert out.shape == (2, 3, 3, 32, 48)
    assert torch.equal(out[:, 0], a) and torch.equal(out[:, 2], b)
    with torch.no_grad():
        mid = model.decode((model.encode(a) + model.encode(b)) / 2, (32, 48))
    assert torch.allclose(out[:, 1], mid, atol=1e-6)


def test_reprojection_passes_the_blend_through_the_autoencoder_again():
    model = net()
    a, b = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    plain = LatentEngine(model, reproject=0).interpolate(a, b, [0.25])[:, 0]
    twice = LatentEngine(model, reproject=2).interpolate(a, b, [0.25])[:, 0]
    with torch.no_grad():
        assert torch.allclose(twice, model(model(plain)), atol=1e-6)


def test_frames_of_another_size_are_refused():
    with pytest.raises(ValueError, match="fit at 48x32"):
        LatentEngine(net(), size=(32, 48)).interpolate(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), [0.5])


def test_geodesic_path_keeps_its_ends_and_shortens_the_decoded_path():
    model = net()
    with torch.no_grad():
        za, zb = model.encode(torch.rand(2, 3, 64, 64)).chunk(2)
    path = geodesic_path(model, za[0], zb[0], (64, 64), steps=30)
    assert path.shape == (GEODESIC_POINTS + 2, *za.shape[1:])
    assert torch.equal(path[0], za[0]) and torch.equal(path[-1], zb[0])
    assert path.min() >= 0  # codes stay in the ReLU's orthant

    def energy(codes):
        with torch.no_grad():
            images = model.decode(codes, (64, 64))
        return float((images[1:] - images[:-1]).pow(2).sum())

    line = torch.stack([along(torch.stack([za[0], zb[0]]), k / (GEODESIC_POINTS + 1)) for k in range(GEODESIC_POINTS + 2)])
    assert energy(path) < energy(line)
    assert all(p.requires_grad for p in model.parameters())  # the network is left as it was


def test_geodesic_engine_works_under_inference_mode():
    model = net()
    a, b = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.inference_mode():
        out = LatentEngine(model, reproject=1, geodesic=3).interpolate(a, b, [0.5])
    assert out.shape == (1, 1, 3, 32, 32) and torch.isfinite(out).all()
