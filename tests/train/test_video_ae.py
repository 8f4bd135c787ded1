"""Fitting a video autoencoder: it overfits a clip, resumes bit for bit, refuses a foreign state."""

import os
import signal

import pytest
import torch

from kinema.models.video_ae import VideoAE, VideoAEConfig
from kinema.train.video_ae import WARMUP, FitConfig, fit, learning_rate, recalibrate, reconstruction_psnr
from kinema.types import BadInputError
from tests.media import smooth


def clip(count=4, size=(48, 64)):
    return torch.stack([torch.from_numpy(smooth(3 * i, *size)).permute(2, 0, 1) for i in range(count)])


def test_a_tiny_autoencoder_overfits_a_four_frame_clip():
    frames = clip()
    torch.manual_seed(0)
    from kinema.models.video_ae import VideoAE

    before = sum(reconstruction_psnr(VideoAE(VideoAEConfig.tiny()), frames)) / 4
    net, report = fit(frames, VideoAEConfig.tiny(), FitConfig(epochs=200, batch=4, lr=2e-3))
    assert report.steps == 200 and report.epochs == 200
    assert not net.training
    assert before < 15
    assert report.psnr > 25 and min(report.frame_psnr) > 22
    # The report is the eval-mode network's own reconstruction.
    assert reconstruction_psnr(net, frames) == list(report.frame_psnr)


def test_learning_rate_warms_up_stays_constant_then_decays_linearly_to_zero():
    assert learning_rate(1.0, 0.0, step=0) == pytest.approx(1 / WARMUP)
    assert learning_rate(1.0, 0.0, step=WARMUP - 1) == learning_rate(1.0, 0.49) == 1.0
    assert learning_rate(1.0, 0.75) == pytest.approx(0.5)
    assert learning_rate(1.0, 1.0) == 0.0


def test_an_interrupted_fit_resumes_bit_for_bit(tmp_path):
    frames = clip(6)
    config = FitConfig(epochs=4, batch=4, lr=2e-3, save_every=0)
    whole, report = fit(frames, VideoAEConfig.tiny(), config)

    state = tmp_path / "state.safetensors"

    def stop_at_5(status):
        if status.step == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(frames, VideoAEConfig.tiny(), config, state=state, tag={"video": "a"}, progress=stop_at_5)
    assert state.is_file()
    resumed, again = fit(frames, VideoAEConfig.tiny(), config, state=state, tag={"video": "a"})
    assert again.resumed_from == 5 and again.steps == report.steps == 8
    assert not state.exists()  # removed once the fit completes
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_ctrl_c_is_taken_between_steps_and_the_fit_resumes_from_there(tmp_path):
    frames = clip(6)
    config = FitConfig(epochs=4, batch=4, lr=2e-3, save_every=3600)  # only Ctrl-C saves
    whole, _ = fit(frames, VideoAEConfig.tiny(), config)
    state = tmp_path / "state.safetensors"

    def press_ctrl_c(status):
        if status.step == 3:
            os.kill(os.getpid(), signal.SIGINT)  # a real signal, arriving mid-loop

    with pytest.raises(KeyboardInterrupt):
        fit(frames, VideoAEConfig.tiny(), config, state=state, progress=press_ctrl_c)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    resumed, report = fit(frames, VideoAEConfig.tiny(), config, state=state)
    assert report.resumed_from == 4  # the step under way finished, then the state was saved
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_frozen_norm_keeps_the_whole_video_statistics_while_training_goes_on():
    frames = clip(5)
    net, _ = fit(frames, VideoAEConfig.tiny(), FitConfig(epochs=3, batch=4, freeze_norm=0.0))
    torch.manual_seed(0)
    fresh = VideoAE(VideoAEConfig.tiny())
    recalibrate(fresh, frames, 4)  # what the fit computed at step 0, before any update
    norms = [(n, b) for n, b in net.named_buffers() if "running" in n]
    assert norms and all(torch.allclose(b, dict(fresh.named_buffers())[n]) for n, b in norms)
    assert not torch.equal(net.decoder[-1].weight, fresh.decoder[-1].weight)  # the weights did train


def test_a_state_saved_for_another_video_is_refused(tmp_path):
    frames = clip(4)
    config = FitConfig(epochs=2, batch=4, save_every=0)
    state = tmp_path / "state.safetensors"

    def stop(status):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(frames, VideoAEConfig.tiny(), config, state=state, tag={"video": "a"}, progress=stop)
    with pytest.raises(BadInputError, match="another video"):
        fit(frames, VideoAEConfig.tiny(), config, state=state, tag={"video": "b"})
    with pytest.raises(BadInputError, match="another video"):
        fit(frames, VideoAEConfig.tiny(), FitConfig(epochs=3, batch=4, save_every=0), state=state, tag={"video": "a"})


def test_a_time_budget_stops_the_fit(monkeypatch):
    frames = clip(4)
    clock = iter(range(0, 10**6, 30))  # every perf_counter() call advances 30 s
    monkeypatch.setattr("kinema.train.video_ae.time.perf_counter", lambda: float(next(clock)))
    _, report = fit(frames, VideoAEConfig.tiny(), FitConfig(epochs=10**6, minutes=2, batch=4))
    # Each step takes 30 s on this clock: a 2-minute budget is 4 steps.
    assert report.steps == 4 and report.seconds == pytest.approx(120)


def test_bad_frames_are_refused():
    with pytest.raises(ValueError):
        fit(clip().float(), VideoAEConfig.tiny())
    with pytest.raises(BadInputError):
        fit(clip(1), VideoAEConfig.tiny())
