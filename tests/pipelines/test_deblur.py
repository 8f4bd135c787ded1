"""``kinema.pipelines.deblur`` and ``interpolate`` with ``deblur``, with tiny networks."""

from fractions import Fraction

import pytest
import torch

from kinema.engines.deblur import load_deblurrer
from kinema.io.probe import open_reader
from kinema.models.deblur import DeblurConfig, DeblurNet
from kinema.pipelines import deblur as deblur_pipeline
from kinema.pipelines.convert import ConvertConfig
from kinema.pipelines.deblur import check_blur, deblur_video
from kinema.pipelines.interpolate import InterpolateConfig, interpolate_video
from kinema.engines.classical import ClassicalEngine
from kinema.types import DeblurMode
from tests.media import audio_packets, make_video

LOSSLESS = ConvertConfig()


def tiny_weights(path, *, changes: bool = True):
    """A tiny network saved to ``path``: the identity (``changes=False``), or one whose
    output visibly differs from its input."""
    torch.manual_seed(0)
    net = DeblurNet(DeblurConfig.tiny())
    torch.nn.init.normal_(net.out.weight, std=1.0) if changes else torch.nn.init.zeros_(net.out.weight)
    return net.save(path)


def frames_of(path):
    return [(f.pts, f.image) for f in open_reader(path)]


def test_deblur_keeps_count_timing_and_audio_and_changes_the_pixels(tmp_path):
    clip = make_video(tmp_path / "in.mp4", 9, audio=True, time_base=Fraction(1, 30))
    weights = tiny_weights(tmp_path / "d.safetensors")
    result, check = deblur_video(clip, tmp_path / "out.mp4", LOSSLESS, weights=weights)
    assert check is None and result.frames == 9 and result.audio_copied
    before, after = frames_of(clip), frames_of(tmp_path / "out.mp4")
    assert [p for p, _ in after] == [p for p, _ in before]
    assert audio_packets(tmp_path / "out.mp4")[0] == audio_packets(clip)[0]
    assert all((a - b).abs().mean() > 0.005 for (_, a), (_, b) in zip(before, after))
    with pytest.raises(Exception):  # the input is never overwritten
        deblur_video(clip, clip, ConvertConfig(overwrite=True), weights=weights)


def test_interpolate_with_deblur_writes_the_restored_frames_at_the_source_times(tmp_path):
    clip = make_video(tmp_path / "in.mp4", 6)
    weights = tiny_weights(tmp_path / "d.safetensors")
    deblur_video(clip, tmp_path / "sharp", LOSSLESS, weights=weights)
    config = InterpolateConfig(factor=2, deblur=DeblurMode.ON, deblur_weights=weights)
    result = interpolate_video(clip, tmp_path / "x2", config, engine=ClassicalEngine())
    assert result.deblurred and result.blur_check is None
    sharp = [image for _, image in frames_of(tmp_path / "sharp")]
    retimed = [image for _, image in frames_of(tmp_path / "x2")]
    assert len(retimed) == 12
    for k, image in enumerate(sharp):
        assert torch.equal(retimed[2 * k], image)
    plain = interpolate_video(clip, tmp_path / "plain", InterpolateConfig(factor=2), engine=ClassicalEngine())
    assert not plain.deblurred
    assert not torch.equal(frames_of(tmp_path / "plain")[2][1], retimed[2])


def test_auto_leaves_a_video_the_network_would_not_change_untouched(tmp_path, monkeypatch):
    clip = make_video(tmp_path / "in.mp4", 12)
    identity = tiny_weights(tmp_path / "same.safetensors", changes=False)
    result, check = deblur_video(clip, tmp_path / "out", LOSSLESS, mode=DeblurMode.AUTO, weights=identity)
    assert check is not None and not check.blurred and check.sampled == 4
    copied, _ = deblur_video(clip, tmp_path / "copy", LOSSLESS, mode=DeblurMode.OFF)
    out, copy = frames_of(tmp_path / "out"), frames_of(tmp_path / "copy")
    assert len(out) == len(copy) == 12 and all(torch.equal(a, b) for (_, a), (_, b) in zip(out, copy))
    changing = tiny_weights(tmp_path / "d.safetensors")
    _, check = deblur_video(clip, tmp_path / "out2", LOSSLESS, mode=DeblurMode.AUTO, weights=changing)
    assert check.blurred and check.change_db < deblur_pipeline.SHARP_ABOVE_DB
    assert "deblurring" in check.describe()


def test_the_check_samples_runs_spread_over_the_video(tmp_path):
    clip = make_video(tmp_path / "in.mp4", 40)
    deblurrer = load_deblurrer(tiny_weights(tmp_path / "d.safetensors"))
    seen = []
    original = deblurrer.restore

    def spy(images):
        images = list(images)
        seen.append(len(images))
        return original(iter(images))

    deblurrer.restore = spy
    reader = open_reader(clip)
    check = check_blur(reader, deblurrer, total=40)
    assert check.sampled == 6 and seen == [3] * 6
    assert deblur_pipeline._runs(40, 6, 3)[-1] == range(37, 40)
    assert deblur_pipeline._runs(None, 2, 3) == [range(0, 3), range(3, 6)]
