"""vsae path: a latent path learned for one model, refused with any other."""

import pytest
import torch

from kinema.pipelines.vsae import load_video_model
from kinema.pipelines.vsae.fit import fit_latent_path
from kinema.pipelines.vsae.motion import load_latent_path
from kinema.train.latent_path import PathFitConfig, fit_path
from kinema.types import BadInputError, ModelMismatchError


def test_a_path_is_tied_to_its_model_and_a_stale_state_is_refused(fitted, tmp_path):
    video, result = fitted
    config = PathFitConfig(steps=3, batch=2, hidden=8)
    learned = fit_latent_path(result.output, video, tmp_path / "p.safetensors", config)
    assert learned.output.is_file() and not (tmp_path / "p.fit-state").exists()
    vm = load_video_model(result.output)
    assert load_latent_path(learned.output, vm).config.channels == vm.net.config.latent_channels
    with torch.no_grad():
        vm.net.decoder[-1].bias.add_(0.01)  # another model
    with pytest.raises(ModelMismatchError, match="a latent path for another model"):
        load_latent_path(learned.output, vm)
    # A state left behind by a fit for another model is not silently resumed.
    fit_path(load_video_model(result.output).net, torch.zeros(6, 3, 48, 64, dtype=torch.uint8), config, work=tmp_path / "q.fit-state", identity={"model": "other"})
    with pytest.raises(BadInputError, match="delete .*q.fit-state to start over"):
        fit_latent_path(result.output, video, tmp_path / "q.safetensors", config)
    assert not (tmp_path / "q.safetensors").exists()
