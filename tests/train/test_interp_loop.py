import dataclasses

import torch

from kinema.models.interp import InterpConfig, InterpNet
from kinema.train.interp import TrainConfig, train
from kinema.train.synthetic import SyntheticConfig, SyntheticTriplets


def _sampler():
    g = torch.Generator().manual_seed(0)
    photos = [torch.nn.functional.interpolate(torch.rand(1, 3, 12, 16, generator=g), size=(60, 80), mode="bicubic").clamp(0, 1)[0] for _ in range(3)]
    config = dataclasses.replace(SyntheticConfig.tiny(), height=32, width=32)
    return SyntheticTriplets(photos, config).sample


def test_training_is_deterministic_resumable_and_logs(tmp_path):
    sample = _sampler()
    validation = [sample(torch.Generator().manual_seed(99))]
    cfg = TrainConfig(steps=6, batch=2, lr=1e-3, eval_every=3, seed=4)

    torch.manual_seed(0)
    straight = InterpNet(InterpConfig.tiny())
    train(straight, [(sample, 1.0)], validation, cfg, tmp_path / "a")

    torch.manual_seed(0)
    first = InterpNet(InterpConfig.tiny())
    assert train(first, [(sample, 1.0)], validation, cfg, tmp_path / "b", stop_at=3) == 3
    torch.manual_seed(123)  # a fresh process: different init, the state file must restore everything
    resumed = InterpNet(InterpConfig.tiny())
    assert train(resumed, [(sample, 1.0)], validation, cfg, tmp_path / "b") == 6

    for p, q in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(p, q)
    rows = (tmp_path / "b" / "log.csv").read_text().strip().splitlines()
    assert rows[0].startswith("step,loss,val_psnr") and len(rows) == 3


def test_adversarial_stage_trains_the_discriminator_and_resumes_exactly(tmp_path):
    sample = _sampler()
    validation = [sample(torch.Generator().manual_seed(99))]
    cfg = TrainConfig(steps=4, batch=2, lr=1e-3, eval_every=2, seed=1, adversarial=0.05, adv_patch=16)

    torch.manual_seed(0)
    straight = InterpNet(InterpConfig.tiny())
    train(straight, [(sample, 1.0)], validation, cfg, tmp_path / "a")
    torch.manual_seed(0)
    first = InterpNet(InterpConfig.tiny())
    train(first, [(sample, 1.0)], validation, cfg, tmp_path / "b", stop_at=2)
    resumed = InterpNet(InterpConfig.tiny())
    train(resumed, [(sample, 1.0)], validation, cfg, tmp_path / "b")
    for p, q in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(p, q)  # the discriminator and its optimizer were restored too
