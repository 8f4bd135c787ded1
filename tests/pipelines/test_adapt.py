import pytest
import torch

from kinema.models.interp import InterpConfig, InterpNet
from kinema.ops.metrics import psnr
from kinema.pipelines.adapt import AdaptConfig, adapt
from tests.media import texture


def _clip(frames: int = 9, step: int = 2, h: int = 40, w: int = 56) -> list[torch.Tensor]:
    big = texture(h + 2 * step * frames, w + 2 * step * frames, seed=5)[0]
    return [big[:, 8 : 8 + h, 8 + i * step : 8 + i * step + w] for i in range(frames)]


def _error(model: InterpNet, clip) -> float:
    a, mid, b = torch.stack(clip[0:-2:2]), torch.stack(clip[1:-1:2]), torch.stack(clip[2::2])
    with torch.no_grad():
        return psnr(model(a, b, torch.full((a.shape[0],), 0.5)), mid).mean().item()


def test_adaptation_fits_the_video_and_is_deterministic():
    clip = _clip()
    frames = [(f * 255).round().to(torch.uint8) for f in clip]
    torch.manual_seed(0)
    model = InterpNet(InterpConfig.tiny())
    before = _error(model, clip)
    adapt(model, frames, AdaptConfig(steps=40, lr=3e-3, batch=2, crop=40, seed=3), guide=None)
    after = _error(model, clip)
    assert after > before + 1, (before, after)  # 24.3 → 26.2 dB when written
    torch.manual_seed(0)
    again = adapt(InterpNet(InterpConfig.tiny()), frames, AdaptConfig(steps=40, lr=3e-3, batch=2, crop=40, seed=3), guide=None)
    for p, q in zip(model.state_dict().values(), again.state_dict().values()):
        assert torch.equal(p, q)


def test_still_or_too_short_video_is_refused():
    still = [torch.full((3, 32, 32), 100, dtype=torch.uint8)] * 5
    with pytest.raises(ValueError, match="three consecutive moving frames"):
        adapt(InterpNet(InterpConfig.tiny()), still, AdaptConfig(steps=3), guide=None)


def test_a_network_with_a_learned_priority_adapts_on_the_unprojected_motion():
    from kinema.engines.learned import ClassicalGuide

    frames = [(f * 255).round().to(torch.uint8) for f in _clip()]
    torch.manual_seed(0)
    model = InterpNet(InterpConfig.tiny().replace(priority=True, adaptive=3))
    adapt(model, frames, AdaptConfig(steps=3, lr=3e-3, batch=2, crop=40, seed=3), guide=ClassicalGuide())
    # The heads start at zero and get gradients only through the parts the guide hands over.
    assert model.priority_head[-1].weight.abs().max() > 0 and model.kernel_head[-1].weight.abs().max() > 0
