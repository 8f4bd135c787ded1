import numpy as np
import pytest
import torch

from kinema.models.gif2video import CCDNet, CCDNetConfig, DitherConfig, DitherNet
from kinema.ops.color import palette_of, requantize, stack_palettes
from kinema.train.gif2video import (
    DitherTrainConfig,
    GifFrames,
    GifTrainConfig,
    dither_accuracy,
    grow,
    kind_batch,
    train_ccdnet,
    train_dither,
)
from kinema.train.gif_encoders import BayerEncoder, EncodedSet, PillowEncoder
from tests.media import smooth

FRAMES = [smooth(i, 40, 52) for i in range(3)]


def test_samples_are_gifs_of_their_targets():
    data = GifFrames(FRAMES, (8,), crop=32)
    g = torch.Generator().manual_seed(0)
    gif, palette, target = data.sample(g, dither=False)
    assert gif.shape == target.shape == (3, 32, 32) and len(palette) <= 8
    assert torch.equal(requantize(target[None], stack_palettes([palette]))[0], gif)
    dithered, palette, _ = data.sample(g, dither=True)
    used = palette_of((dithered.permute(1, 2, 0) * 255).round().byte().numpy())
    assert set(map(tuple, used)) <= set(map(tuple, palette))


def test_training_resumes_bit_exactly(tmp_path):
    data = GifFrames(FRAMES, (8,), crop=16)
    cfg = GifTrainConfig(steps=4, batch=2, eval_every=2)
    torch.manual_seed(5)
    straight = CCDNet(CCDNetConfig.tiny(colors=8))
    train_ccdnet(straight, data, [], cfg, tmp_path / "a")
    torch.manual_seed(5)
    resumed = CCDNet(CCDNetConfig.tiny(colors=8))
    assert train_ccdnet(resumed, data, [], cfg, tmp_path / "b", stop_at=2) == 2
    resumed = CCDNet(CCDNetConfig.tiny(colors=8))
    assert train_ccdnet(resumed, data, [], cfg, tmp_path / "b") == 4
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    assert (tmp_path / "a" / "log.csv").read_text().count("\n") == 3
    assert np.isnan(float((tmp_path / "a" / "log.csv").read_text().splitlines()[1].split(",")[2]))


def test_grow_adds_a_level_that_starts_nearly_silent():
    torch.manual_seed(0)
    net = CCDNet(CCDNetConfig.tiny(colors=8)).eval()
    for p in net.parameters():  # a "trained" net: the zero-initialized tails would hide any change
        p.data.normal_(0, 0.05)
    gif = torch.rand(2, 3, 24, 32)  # a multiple of both nets' padding: same borders
    palettes = stack_palettes([np.array([[0, 0, 0], [255, 255, 255], [200, 30, 30]], np.uint8)] * 2)
    grown = grow(net, (8, 16, 24)).eval()
    assert grown.config.widths == (8, 16, 24) and grown.config.multiple == 8
    with torch.no_grad():
        before, after = net.estimates(gif, palettes)[-1], grown.estimates(gif, palettes)[-1]
        # Wired in: once the new level's lateral convolutions are non-zero, it changes the output.
        for unet in (grown.first, grown.refine):
            torch.nn.init.normal_(unet.lateral[-1].weight, 0, 0.5)
        wired = grown.estimates(gif, palettes)[-1]
    update = (before - gif).abs().mean()  # what the trained net does to the GIF
    drift = (after - before).abs().mean()
    assert drift < 0.05 * update
    assert (wired - before).abs().mean() > 3 * drift
    for key, value in net.state_dict().items():
        if key in grown.state_dict() and ".merge.1." not in key:
            assert torch.equal(grown.state_dict()[key], value), key
    for smaller in ((4, 16, 24), (8, 16)):
        with pytest.raises(ValueError, match="extend"):
            grow(net, smaller)


def test_grow_wider_starts_as_the_same_function_and_trains_the_new_channels():
    torch.manual_seed(0)
    net = CCDNet(CCDNetConfig.tiny(colors=8)).eval()
    for p in net.parameters():
        p.data.normal_(0, 0.05)
    gif = torch.rand(2, 3, 24, 32)
    palettes = stack_palettes([np.array([[0, 0, 0], [255, 255, 255], [200, 30, 30]], np.uint8)] * 2)
    grown = grow(net, (12, 20)).eval()
    with torch.no_grad():
        for a, b in zip(net.estimates(gif, palettes), grown.estimates(gif, palettes)):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
    grown.estimates(gif, palettes)[-1].square().mean().backward()
    # The tail reads the new channels with zero weights: their gradient is not zero, so
    # the first optimizer step starts using them.
    assert grown.refine.tail.weight.grad[:, 8:].abs().sum() > 0


@pytest.mark.parametrize("classes", [1, 3])
def test_the_kind_classifier_trains_in_the_one_loop_and_resumes_bit_exactly(tmp_path, classes):
    coders = [PillowEncoder(), PillowEncoder(dither=True), BayerEncoder(size=4)]
    data = EncodedSet([FRAMES], coders, (8, 32), crop=24)
    held = kind_batch(data, torch.Generator().manual_seed(99), 9)
    assert sorted(held[1].tolist()) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    cfg = DitherTrainConfig(steps=6, batch=6, eval_every=3)
    torch.manual_seed(2)
    straight = DitherNet(DitherConfig.tiny(classes=classes))
    assert train_dither(straight, data, held, cfg, tmp_path / "a") == 6
    torch.manual_seed(2)
    resumed = DitherNet(DitherConfig.tiny(classes=classes))
    assert train_dither(resumed, data, held, cfg, tmp_path / "b", stop_at=3) == 3
    resumed = DitherNet(DitherConfig.tiny(classes=classes))
    assert train_dither(resumed, data, held, cfg, tmp_path / "b") == 6
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    rows = (tmp_path / "a" / "log.csv").read_text().splitlines()
    assert rows[0].split(",")[:3] == ["step", "loss", "val_accuracy"] and len(rows) == 3
    assert float(rows[-1].split(",")[2]) == dither_accuracy(straight, *held)
    assert not straight.training
