"""vsae pipelines on a tiny synthetic video: fit, model/video checks, map, summary, loop, retime."""

import math
from fractions import Fraction

import pytest
import torch
from PIL import Image

from kinema.io.probe import open_reader, probe
from kinema.models.video_ae import VideoAEConfig
from kinema.pipelines.interpolate import InterpolateConfig
from kinema.pipelines.vsae import (
    FitVideoConfig,
    LoopConfig,
    find_jumps,
    fit_video,
    latent_map,
    load_video_model,
    plan_loop,
    retime,
    summary,
    video_loop,
)
from kinema.pipelines.vsae.explore import cluster_sheet_path
from kinema.pipelines.vsae.fit import state_path
from kinema.train.video_ae import FitConfig
from kinema.types import ModelMismatchError, OutputExistsError
from tests.media import PERIOD, make_video, orbit

def test_fit_writes_a_self_describing_model(fitted):
    video, result = fitted
    assert result.frames == 24 and result.size == (48, 64)
    vm = load_video_model(result.output)
    source = vm.meta["source"]
    assert source["name"] == "orbit.mp4" and source["frames"] == 24 and source["fps"] == "25"
    assert len(source["sha256"]) == 64 and vm.size == (48, 64)
    assert vm.meta["psnr"] == pytest.approx(result.report.psnr, abs=1e-3)
    assert result.report.psnr > 22  # it learned the clip (an untrained one draws flat grey: ~10 dB)
    assert not state_path(result.output).exists()


def test_a_model_refuses_another_video(fitted, tmp_path):
    video, result = fitted
    other = make_video(tmp_path / "other.mp4", 24, size=(48, 64))
    with pytest.raises(ModelMismatchError, match="was fit on orbit.mp4"):
        summary(result.output, other, tmp_path / "s.png")
    assert not (tmp_path / "s.png").exists()


def test_fit_never_overwrites_its_input_or_an_output(fitted, tmp_path):
    video, result = fitted
    with pytest.raises(OutputExistsError):
        fit_video(video, result.output, FitVideoConfig(model=VideoAEConfig.tiny()))


def test_map_writes_a_png_and_a_sheet_per_cluster(fitted, tmp_path):
    video, result = fitted
    out = latent_map(result.output, video, tmp_path / "map.png", clusters=2, thumbnails=4)
    assert out.coords.shape == (24, 2) and out.labels.shape == (24,)
    assert set(out.labels.tolist()) == {0, 1}
    for path in (tmp_path / "map.png", cluster_sheet_path(tmp_path / "map.png", 0), cluster_sheet_path(tmp_path / "map.png", 1)):
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width > 300
    # Nothing half-written is left beside them.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map-cluster-1.png", "map-cluster-2.png", "map.png"]


def test_the_map_follows_the_orbit(fitted, tmp_path):
    video, result = fitted
    out = latent_map(result.output, video, tmp_path / "map.png", thumbnails=0)
    # The clip repeats every PERIOD frames, so frames one period apart land together.
    xy = out.coords
    spread = (xy - xy.mean(0)).norm(dim=1).mean()
    same_phase = (xy[PERIOD:] - xy[:-PERIOD]).norm(dim=1).mean()
    assert same_phase < 0.3 * spread


def test_summary_writes_one_picture_per_segment(fitted, tmp_path):
    video, result = fitted
    out = summary(result.output, video, tmp_path / "sum.png", segments=3, compare=True)
    assert [(s.first, s.last) for s in out.segments] == [(0, 7), (8, 15), (16, 23)]
    assert set(out.segments[0].nearest_psnr) == {"latent average, 5 reprojections", "latent average", "pixel average"}
    with Image.open(tmp_path / "sum.png") as image:
        assert image.format == "PNG"


def test_jumps_go_back_far_enough_and_pair_similar_frames():
    codes = torch.tensor([[math.cos(2 * math.pi * i / PERIOD), math.sin(2 * math.pi * i / PERIOD)] for i in range(24)])
    jumps = find_jumps(codes, min_gap=5, count=3)
    assert len(jumps) == 3
    for a, b in jumps.items():
        assert a - b >= 5 and (a - b) % PERIOD == 0  # the same phase of the orbit


def test_loop_plan_has_the_requested_length_and_only_valid_steps():
    jumps = {20: 4, 15: 7}
    shots = plan_loop(jumps, 200, transition=3, jump_chance=0.5, seed=1)
    assert len(shots) == 200
    assert shots[0].is_frame and shots[0].a == min(jumps.values())
    frames = [s for s in shots if s.is_frame]
    for prev, nxt in zip(frames, frames[1:]):
        assert nxt.a == prev.a + 1 or jumps.get(prev.a) == nxt.a
    assert max(s.a for s in frames) <= max(jumps)  # never plays past the last loop point
    for k, s in enumerate(shots):
        if not s.is_frame:
            assert jumps[s.a] == s.b and 0 < s.t < 1
    assert any(jumps.get(p.a) == n.a for p, n in zip(frames, frames[1:]))  # it does jump


def test_video_loop_writes_exactly_the_requested_length(fitted, tmp_path):
    video, result = fitted
    out = video_loop(result.output, video, tmp_path / "loop.mp4", LoopConfig(seconds=2.0, min_gap=6, jumps=3, transition=2))
    info = probe(tmp_path / "loop.mp4")
    assert info.frame_count == 50 == len(out.shots)
    assert info.fps == 25 and (info.height, info.width) == (48, 64)
    for a, b in out.jumps.items():
        assert a - b >= 6


def test_retime_doubles_the_frames_at_the_fit_size_and_keeps_the_originals(fitted, tmp_path):
    video, result = fitted
    out = retime(result.output, video, tmp_path / "x2", InterpolateConfig(factor=2))
    assert out.frames_in == 24 and out.frames_out == 48
    frames = list(open_reader(tmp_path / "x2"))
    assert [f.pts for f in frames[:3]] == [Fraction(0), Fraction(1, 50), Fraction(2, 50)]
    src = list(open_reader(video))
    # Even output frames are the source frames themselves (lossless input, lossless PNGs).
    assert torch.equal(frames[2].image, src[1].image)


def test_clusters_of_a_still_video_are_a_clear_error(tmp_path):
    still = make_video(tmp_path / "still.mp4", 6, size=(32, 32), images=[orbit(0, 32, 32)] * 6, codec="libx264rgb", pix_fmt="rgb24", options={"crf": "0"})
    model = fit_video(still, tmp_path / "s.safetensors", FitVideoConfig(max_side=32, model=VideoAEConfig.tiny(), fit=FitConfig(epochs=2))).output
    from kinema.types import BadInputError

    with pytest.raises(BadInputError, match="fewer distinct codes"):
        latent_map(model, still, tmp_path / "m.png", clusters=2)
    assert not (tmp_path / "m.png").exists()
