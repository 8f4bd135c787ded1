import numpy as np
import torch

from kinema.models.ccdnet import CCDNet, CCDNetConfig
from kinema.ops.color import palette_of, requantize, stack_palettes
from kinema.train.gifs import GifFrames, GifTrainConfig, train_ccdnet
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
