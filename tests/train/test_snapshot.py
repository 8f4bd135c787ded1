import dataclasses

import pytest
import torch

from kinema.models.snapshot import SnapshotConfig, SnapshotNet
from kinema.models.snapshot.objective import laplacian_pyramid_l1
from kinema.ops.metrics import psnr
from kinema.train.loop import best_logged
from kinema.train.snapshot import ClipWindows, SnapshotTrainConfig, channel, degrade, snapshot_losses, train_snapshot, unimodal_loss
from tests.media import smooth


def _clip(n, h=20, w=24):
    """``n`` frames panning across one smooth picture (no cuts)."""
    wide = torch.from_numpy(smooth(0, h, w + n)).permute(2, 0, 1)
    return [wide[:, :, i : i + w].contiguous() for i in range(n)]


def test_windows_respect_stride_and_scene_cuts():
    cut = _clip(4) + [torch.zeros(3, 20, 24, dtype=torch.uint8) + 255] * 4  # a cut between frames 3 and 4
    windows = ClipWindows([cut, _clip(9)], frames=3, strides=(1, 2), crop=16)
    assert (0, 1) in windows.windows[1] and (0, 2) not in windows.windows[1] and (0, 4) in windows.windows[1]
    assert (1, 4) in windows.windows[2] and (1, 5) not in windows.windows[2]
    sample = windows.sample(torch.Generator().manual_seed(0))
    assert sample.shape == (3, 3, 16, 16) and 0 <= float(sample.min()) and float(sample.max()) <= 1
    with pytest.raises(ValueError, match="no clip has 9 frames"):
        ClipWindows([_clip(5)], frames=9, strides=(1,), crop=16)


def test_unimodal_loss_is_zero_for_balanced_attention_and_positive_when_the_ends_win():
    flat = torch.full((1, 5, 4, 4), 0.2)
    assert float(unimodal_loss(flat)) == 0
    ends = torch.tensor([0.45, 0.025, 0.05, 0.025, 0.45]).view(1, 5, 1, 1).expand(1, 5, 4, 4)
    assert float(unimodal_loss(ends)) > 0.3


def test_pyramid_loss_weighs_coarse_changes_more_than_fine_texture():
    base = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    checker = (torch.arange(32)[:, None] + torch.arange(32)[None]) % 2 * 2 - 1.0  # finest band only
    offset = torch.ones(32, 32)  # coarsest band only
    assert float(laplacian_pyramid_l1(base, base)) == 0
    assert float(laplacian_pyramid_l1(base + 0.01 * offset, base)) > 4 * float(laplacian_pyramid_l1(base + 0.01 * checker, base))


def test_decoder_stage_leaves_the_embedder_alone():
    net = SnapshotNet(SnapshotConfig.tiny(frames=3))
    cfg = SnapshotTrainConfig(stage="decoder")
    clip = torch.rand(2, 3, 3, 16, 16)
    loss, parts = snapshot_losses(net, clip, cfg, torch.Generator())
    loss.backward()
    assert all(p.grad is None for p in net.embedder.parameters())
    assert set(parts) == {"restoration"}
    jpeg = channel(torch.rand(1, 3, 16, 16), dataclasses.replace(cfg, jpeg=1.0), torch.Generator())
    assert torch.equal(jpeg * 255, (jpeg * 255).round())


def test_training_resumes_bit_exactly(tmp_path):
    data = ClipWindows([_clip(8)], frames=3, strides=(1, 2), crop=16)
    cfg = SnapshotTrainConfig(steps=4, batch=2, crop=16, eval_every=2, synthetic=0.0)
    validation = [data.sample(torch.Generator().manual_seed(9))]
    torch.manual_seed(5)
    straight = SnapshotNet(SnapshotConfig.tiny(frames=3))
    train_snapshot(straight, data, None, validation, cfg, tmp_path / "a")
    torch.manual_seed(5)
    resumed = SnapshotNet(SnapshotConfig.tiny(frames=3))
    assert train_snapshot(resumed, data, None, validation, cfg, tmp_path / "b", stop_at=2) == 2
    resumed = SnapshotNet(SnapshotConfig.tiny(frames=3))
    assert train_snapshot(resumed, data, None, validation, cfg, tmp_path / "b") == 4
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    log = (tmp_path / "a" / "log.csv").read_text().splitlines()
    assert len(log) == 3 and "val_snapshot_psnr" in log[0]
    # The best validated state is kept beside the last one, and a resumed run knows it.
    _, meta = SnapshotNet.load(tmp_path / "b" / "best.safetensors")
    assert meta["val_psnr"] == best_logged(tmp_path / "b" / "log.csv", "val_psnr")
    with pytest.raises(ValueError, match="another model config"):
        train_snapshot(SnapshotNet(SnapshotConfig.tiny(frames=5)), ClipWindows([_clip(8)], 5, (1,), 16), None, [], cfg, tmp_path / "a")


def test_degraded_clips_are_8bit_noisy_and_a_little_different():
    clip = torch.stack(_clip(5, 32, 32)).float() / 255
    g = torch.Generator().manual_seed(3)
    changed = [degrade(clip, g) for _ in range(6)]
    for out in changed:
        assert out.shape == clip.shape and torch.equal(out * 255, (out * 255).round())
    scores = [float(psnr(out, clip).mean()) for out in changed]
    assert all(30 < s for s in scores) and min(scores) < 50  # a few levels of noise or blockiness, not a new picture
    frames = changed[0] - clip
    assert not torch.equal(frames[0], frames[1])  # the noise differs from frame to frame
