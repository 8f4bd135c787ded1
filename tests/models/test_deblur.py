import pytest
import torch

from kinema.models.deblur import DeblurConfig, DeblurNet
from kinema.ops.blur import integrate
from kinema.ops.losses import charbonnier
from kinema.ops.metrics import psnr
from kinema.ops.warp import backward_warp
from kinema.train.deblur import run_sequence
from tests.media import texture


def blurry_sequence(length: int = 3, size: int = 32, speed: float = 6.0, exposure: float = 0.8, seed: int = 0):
    """A texture panning ``speed`` px per frame, filmed sharp and with a shutter open for
    ``exposure`` of each interval: ``(L, 1, 3, S, S)`` blurry and sharp."""
    big = texture(size + 64, size + 64, seed=seed)

    def render(s: float) -> torch.Tensor:
        flow = torch.zeros(1, 2, size + 64, size + 64)
        flow[:, 0] = speed * s
        return backward_warp(big, flow)[..., 8 : 8 + size, 8 : 8 + size]

    sharp = torch.stack([render(k) for k in range(length)])
    blurry = torch.stack([integrate(render, k, exposure, 12) for k in range(length)])
    return blurry, sharp


@pytest.mark.parametrize("config", [DeblurConfig.tiny(), DeblurConfig.tiny().__class__(widths=(4, 8, 8), blocks=0, hidden=0, scope=0)])
def test_an_untrained_network_stays_near_the_blurry_frame_for_any_size(config):
    torch.manual_seed(0)
    net = DeblurNet(config).eval()
    for height, width in ((17, 23), (32, 32)):
        frame = torch.rand(2, 3, height, width)
        k = config.neighbours
        sharp, state = net(frame, torch.rand(2, k, 3, height, width), torch.randn(2, k, 2, height, width))
        assert sharp.shape == frame.shape and 0 < float((sharp - frame).abs().max()) < 0.05
        assert (state is None) == (config.hidden == 0)
        if state is not None:
            assert state.shape == (2, config.hidden, *DeblurNet.state_size(height, width))


def test_wrong_neighbour_counts_or_motion_shapes_are_refused():
    net = DeblurNet(DeblurConfig.tiny())
    with pytest.raises(ValueError, match="neighbours"):
        net(torch.rand(1, 3, 8, 8), torch.rand(1, 1, 3, 8, 8), torch.rand(1, 1, 2, 8, 8))
    with pytest.raises(ValueError, match="motion"):
        net(torch.rand(1, 3, 8, 8), torch.rand(1, 2, 3, 8, 8), torch.rand(1, 2, 2, 8, 8), None, torch.rand(1, 3, 8, 8))
    assert DeblurConfig.tiny().offsets == (-0.25, 0.25, -0.5, 0.5)


def test_a_tiny_model_overfits_one_blurry_sequence():
    torch.manual_seed(0)
    blurry, sharp = blurry_sequence()
    net = DeblurNet(DeblurConfig.tiny())
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    before = psnr(blurry.flatten(0, 1), sharp.flatten(0, 1)).mean().item()
    for _ in range(100):
        loss = charbonnier(run_sequence(net, blurry) - sharp)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        after = psnr(run_sequence(net, blurry).clamp(0, 1).flatten(0, 1), sharp.flatten(0, 1)).mean().item()
    assert after > before + 3.5, (before, after)


def test_the_config_round_trips_and_bad_configs_are_refused(tmp_path):
    net = DeblurNet(DeblurConfig.tiny())
    loaded, meta = DeblurNet.load(net.save(tmp_path / "d.safetensors", note="x"))
    assert loaded.config == net.config and meta == {"note": "x"}
    for bad in (dict(widths=(4, 8)), dict(scope=3), dict(hidden=-1), dict(flow_scale=0), dict(streak=(0.5, -0.1))):
        with pytest.raises(ValueError):
            DeblurConfig(**bad)
