import dataclasses

import numpy as np
import pytest
import torch

from kinema.models.gif2video import CCDNet, CCDNetConfig, DitherConfig, DitherNet
from kinema.ops.color import quantize_gif, stack_palettes
from kinema.ops.metrics import psnr
from kinema.train.gif2video import restoration_loss
from kinema.types import BadInputError, ModelMismatchError
from tests.media import smooth


def _gif(rgb: np.ndarray, colors: int, dither: bool = False):
    indices, palette = quantize_gif(rgb, colors, dither=dither)
    to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).float()[None] / 255  # noqa: E731
    return to_t(palette[indices]), stack_palettes([palette]), to_t(rgb)


@pytest.mark.parametrize("dithered", [False, True])
def test_untrained_net_returns_the_gif_at_any_size(dithered):
    gif, palettes, _ = _gif(smooth(0, 21, 35), 8)
    net = CCDNet(CCDNetConfig.tiny(dithered=dithered)).eval()
    out = net(gif, palettes)
    assert out.shape == gif.shape
    assert torch.equal(out, gif)


def test_non_dithered_net_needs_palettes():
    with pytest.raises(ValueError, match="palettes"):
        CCDNet(CCDNetConfig.tiny()).estimates(torch.rand(1, 3, 16, 16))


def test_tiny_ccdnet_overfits_one_quantized_frame():
    torch.manual_seed(0)
    gif, palettes, target = _gif(smooth(4, 32, 32), 6)
    net = CCDNet(CCDNetConfig.tiny())
    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    before = float(psnr(gif, target)[0])
    for _ in range(300):
        estimates = net.estimates(gif, palettes)
        loss = restoration_loss(estimates[-1], target) + 0.5 * restoration_loss(estimates[0], target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = float(psnr(net.eval()(gif, palettes), target)[0])
    assert after > before + 6, (before, after)


def test_checkpoint_round_trip_and_bad_files(tmp_path):
    torch.manual_seed(1)
    net = CCDNet(CCDNetConfig.tiny(colors=64))
    for p in net.parameters():
        p.data.normal_(0, 0.05)
    path = net.save(tmp_path / "c.safetensors", steps=3)
    loaded, meta = CCDNet.load(path)
    gif, palettes, _ = _gif(smooth(1, 16, 16), 8)
    assert meta["steps"] == 3 and loaded.config == net.config
    assert torch.equal(loaded(gif, palettes), net.eval()(gif, palettes))
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    (tmp_path / "bad.safetensors").write_bytes(bytes(raw))
    with pytest.raises(BadInputError, match="checksum"):
        CCDNet.load(tmp_path / "bad.safetensors")
    with pytest.raises(ModelMismatchError):
        DitherNet.load(path)
    # Same architecture name, tensors of another config: a clear mismatch error.
    other = CCDNet(dataclasses.replace(CCDNetConfig.tiny(), dithered=True))
    other_path = other.save(tmp_path / "d.safetensors")
    raw_cfg = CCDNet(CCDNetConfig.tiny())
    from kinema.models.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "e.safetensors", other.state_dict(), arch="kinema.ccdnet.v1", config=raw_cfg.config.as_dict())
    with pytest.raises(ModelMismatchError, match="do not fit"):
        CCDNet.load(tmp_path / "e.safetensors")
    assert CCDNet.load(other_path)[0].config.dithered


def test_classifier_separates_dithered_from_flat_inputs():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)

    def batch(n):
        frames, labels = [], []
        for i in range(n):
            rgb = smooth(int(rng.integers(0, 50)), 32, 32)
            dither = bool(i % 2)
            frames.append(_gif(rgb, int(rng.choice([8, 16, 32])), dither)[0][0])
            labels.append(float(dither))
        return torch.stack(frames), torch.tensor(labels)

    net = DitherNet(DitherConfig.tiny())
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(80):
        frames, labels = batch(16)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(frames), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    frames, labels = batch(40)
    with torch.no_grad():
        accuracy = ((net(frames) > 0).float() == labels).float().mean()
    assert accuracy >= 0.95, float(accuracy)


class _Places(torch.nn.Module):
    """A fixed per-place logit map: class 0 at 0 everywhere; class 1 at −1 except one
    place at +20 (strong evidence in one smooth patch); class 2 far below."""

    def forward(self, x):
        n, _, h, w = x.shape
        places = torch.stack([torch.zeros(h, w), torch.full((h, w), -1.0), torch.full((h, w), -30.0)])
        places[1, 0, 0] = 20.0
        return places.expand(n, -1, -1, -1)


@pytest.mark.parametrize(("pooling", "called"), [("mean", 0), ("logmeanexp", 1)])
def test_logmeanexp_pooling_lets_one_strong_place_decide(pooling, called):
    net = DitherNet(DitherConfig.tiny(classes=3, pooling=pooling)).eval()
    net.body = _Places()
    frames = torch.rand(2, 3, 16, 16)
    assert net.kind_probabilities(frames).argmax(-1).tolist() == [called, called]
    if pooling == "logmeanexp":  # log of the mean of exponentials, per class
        expected = torch.log((torch.exp(torch.tensor(20.0)) + 255 * torch.exp(torch.tensor(-1.0))) / 256)
        assert torch.allclose(net(frames)[0, 1], expected)


def test_dither_config_names_its_pooling():
    with pytest.raises(ValueError, match="pooling"):
        DitherConfig(pooling="max")
