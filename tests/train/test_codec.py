import torch

from kinema.models.codec import CodecConfig, VideoCodec
from kinema.train.codec import CodecClips, CodecTrainConfig, evaluate, fit_densities, symbol_histograms, synthetic_bank, train_codec, validation_runs
from tests.media import make_video, texture


def test_runs_are_consecutive_frames_of_one_shot_and_the_bank_moves(tmp_path):
    clip = make_video(tmp_path / "c.mp4", 12, size=(40, 56))
    clips = CodecClips([clip], max_side=56)
    run = clips.sample(torch.Generator().manual_seed(0), 3, 32, (1, 2))
    assert run.shape == (3, 3, 32, 32) and 0 <= float(run.min()) and float(run.max()) <= 1
    bank = synthetic_bank([texture(80, 80, seed=i)[0] for i in range(2)], 3, 3, 32, torch.Generator().manual_seed(0))
    assert bank.shape == (3, 3, 3, 32, 32) and bank.dtype == torch.uint8
    assert (bank[:, 1:].float() - bank[:, :1].float()).abs().mean() > 0.5


def test_the_trainer_resumes_and_keeps_a_codable_best_state(tmp_path):
    clip = make_video(tmp_path / "clip.mp4", 12, size=(48, 64))
    clips = CodecClips([clip], max_side=64)
    validation = validation_runs([clip], 3, max_side=64, count=2)
    assert validation and all(r.shape == (3, 1, 3, 48, 64) for r in validation)
    cfg = CodecTrainConfig(steps=3, batch=2, crop=32, frames=3, eval_every=1, synthetic=0.0, warm_steps=2, warm_runs=1)
    torch.manual_seed(0)
    codec = VideoCodec(CodecConfig.tiny())
    assert train_codec(codec, clips, None, validation, cfg, tmp_path / "run", stop_at=2) == 2
    assert train_codec(codec, clips, None, validation, cfg, tmp_path / "run") == 3
    best, meta = VideoCodec.load(tmp_path / "run" / "best.safetensors")
    assert best.frozen and "val_psnr_1" in meta
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    column = rows[0].split(",").index("val_rd")
    assert len(rows) == 4 and meta["val_rd"] == min(float(r.split(",")[column]) for r in rows[1:])


def test_fitting_the_densities_to_the_fresh_networks_symbols_lowers_the_rate_and_nothing_else(tmp_path):
    clip = make_video(tmp_path / "clip.mp4", 12, size=(48, 64))
    clips = CodecClips([clip], max_side=64)
    validation = validation_runs([clip], 3, max_side=64, count=2)
    cfg = CodecTrainConfig(frames=3, synthetic=0.0)
    torch.manual_seed(0)
    codec = VideoCodec(CodecConfig.tiny())
    before = evaluate(codec, validation)
    fit_densities(codec, symbol_histograms(codec, clips, None, cfg, runs=4, crop=32, seed=0), steps=40)
    after = evaluate(codec, validation)
    for level in (1, 2):
        assert after[f"val_psnr_{level}"] == before[f"val_psnr_{level}"]
        assert after[f"val_bpp_{level}"] < 0.7 * before[f"val_bpp_{level}"]
