"""Fixtures shared by the whole suite."""

import pytest
import torch

from kinema.models.video_ae import VideoAEConfig
from kinema.pipelines.vsae import FitVideoConfig, fit_video
from kinema.train.video_ae import FitConfig
from tests.media import make_video, orbit

_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=_CUDA)])
def device(request) -> torch.device:
    """Each device a test should pass on: the CPU always, CUDA where a GPU is present (so a
    GPU machine runs the same tests on both)."""
    return torch.device(request.param)


@pytest.fixture(scope="session")
def fitted(tmp_path_factory):
    """A tiny synthetic clip and an autoencoder fit to it, once per session (the vsae
    pipeline tests and kinema view's share it; the fit takes a few seconds)."""
    folder = tmp_path_factory.mktemp("vsae")
    video = make_video(folder / "orbit.mp4", 24, size=(48, 64), images=[orbit(i) for i in range(24)], codec="libx264rgb", pix_fmt="rgb24", options={"crf": "0"})
    config = FitVideoConfig(max_side=64, model=VideoAEConfig.tiny(), fit=FitConfig(epochs=150, batch=6, lr=2e-3))
    # One thread: a multi-threaded CPU backward may sum in another order run to run, and
    # 150 epochs make that a different model; the tests of it need one fixed model.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = fit_video(video, folder / "orbit.safetensors", config)
    finally:
        torch.set_num_threads(threads)
    return video, result
