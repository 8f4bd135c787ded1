"""Training a latent path: it learns to pass through the frames the video shows between."""

import pytest
import torch

from kinema.models.latent_path import LatentPath, LatentPathConfig
from kinema.models.video_ae import VideoAEConfig
from kinema.train.latent_path import PathFitConfig, fit_path, path_terms, triplets
from kinema.train.video_ae import FitConfig, as_float, fit
from kinema.types import BadInputError
from tests.media import orbit


def test_triplets_span_every_gap_inside_the_video():
    rows = triplets(5, 2)
    assert rows.tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [0, 2, 4]]
    with pytest.raises(BadInputError, match="too few"):
        triplets(2, 1)


def test_the_learned_path_meets_its_losses_and_the_fit_resumes(tmp_path):
    frames = torch.stack([torch.from_numpy(orbit(i / 2)).permute(2, 0, 1) for i in range(16)])
    net, _ = fit(frames, VideoAEConfig.tiny(), FitConfig(epochs=60, batch=8, lr=2e-3))
    rows = triplets(16, 1)
    with torch.no_grad():
        z = net.encode(as_float(frames))

    def terms(path):
        with torch.no_grad():
            return path_terms(path, net, z[rows[:, 0]], z[rows[:, 2]], as_float(frames[rows[:, 1]]), (48, 64), 4)

    line = terms(LatentPath(LatentPathConfig(channels=32, hidden=16)))  # untrained: the straight line
    # The data term alone: the midpoint comes closer to the frame the video shows there.
    config = PathFitConfig(steps=150, batch=4, hidden=16, lr=3e-3, energy=0, speed=0)
    path, scores = fit_path(net, frames, config, work=tmp_path / "run", identity={"model": "x"})
    assert scores["learned_psnr"] > scores["line_psnr"] + 0.2 and terms(path)["data"] < line["data"]
    # Weighted up, the constant-speed loss evens out the decoded steps.
    even, _ = fit_path(net, frames, PathFitConfig(steps=150, batch=4, hidden=16, lr=3e-3, energy=1, speed=1), work=tmp_path / "even", identity={})
    assert terms(even)["speed"] < line["speed"] / 2
    # A finished run, started again, resumes at its end and gives the same path.
    again, _ = fit_path(net, frames, config, work=tmp_path / "run", identity={"model": "x"})
    half = torch.tensor([0.5])
    assert torch.equal(again(z[:1], z[2:3], half), path(z[:1], z[2:3], half))
    with pytest.raises(ValueError):  # the state of another model's path is not resumed
        fit_path(net, frames, config, work=tmp_path / "run", identity={"model": "y"})


def test_the_terms_are_zero_where_they_should_be():
    net, _ = fit(torch.zeros(4, 3, 16, 16, dtype=torch.uint8), VideoAEConfig.tiny(), FitConfig(epochs=1, batch=4))
    path = LatentPath(LatentPathConfig.tiny())
    z = torch.rand(2, 32, 1, 1)
    with torch.no_grad():
        terms = path_terms(path, net, z, z, net.decode(z, (16, 16)), (16, 16), 4)
    assert all(float(v) < 1e-10 for v in terms.values())  # a path from a code to itself: no length, no error
