"""vsae upscale: super-resolution by reprojection through the model of the clip."""

from fractions import Fraction

import pytest
import torch

from kinema.io.probe import open_reader, probe
from kinema.ops.metrics import psnr
from kinema.ops.resize import bicubic, resize
from kinema.pipelines.vsae import load_video_model
from kinema.pipelines.vsae.upscale import UpscaleConfig, back_project, scale_check, upscale, upscale_frames
from kinema.train.video_ae import shrunk_inputs
from kinema.types import BadInputError
from tests.media import make_video


def clip_frames(video) -> torch.Tensor:
    return torch.stack([f.image for f in open_reader(video)])


def test_reprojection_beats_bicubic_on_the_models_own_video(fitted):
    video, result = fitted
    net = load_video_model(result.output).net
    frames = clip_frames(video)
    low = resize(frames, 12, 16)
    plain = psnr(bicubic(low, (48, 64)), frames).mean()
    once = psnr(upscale_frames(net, low, (48, 64), reproject=0, consistent=False), frames).mean()
    full = psnr(upscale_frames(net, low, (48, 64)), frames).mean()
    assert once > plain + 2.0  # the model knows the sharp square the small frame blurs
    assert full > once + 0.3  # more passes, each tied back to the small frame, do better


def test_back_projection_makes_the_output_shrink_back_towards_the_input():
    g = torch.Generator().manual_seed(0)
    low = bicubic(torch.rand(2, 3, 3, 4, generator=g), (6, 8))
    guess = bicubic(torch.rand(2, 3, 6, 8, generator=g), (24, 32))
    errors = [float((resize(back_project(guess, low, steps), 6, 8) - low).abs().mean()) for steps in (0, 1, 3)]
    assert errors[1] < 0.7 * errors[0] and errors[2] < errors[1]
    # A frame that already shrinks to the input is left alone.
    smooth = bicubic(resize(guess, 6, 8), (24, 32))
    assert (back_project(smooth, resize(smooth, 6, 8)) - smooth).abs().max() < 1e-5


def test_scale_check_allows_only_the_rounding_of_the_shrink():
    scale_check((144, 256), (36, 64), 4)
    scale_check((144, 256), (5, 8), 32)  # 4.5 rows rounded up
    scale_check((144, 256), (4, 8), 32)  # … or down
    with pytest.raises(BadInputError, match="4x upscaling needs frames of 64x36, got 32x18"):
        scale_check((144, 256), (18, 32), 4)


def test_multi_resolution_inputs_are_shrunk_copies_and_some_stay_sharp():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 3, 32, 32, generator=g)
    seen = shrunk_inputs(x, 16, g)
    assert seen.shape == x.shape
    same = [(a - b).abs().max() < 1e-6 for a, b in zip(seen, x)]
    assert 2 <= sum(same) <= 16  # about a quarter left at full size
    assert all(float((a - b).abs().mean()) > 0.01 for a, b, s in zip(seen, x, same) if not s)


def test_upscale_writes_the_input_size_times_scale_with_its_timing(fitted, tmp_path):
    video, result = fitted
    small = make_video(tmp_path / "small.mp4", 5, size=(12, 16), time_base=Fraction(1, 10))
    out = upscale(result.output, small, tmp_path / "big.mkv", UpscaleConfig(scale=4, reproject=1, batch=2))
    info = probe(tmp_path / "big.mkv")
    assert out.frames == 5 == info.frame_count and (info.height, info.width) == (48, 64) == out.size
    assert info.fps == 10


def test_upscale_refuses_frames_of_another_size_and_leaves_nothing(fitted, tmp_path):
    video, result = fitted
    small = make_video(tmp_path / "small.mp4", 3, size=(24, 32))
    with pytest.raises(BadInputError, match="needs frames of 16x12"):
        upscale(result.output, small, tmp_path / "big.mp4", UpscaleConfig(scale=4))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.mp4"]


def test_the_fallback_leans_to_bicubic_only_where_the_model_draws_something_else(fitted):
    from kinema.pipelines.vsae.upscale import FALLBACK
    from tests.media import smooth

    video, result = fitted
    net = load_video_model(result.output).net
    seen = clip_frames(video)[:8]
    foreign = torch.stack([torch.from_numpy(smooth(i, 48, 64)).permute(2, 0, 1).float() / 255 for i in range(8)])
    for frames in (seen, foreign):
        low = resize(frames, 12, 16)
        default = psnr(upscale_frames(net, low, (48, 64)), frames).mean()
        guarded = psnr(upscale_frames(net, low, (48, 64), fallback=FALLBACK), frames).mean()
        plain = psnr(back_project(bicubic(low, (48, 64)), low), frames).mean()
        if frames is seen:
            assert guarded > default - 1 and guarded > plain + 2  # the model is trusted where it knows the video
        else:
            assert guarded > default + 10 and guarded > plain - 3  # and not where it draws another picture (measured: +22 dB, -2.3)
