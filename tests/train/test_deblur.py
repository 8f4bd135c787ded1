import torch

from kinema.models.deblur import DeblurConfig, DeblurNet
from kinema.train.deblur import BlurClips, DeblurTrainConfig, SyntheticBlur, train_deblur, validation_set
from tests.media import make_video, texture


def test_synthetic_blur_sequences_blur_only_where_things_move():
    photos = [texture(80, 80, seed=i)[0] for i in range(3)]
    bank = SyntheticBlur.make(photos, 4, 3, 32, torch.Generator().manual_seed(0))
    assert bank.blurry.shape == bank.sharp.shape == (4, 3, 3, 32, 32) and bank.blurry.dtype == torch.uint8
    assert (bank.blurry.float() - bank.sharp.float()).abs().mean() > 0.5  # some exposure, some motion
    blurry, sharp = bank.sample(torch.Generator().manual_seed(1), 24)
    assert blurry.shape == sharp.shape == (3, 3, 24, 24) and 0 <= float(blurry.min()) and float(blurry.max()) <= 1


def test_the_trainer_resumes_and_keeps_the_best_state(tmp_path):
    clip = make_video(tmp_path / "clip.mp4", 30, size=(48, 64))
    clips = BlurClips([clip], max_side=64, shutters=((4, 3), (2, 1)))
    validation = validation_set(clips, 3, crop=32, per_shutter=2)
    assert validation and all(b.shape == (3, 1, 3, 32, 32) for b, _ in validation)
    cfg = DeblurTrainConfig(steps=3, batch=2, crop=32, length=3, eval_every=1, synthetic=0.0)
    torch.manual_seed(0)
    net = DeblurNet(DeblurConfig.tiny())
    assert train_deblur(net, clips, None, validation, cfg, tmp_path / "run", stop_at=2) == 2
    assert train_deblur(net, clips, None, validation, cfg, tmp_path / "run") == 3
    best, meta = DeblurNet.load(tmp_path / "run" / "best.safetensors")
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert len(rows) == 4 and meta["val_psnr"] == max(float(r.split(",")[rows[0].split(",").index("val_psnr")]) for r in rows[1:])
