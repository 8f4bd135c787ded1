import torch

from kinema.models.deblur import DeblurConfig, DeblurNet
from kinema.ops.warp import backward_warp
from kinema.train.deblur import BlurClips, DeblurTrainConfig, SyntheticBlur, _augment, sequence_flows, train_deblur, validation_set
from tests.media import make_video, texture


def test_synthetic_blur_sequences_blur_only_where_things_move():
    photos = [texture(80, 80, seed=i)[0] for i in range(3)]
    bank = SyntheticBlur.make(photos, 4, 3, 32, torch.Generator().manual_seed(0))
    assert bank.blurry.shape == bank.sharp.shape == (4, 3, 3, 32, 32) and bank.blurry.dtype == torch.uint8
    assert (bank.blurry.float() - bank.sharp.float()).abs().mean() > 0.5  # some exposure, some motion
    blurry, sharp, flows = bank.sample(torch.Generator().manual_seed(1), 24)
    assert blurry.shape == sharp.shape == (3, 3, 24, 24) and 0 <= float(blurry.min()) and float(blurry.max()) <= 1
    assert sorted(flows) == [(0, 1), (1, 0), (1, 2), (2, 1)] and all(f.shape == (2, 24, 24) for f in flows.values())


def test_augmented_flows_still_carry_each_frame_onto_the_other():
    # A texture sliding right by 3 px and down by 1 px a frame: whatever crop, flips and
    # time reversal are drawn, frame j warped by flow (i, j) must give frame i.
    photo = texture(80, 96, seed=3)[0]
    frames = torch.stack([torch.roll(photo, (k, 3 * k), (-2, -1)) for k in range(3)])[..., 8:-8, 8:-8]
    flows = sequence_flows(frames, 1)
    assert float((flows[(0, 1)][:, 16:-16, 16:-16].mean((1, 2)) - torch.tensor([3.0, 1.0])).abs().max()) < 0.3
    seen = set()
    for seed in range(12):
        blurry, sharp, moved = _augment(frames, frames, flows, 40, torch.Generator().manual_seed(seed))
        seen.add(tuple(float(moved[(0, 1)][c, 10:30, 10:30].mean()) > 0 for c in (0, 1)))
        for (i, j), f in moved.items():
            error = (backward_warp(blurry[j : j + 1], f[None]) - blurry[i : i + 1])[..., 8:-8, 8:-8].abs().mean()
            assert float(error) < 0.02, (seed, i, j)
    assert len(seen) == 4  # flow 0 → 1 came out pointing every way: flips and reversals were drawn


def test_the_trainer_resumes_and_keeps_the_best_state(tmp_path):
    clip = make_video(tmp_path / "clip.mp4", 30, size=(48, 64))
    clips = BlurClips([clip], max_side=64, shutters=((4, 3), (2, 1)))
    validation = validation_set(clips, 3, crop=32, per_shutter=2)
    assert validation and all(b.shape == (3, 1, 3, 32, 32) and f[(1, 0)].shape == (1, 2, 32, 32) for b, _, f in validation)
    cfg = DeblurTrainConfig(steps=3, batch=2, crop=32, length=3, eval_every=1, synthetic=0.0)
    torch.manual_seed(0)
    net = DeblurNet(DeblurConfig.tiny())
    assert train_deblur(net, clips, None, validation, cfg, tmp_path / "run", stop_at=2) == 2
    assert train_deblur(net, clips, None, validation, cfg, tmp_path / "run") == 3
    best, meta = DeblurNet.load(tmp_path / "run" / "best.safetensors")
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert len(rows) == 4 and meta["val_psnr"] == max(float(r.split(",")[rows[0].split(",").index("val_psnr")]) for r in rows[1:])
