"""The learned latent path: a bend on the straight line that keeps both ends."""

import pytest
import torch

from kinema.models.latent_path import LatentPath, LatentPathConfig


def codes(n=3, c=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, 2, 3, generator=g), torch.rand(n, c, 2, 3, generator=g)


def test_untrained_it_is_the_straight_line_and_trained_it_keeps_the_ends(tmp_path):
    path = LatentPath(LatentPathConfig.tiny())
    za, zb = codes()
    t = torch.tensor([0.0, 0.3, 1.0])
    assert torch.allclose(path(za, zb, t), torch.lerp(za, zb, t.view(-1, 1, 1, 1)))
    with torch.no_grad():
        for p in path.parameters():
            p.normal_(0, 0.5)
    bent = path(za, zb, torch.tensor([0.0, 0.5, 1.0]))
    assert torch.allclose(bent[0], za[0]) and torch.allclose(bent[2], zb[2])
    assert not torch.allclose(bent[1], torch.lerp(za[1], zb[1], 0.5), atol=1e-3)
    assert (bent >= 0).all()  # codes of a ReLU encoder stay non-negative
    path.save(tmp_path / "p.safetensors", model="abc")
    loaded, meta = LatentPath.load(tmp_path / "p.safetensors")
    assert meta["model"] == "abc" and torch.equal(loaded(za, zb, torch.full((3,), 0.5)), path.eval()(za, zb, torch.full((3,), 0.5)))


def test_codes_of_the_wrong_width_are_refused():
    path = LatentPath(LatentPathConfig.tiny())
    za, zb = codes(c=16)
    with pytest.raises(ValueError, match="32 channels"):
        path(za, zb, torch.zeros(3))
