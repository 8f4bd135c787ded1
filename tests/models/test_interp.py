import dataclasses

import pytest
import torch

from kinema.engines.classical import ClassicalEngine
from kinema.models.interp import InterpConfig, InterpNet
from kinema.models.interp.model import complexity
from kinema.ops.metrics import psnr
from kinema.ops.projection import project_to_t
from kinema.train.run_interp import with_parts
from kinema.train.synthetic import SyntheticConfig, SyntheticTriplets
from kinema.types import BadInputError, ModelMismatchError


def _triplet():
    g = torch.Generator().manual_seed(0)
    photos = [torch.nn.functional.interpolate(torch.rand(1, 3, 12, 16, generator=g), size=(90, 120), mode="bicubic").clamp(0, 1)[0] for _ in range(3)]
    a, mid, b, t = SyntheticTriplets(photos, SyntheticConfig.tiny()).sample(torch.Generator().manual_seed(1), t=0.5)
    return a[None], mid[None], b[None], torch.tensor([t])


def test_untrained_model_is_the_linear_blend_and_any_size_works():
    torch.manual_seed(0)
    net = InterpNet(InterpConfig.tiny())
    a, b = torch.rand(2, 3, 37, 51), torch.rand(2, 3, 37, 51)
    t = torch.tensor([0.25, 0.75])
    out = net(a, b, t)
    assert out.shape == (2, 3, 37, 51)
    expected = (1 - t.view(2, 1, 1, 1)) * a + t.view(2, 1, 1, 1) * b
    assert torch.allclose(out, expected, atol=1e-3)  # zero-initialized corrections, time-prior mask


def test_untrained_model_follows_its_guide_flows():
    torch.manual_seed(0)
    net = InterpNet(InterpConfig.tiny())
    a, b = torch.rand(1, 3, 32, 48), torch.rand(1, 3, 32, 48)
    guide = torch.zeros(1, 4, 32, 48)
    guide[:, 0] = 3.0  # sample a three pixels to the right, b where it is
    out = net(a, b, torch.tensor([0.5]), guide)
    expected = 0.5 * torch.roll(a, -3, -1) + 0.5 * b
    assert torch.allclose(out[..., :-3], expected[..., :-3], atol=1e-3)


def test_tiny_model_overfits_one_synthetic_triplet():
    torch.manual_seed(0)
    a, mid, b, t = _triplet()
    net = InterpNet(InterpConfig.tiny())
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-3)
    for _ in range(50):
        loss = torch.sqrt((net(a, b, t) - mid) ** 2 + 1e-6).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert psnr(net(a, b, t).detach(), mid).item() > 35


def test_checkpoint_round_trip_and_refusals(tmp_path):
    torch.manual_seed(1)
    net = InterpNet(InterpConfig.tiny())
    for p in net.parameters():
        p.data.normal_(0, 0.01)
    path = net.save(tmp_path / "w.safetensors", steps=3, data="unit-test")
    loaded, meta = InterpNet.load(path)
    assert meta == {"data": "unit-test", "steps": 3} and loaded.config == net.config
    a, b, t = torch.rand(1, 3, 24, 40), torch.rand(1, 3, 24, 40), torch.tensor([0.4])
    with torch.no_grad():
        assert torch.equal(net.eval()(a, b, t), loaded(a, b, t))

    corrupt = tmp_path / "corrupt.safetensors"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # flip bits inside the last tensor
    corrupt.write_bytes(bytes(data))
    with pytest.raises(BadInputError, match="checksum"):
        InterpNet.load(corrupt)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(path.read_bytes()[:100])
    with pytest.raises(BadInputError):
        InterpNet.load(truncated)
    other = InterpNet(dataclasses.replace(InterpConfig.tiny(), context=6))
    mismatched = other.save(tmp_path / "other.safetensors")
    # Same arch but a config the file's tensors do not fit: edit the header's config.
    from kinema.models.checkpoint import load_checkpoint, save_checkpoint

    tensors, config, _ = load_checkpoint(mismatched, arch="kinema.interp.v2")
    save_checkpoint(tmp_path / "lie.safetensors", tensors, arch="kinema.interp.v2", config=InterpConfig.tiny().as_dict())
    with pytest.raises(ModelMismatchError):
        InterpNet.load(tmp_path / "lie.safetensors")
    save_checkpoint(tmp_path / "gif.safetensors", tensors, arch="kinema.ccdnet.v1", config=config)
    with pytest.raises(ModelMismatchError, match="ccdnet"):
        InterpNet.load(tmp_path / "gif.safetensors")


def test_complexity_counts_parameters_and_flops():
    net = InterpNet(InterpConfig.tiny())
    params, gflops = complexity(net, 64, 64)
    assert params == sum(p.numel() for p in net.parameters()) > 0
    _, gflops_big = complexity(net, 128, 128)
    assert gflops > 0 and gflops_big == pytest.approx(4 * gflops, rel=0.05)  # FLOPs scale with pixels


def test_confidence_gate_leaves_a_still_pair_untouched_and_lets_motion_through():
    torch.manual_seed(2)
    net = InterpNet(InterpConfig.tiny())
    for p in net.parameters():
        p.data.normal_(0, 0.05)  # a "trained" network that changes things
    frame = torch.rand(1, 3, 32, 48)
    guide = torch.zeros(1, 4, 32, 48)
    with torch.no_grad():
        assert torch.allclose(net(frame, frame.clone(), torch.tensor([0.5]), guide), frame, atol=1e-6)
        other = torch.rand(1, 3, 32, 48)
        blend = 0.5 * (frame + other)
        assert (net(frame, other, torch.tensor([0.5]), guide) - blend).abs().max() > 1e-3
        ungated = InterpNet(dataclasses.replace(InterpConfig.tiny(), gate=0.0))
        ungated.load_state_dict(net.state_dict())
        assert (ungated(frame, frame.clone(), torch.tensor([0.5]), guide) - frame).abs().max() > 1e-3


def _parts_guide(a, b):
    return ClassicalEngine().parts(a, b)


def test_switching_a_part_on_leaves_the_output_unchanged_until_it_trains():
    torch.manual_seed(3)
    net = InterpNet(InterpConfig.tiny())
    for p in net.parameters():
        p.data.normal_(0, 0.02)
    a, mid, b, t = _triplet()
    parts = _parts_guide(a, b)
    projected = torch.cat(project_to_t(parts, t), 1)
    with torch.no_grad():
        before = net(a, b, t, projected)
        for switches in ({"adaptive": 3}, {"priority": True}, {"adaptive": 5, "priority": True}):
            grown = with_parts(net, **switches).eval()
            torch.testing.assert_close(grown(a, b, t, parts), before, atol=1e-5, rtol=0)
        assert with_parts(grown, adaptive=0, priority=False).config == net.config


def test_tiny_model_with_both_parts_overfits_and_trains_them():
    torch.manual_seed(0)
    a, mid, b, t = _triplet()
    parts = _parts_guide(a, b)
    net = InterpNet(dataclasses.replace(InterpConfig.tiny(), adaptive=3, priority=True))
    start = psnr(net(a, b, t, parts).detach(), mid).item()
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-3)
    for _ in range(50):
        loss = torch.sqrt((net(a, b, t, parts) - mid) ** 2 + 1e-6).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    end = psnr(net(a, b, t, parts).detach(), mid).item()
    assert end > 35 and end > start + 3
    # Both heads' last layers started at zero: gradients reached them through the
    # adaptive warp and through the differentiable projection.
    assert net.kernel_head[-1].weight.abs().max() > 1e-3 and net.priority_head[-1].weight.abs().max() > 1e-3


def test_motion_parts_must_match_the_frames():
    net = InterpNet(dataclasses.replace(InterpConfig.tiny(), priority=True))
    a, b = torch.rand(1, 3, 32, 48), torch.rand(1, 3, 32, 48)
    with pytest.raises(ValueError, match="motion parts"):
        net(a, b, torch.tensor([0.5]), _parts_guide(a, b).resized(16, 24))
