"""``interpolate`` with the learned detector's transitions (``--scene-cuts auto``): holds at
cuts, the engine (or, asked for, cross-fades) inside a dissolve, and chunked parts that end at cuts."""

from fractions import Fraction

import numpy as np
import pytest
import torch

from kinema.engines.base import AverageEngine
from kinema.io.output import OutputOptions
from kinema.io.video import VideoReader
from kinema.io.video_out import VideoCodec, VideoOptions
from kinema.pipelines import transitions as tr
from kinema.pipelines.chunked import interpolate_chunked, plan_chunks
from kinema.pipelines.interpolate import InterpolateConfig, interpolate_video
from kinema.pipelines.transitions import Transition
from kinema.types import CutMode
from tests.media import make_video
from tests.pipelines.test_interpolate import _shot

LOSSLESS = OutputOptions(video=VideoOptions(codec=VideoCodec.FFV1))


class SpyEngine(AverageEngine):
    """Averages, and counts the pairs it was asked for."""

    def __init__(self):
        self.calls = 0

    def interpolate(self, a, b, times):
        self.calls += 1
        return super().interpolate(a, b, times)


def _transition(kind, first, last):
    return Transition(kind, first, last, Fraction(first, 24), Fraction(last + 1, 24), 1.0)


@pytest.fixture
def dissolve_clip(tmp_path):
    """30 frames at 24 fps: shot 0, a dissolve over frames 10–15, shot 1, a cut at frame 24."""
    a = [_shot(i, 0).astype(np.float32) for i in range(30)]
    b = [_shot(i, 1).astype(np.float32) for i in range(30)]
    images = []
    for i in range(30):
        alpha = 0 if i < 10 else 1 if i > 15 else (i - 9) / 7
        image = (1 - alpha) * a[i] + alpha * b[i]
        images.append((a[i] if i >= 24 else image).round().astype(np.uint8))
    return make_video(tmp_path / "dissolve.nut", 30, time_base=Fraction(1, 24), images=images, codec="ffv1", pix_fmt="bgr0")


@pytest.fixture
def detected(monkeypatch):
    """The detector's answer for ``dissolve_clip`` (the network itself is tested elsewhere)."""
    found = [_transition("dissolve", 10, 15), _transition("cut", 24, 24)]
    monkeypatch.setattr(tr, "detect", lambda *args, **kwargs: list(found))
    return found


def test_auto_holds_only_at_the_cut_and_runs_the_engine_inside_the_dissolve(dissolve_clip, detected, tmp_path):
    engine = SpyEngine()
    config = InterpolateConfig(factor=2, scene_cuts=CutMode.AUTO, output=LOSSLESS)
    result = interpolate_video(dissolve_clip, tmp_path / "out.nut", config, engine=engine)
    assert result.blended == 0 and result.cuts == 1 and result.interpolated == engine.calls == 29 - 1


def test_auto_can_cross_fade_inside_the_dissolve(dissolve_clip, detected, tmp_path):
    engine = SpyEngine()
    config = InterpolateConfig(factor=2, scene_cuts=CutMode.AUTO, blend_gradual=True, output=LOSSLESS)
    result = interpolate_video(dissolve_clip, tmp_path / "out.nut", config, engine=engine)
    # Pairs (9,10) … (15,16) are inside the dissolve: 7 blends; (23,24) is held; the rest
    # of the 29 pairs (and the time after the last frame, held) go to the engine.
    assert result.blended == 7 and result.cuts == 1
    assert result.interpolated == 29 - 7 - 1 and engine.calls == result.interpolated
    source = [f.image for f in VideoReader(dissolve_clip)]
    out = [f.image for f in VideoReader(tmp_path / "out.nut")]
    torch.testing.assert_close(out[2 * 12 + 1], (source[12] + source[13]) / 2, atol=1 / 255, rtol=0)
    torch.testing.assert_close(out[2 * 23 + 1], source[23], atol=1 / 255, rtol=0)  # held, not mixed


def test_quick_and_off_ignore_the_detector(dissolve_clip, detected, tmp_path):
    for mode in (CutMode.QUICK, CutMode.OFF):
        result = interpolate_video(dissolve_clip, tmp_path / f"{mode.value}.nut", InterpolateConfig(factor=2, scene_cuts=mode, output=LOSSLESS), engine=AverageEngine())
        assert result.blended == 0 and result.cuts == (mode is CutMode.QUICK)


def test_chunked_parts_end_at_a_detected_cut_and_equal_the_whole(dissolve_clip, detected, tmp_path):
    config = InterpolateConfig(factor=2, scene_cuts=CutMode.AUTO, output=LOSSLESS)
    chunks = plan_chunks(dissolve_clip, config, frames=8)
    assert 24 in {c.first for c in chunks}  # at the cut, though the part is shorter than 8
    assert all(c.transitions is not None for c in chunks)
    whole = interpolate_video(dissolve_clip, tmp_path / "whole.nut", config, engine=AverageEngine())
    work = tmp_path / "parts"
    work.mkdir()
    interpolate_chunked(dissolve_clip, tmp_path / "joined.nut", config, engine=AverageEngine(), frames=8, workdir=work)
    a, b = list(VideoReader(tmp_path / "whole.nut")), list(VideoReader(tmp_path / "joined.nut"))
    assert [f.pts for f in a] == [f.pts for f in b] and len(a) == whole.frames_out
    assert all(torch.equal(x.image, y.image) for x, y in zip(a, b))


def test_config_takes_the_mode_by_name():
    assert InterpolateConfig(factor=2, scene_cuts="auto").scene_cuts is CutMode.AUTO
    with pytest.raises(ValueError):
        InterpolateConfig(factor=2, scene_cuts="sometimes")
