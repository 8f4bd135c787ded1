"""What kinema view asks of a vsae model: summaries of any picked frames, and frames along
a path drawn on the latent map."""

import pytest
import torch

from kinema.pipelines.vsae import open_model_and_video
from kinema.pipelines.vsae.explore import codes_at, decode_codes, resample_path, summarize_selection
from kinema.pipelines.vsae.fit import encode_all
from kinema.ops.latent import pca_2d


def test_a_path_is_resampled_evenly_along_its_length_and_a_loop_closes():
    square = torch.tensor([[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]])
    once = resample_path(square, 7, loop=False)
    assert once[0].tolist() == [0, 0] and once[-1].tolist() == [0, 2]
    assert (once[1:] - once[:-1]).norm(dim=1).tolist() == pytest.approx([1.0] * 6)
    loop = resample_path(square, 8, loop=True)  # 8 units round, one per step, the start not repeated
    assert loop[0].tolist() == [0, 0] and loop[-1].tolist() == [0, 1]
    assert (loop[1:] - loop[:-1]).norm(dim=1).tolist() == pytest.approx([1.0] * 7)
    assert resample_path(torch.tensor([[3.0, 4.0]]), 3, loop=False).tolist() == [[3, 4]] * 3
    with pytest.raises(ValueError):
        resample_path(torch.zeros(0, 2), 3, loop=False)


def test_a_map_position_stands_for_the_frames_drawn_around_it():
    coords = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]], dtype=torch.float64)
    codes = torch.arange(4.0).view(4, 1, 1, 1)
    at = codes_at(coords, codes, torch.tensor([[0.0, 0.0], [0.5, 0.0], [2.0, 0.0], [2.25, 0.0]]))
    values = at.flatten().tolist()
    assert values[0] == pytest.approx(0.0, abs=0.02)  # on a dot: that frame
    assert values[1] == pytest.approx(0.5, abs=1e-3)  # halfway: both, equally
    assert values[2] == pytest.approx(2.0, abs=0.02)
    assert 2.0 < values[3] < 2.5  # nearer frame 2 than 3, and more like it


def test_a_selection_is_summarized_with_its_medoid_and_a_path_through_frames_draws_them(fitted):
    video, result = fitted
    vm, footage = open_model_and_video(result.output, video)
    codes = encode_all(vm, footage)
    picked = [2, 3, 4, 5, 6]
    summary = summarize_selection(vm, codes, footage, picked)
    assert summary.medoid in picked and summary.image.shape == (3, 48, 64)
    one = summarize_selection(vm, codes, footage, [5])
    assert one.medoid == 5 and one.nearest_psnr > 25  # one frame: the frame, redrawn by the model
    coords, _ = pca_2d(codes)
    frames = decode_codes(vm, codes_at(coords, codes, coords[[0, 5]]), reproject=0)
    direct = decode_codes(vm, codes[[0, 5]], reproject=0)
    assert (frames - direct).abs().mean() < 0.02  # a path through dots shows their frames
