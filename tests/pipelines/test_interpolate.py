from fractions import Fraction

import numpy as np
import pytest

from kinema.engines.base import AverageEngine
from kinema.io.images import list_frames, read_image
from kinema.io.probe import probe
from kinema.io.video import VideoReader
from kinema.pipelines.interpolate import InterpolateConfig, interpolate_video
from kinema.types import OutputExistsError
from tests.media import audio_packets, make_video


def _shot(index: int, shot: int, h: int = 48, w: int = 64) -> np.ndarray:
    """Shot 0: a smooth pattern drifting right; shot 1: a different pattern drifting down."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    if shot == 0:
        r = 128 + 90 * np.sin((x - 2 * index) / 6.0)
        image = np.stack([r, 0.5 * r + 40, np.full_like(x, 60)], -1)
    else:
        g = 128 + 90 * np.cos((y - 2 * index) / 5.0)
        image = np.stack([np.full_like(x, 200), g, 255 - g], -1)
    return image.clip(0, 255).astype(np.uint8)


@pytest.fixture
def cut_clip(tmp_path):
    """24 fps, 1 s, a hard cut after frame 11, with AAC audio."""
    images = [_shot(i, 0 if i < 12 else 1) for i in range(24)]
    return make_video(tmp_path / "cut.mp4", 24, time_base=Fraction(1, 24), images=images, audio=True)


def test_24_to_60_fps_keeps_duration_audio_and_holds_at_the_cut(cut_clip, tmp_path):
    out = tmp_path / "out.mp4"  # (Matroska stores milliseconds: 60 fps would not be exact)
    config = InterpolateConfig(fps=Fraction(60))
    result = interpolate_video(cut_clip, out, config, engine=AverageEngine())
    info_in, info_out = probe(cut_clip), probe(out)
    assert info_out.fps == 60 and info_out.frame_count == result.frames_out == 60
    assert abs(info_out.duration - info_in.duration) < Fraction(1, 60)
    assert result.cuts == 1 and result.audio_copied
    assert audio_packets(out)[0] == audio_packets(cut_clip)[0]
    # Output times 0.475 and 0.4833… lie between frame 11 (0.4583 s) and the cut's frame 12 (0.5 s):
    # they must show frame 11 held, not a blend into the next shot.
    frames = {f.pts: f.image for f in VideoReader(out)}
    source = {f.pts: f.image for f in VideoReader(cut_clip)}
    for t in (Fraction(28, 60), Fraction(29, 60)):
        assert (frames[t] - source[Fraction(11, 24)]).abs().mean() < 0.02
        assert (frames[t] - source[Fraction(12, 24)]).abs().mean() > 0.1
    # Within a shot the engine is used: 0.05 s is between frames 1 and 2.
    assert result.interpolated > 0


def test_factor_doubles_frames_and_slowmo_stretches_time(tmp_path):
    clip = make_video(tmp_path / "in.mp4", 10, time_base=Fraction(1, 25))
    doubled = interpolate_video(clip, tmp_path / "x2.mp4", InterpolateConfig(factor=2), engine=AverageEngine())
    info = probe(tmp_path / "x2.mp4")
    assert doubled.frames_out == info.frame_count == 20 and info.fps == 50 and info.duration == Fraction(10, 25)
    slow = interpolate_video(clip, tmp_path / "slow", InterpolateConfig(slowmo=3), engine=AverageEngine())
    frames = list_frames(tmp_path / "slow")
    assert slow.frames_out == len(frames) == 30
    assert slow.duration_out == Fraction(30, 25) and not slow.audio_copied


def test_repeated_frames_are_bridged_not_stuttered(tmp_path):
    # Animation "on twos": every drawing is shown twice.
    images = [_shot(2 * (i // 2), 0) for i in range(12)]
    clip = make_video(tmp_path / "twos.mp4", 12, time_base=Fraction(1, 12), images=images, codec="ffv1", pix_fmt="bgr0", in_format="rgb24")
    result = interpolate_video(clip, tmp_path / "out", InterpolateConfig(factor=1), engine=AverageEngine())
    assert result.repeats == 5  # the last repeat ends the video, so it is held
    frames = [read_image(p).astype(np.float32) for p in list_frames(tmp_path / "out")]
    steps = [np.abs(frames[i + 1] - frames[i]).mean() for i in range(10)]
    assert min(steps) > 0.2 * max(steps), steps  # every frame moves: no frozen duplicates


def test_inputs_are_never_overwritten(cut_clip):
    with pytest.raises(OutputExistsError):
        interpolate_video(cut_clip, cut_clip, InterpolateConfig(factor=2, overwrite=True), engine=AverageEngine())


def test_config_needs_exactly_one_mode():
    with pytest.raises(ValueError):
        InterpolateConfig()
    with pytest.raises(ValueError):
        InterpolateConfig(factor=2, fps=Fraction(30))
    with pytest.raises(ValueError):
        InterpolateConfig(factor=0)


class _Spy(AverageEngine):
    """Records which neighbours the pipeline hands over for each pair."""

    def __init__(self):
        self.calls = []

    def interpolate_window(self, a, b, times, *, before=None, after=None):
        self.calls.append((before is not None, after is not None))
        return self.interpolate(a, b, times)


def test_neighbours_are_handed_over_within_a_shot_and_never_across_a_cut(cut_clip, tmp_path):
    spy = _Spy()
    result = interpolate_video(cut_clip, tmp_path / "out.mkv", InterpolateConfig(factor=2), engine=spy)
    assert result.cuts == 1 and len(spy.calls) == 22  # 23 pairs of drawings, the cut held
    # Shot 0 is frames 0-11 (pairs 0-10), the cut is pair 11, shot 1 is frames 12-23.
    assert spy.calls[0] == (False, True) and spy.calls[-1] == (True, False)  # the video's ends
    assert spy.calls[10] == (True, False) and spy.calls[11] == (False, True)  # the cut's sides
    assert all(call == (True, True) for call in spy.calls[1:10] + spy.calls[12:-1])


def test_the_result_says_where_the_time_went(cut_clip, tmp_path):
    result = interpolate_video(cut_clip, tmp_path / "out.mkv", InterpolateConfig(factor=2), engine=AverageEngine())
    assert set(result.stages) == {"decode", "tests", "engine", "encode"}
    assert all(s > 0 for s in result.stages.values()) and sum(result.stages.values()) <= result.seconds


def test_a_looping_clip_shows_its_last_interval_the_motion_after_the_seam(tmp_path):
    from kinema.io.probe import open_reader
    from kinema.pipelines.interpolate import interpolate_frames

    base = _shot(0, 0, 48, 60)
    images = [np.roll(base, 10 * k, axis=1) for k in range(6)]  # six steps round a 60-px period: a loop
    clip = make_video(tmp_path / "loop.mp4", 6, size=(48, 60), images=images)
    reader = open_reader(clip)
    spy = _Spy()
    interpolate_frames(reader, reader.info, tmp_path / "out.mkv", InterpolateConfig(factor=2), engine=spy, wrap=True)
    assert len(spy.calls) == 6  # five intervals and the one back to the first frame
    assert spy.calls[0] == (False, True) and spy.calls[-2] == (True, True) and spy.calls[-1] == (True, True)
