import pytest
import torch

from kinema.models.snapshot import SnapshotConfig, SnapshotNet
from kinema.models.snapshot.objective import Objective, objective_terms, refine, weighted
from kinema.ops.codec import round_8bit
from kinema.train.snapshot import synthetic_clip
from kinema.train.synthetic import SyntheticConfig, SyntheticTriplets
from kinema.types import BadInputError, ModelMismatchError


def _clip(frames=3, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    photos = [torch.rand(3, 40, 40, generator=g).cumsum(-1) / 40 for _ in range(3)]
    scenes = SyntheticTriplets(photos, SyntheticConfig.tiny() if size is None else SyntheticConfig(height=size, width=size, sprite_shift=6, background_shift=3))
    return synthetic_clip(scenes, frames, g)


def test_untrained_net_embeds_the_middle_frame_and_expands_to_copies_of_it():
    clip = torch.rand(2, 5, 3, 21, 35)
    net = SnapshotNet(SnapshotConfig.tiny(frames=5)).eval()
    snapshot, attention = net.embed(clip)
    assert snapshot.shape == (2, 3, 21, 35) and attention.shape == (2, 5, 21, 35)
    assert torch.equal(snapshot, clip[:, 2])
    assert torch.allclose(attention.sum(1), torch.ones(2, 21, 35))
    frames = net.expand(snapshot)
    assert frames.shape == clip.shape
    assert torch.equal(frames, snapshot[:, None].expand_as(clip))


def test_config_rejects_even_frame_counts():
    with pytest.raises(ValueError, match="odd"):
        SnapshotConfig(frames=4)
    with pytest.raises(ValueError, match="clip"):
        SnapshotNet(SnapshotConfig.tiny(frames=3)).embed(torch.rand(1, 5, 3, 8, 8))


def test_tiny_net_learns_to_carry_a_clip_through_an_8_bit_snapshot():
    torch.manual_seed(0)
    clip = _clip(3, 32)[None]
    net = SnapshotNet(SnapshotConfig.tiny(frames=3))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)

    def restored() -> float:
        with torch.no_grad():
            mse = (net.expand(round_8bit(net.embed(clip)[0])) - clip).square().mean()
            return float(-10 * torch.log10(mse))

    before = restored()  # every frame decoded as the middle one
    for _ in range(150):
        snapshot, _ = net.embed(clip)
        loss = (net.decode(round_8bit(snapshot)) - clip).square().mean() + 0.1 * (snapshot - clip[:, 1]).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = restored()
    assert after > before + 4, (before, after)  # measured: 33.6 → 38.9 dB


def test_checkpoint_round_trip_and_errors(tmp_path):
    net = SnapshotNet(SnapshotConfig.tiny(frames=5))
    path = net.save(tmp_path / "s.safetensors", steps=3)
    loaded, meta = SnapshotNet.load(path)
    assert meta["steps"] == 3 and loaded.config == net.config
    clip = torch.rand(1, 5, 3, 16, 16)
    assert torch.equal(loaded.embed(clip)[0], net.eval().embed(clip)[0])
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    (tmp_path / "bad.safetensors").write_bytes(bytes(data))
    with pytest.raises(BadInputError, match="checksum"):
        SnapshotNet.load(tmp_path / "bad.safetensors")
    from kinema.models.gif2video import CCDNet, CCDNetConfig

    other = CCDNet(CCDNetConfig.tiny()).save(tmp_path / "c.safetensors")
    with pytest.raises(ModelMismatchError):
        SnapshotNet.load(other)


def test_refine_lowers_the_objective_of_one_snapshot():
    torch.manual_seed(0)
    clip = _clip(3, 32)[None]
    net = SnapshotNet(SnapshotConfig.tiny(frames=3))
    with torch.no_grad():
        net.expander.tail.weight.normal_(0, 0.05)  # a decoder that reacts to the snapshot
    snapshot, _ = net.embed(clip)

    def cost(s):
        with torch.no_grad():
            return float(weighted(objective_terms(net.decode(round_8bit(s)), clip, round_8bit(s), clip[:, 1], 6.0), Objective()))

    better = refine(net, clip, snapshot, steps=15)
    assert cost(better) < 0.8 * cost(snapshot)
    assert all(p.grad is None for p in net.parameters())  # the networks are left alone
