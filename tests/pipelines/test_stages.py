import threading
import time

import pytest

from kinema.engines.base import AverageEngine
from kinema.engines.classical import ClassicalEngine
from kinema.io.output import OutputOptions
from kinema.io.video_out import VideoCodec, VideoOptions
from kinema.io.video import VideoReader
from kinema.pipelines.interpolate import InterpolateConfig, interpolate_frames, interpolate_video
from kinema.pipelines.stages import BackgroundWriter, Prefetch
from kinema.types import BadInputError
from tests.media import make_video, smooth


def _stage_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("kinema-")]


def _frames_and_times(path):
    return [(f.pts, f.duration, f.pixels().tobytes()) for f in VideoReader(path)]


def test_concurrent_and_serial_runs_write_the_same_frames_and_times(tmp_path):
    clip = make_video(tmp_path / "in.mp4", 12, size=(40, 56), images=[smooth(i, 40, 56) for i in range(12)])
    outputs = {}
    for concurrent in (True, False):
        config = InterpolateConfig(factor=3, concurrent=concurrent, output=OutputOptions(video=VideoOptions(codec=VideoCodec.FFV1)))
        out = tmp_path / f"{concurrent}.mkv"
        result = interpolate_video(clip, out, config, engine=ClassicalEngine())
        outputs[concurrent] = (_frames_and_times(out), result.frames_out, result.interpolated)
    assert outputs[True] == outputs[False] and outputs[True][1] == 36
    assert _stage_threads() == []


class _Explodes(AverageEngine):
    def __init__(self, error: BaseException, after: int):
        self.error, self.calls, self.after = error, 0, after

    def interpolate(self, a, b, times):
        self.calls += 1
        if self.calls > self.after:
            raise self.error
        return super().interpolate(a, b, times)


@pytest.mark.parametrize("concurrent", [True, False])
@pytest.mark.parametrize("error", [RuntimeError("engine failed"), KeyboardInterrupt()])
def test_a_failing_engine_stops_both_stages_and_leaves_no_output(tmp_path, error, concurrent):
    clip = make_video(tmp_path / "in.mp4", 30)
    out = tmp_path / "out.mkv"
    with pytest.raises(type(error)):
        interpolate_video(clip, out, InterpolateConfig(factor=2, concurrent=concurrent), engine=_Explodes(error, after=3))
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
    assert _stage_threads() == []


def test_ctrl_c_while_the_stages_are_set_up_leaves_no_output(tmp_path, monkeypatch):
    from kinema.pipelines.interpolate import run

    def interrupted(info):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "_stage_depth", interrupted)  # the writer's temporary exists by then
    clip = make_video(tmp_path / "in.mp4", 6)
    with pytest.raises(KeyboardInterrupt):
        interpolate_video(clip, tmp_path / "out.mkv", InterpolateConfig(factor=2), engine=AverageEngine())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


class _InterruptedClassical(ClassicalEngine):
    """Ctrl-C on the third pair, while the look-ahead's flows of the next are running."""

    def __init__(self):
        super().__init__()
        self.calls, self.looked_ahead = 0, 0

    def lookahead(self, a, b, *, before=None, after=None):
        self.looked_ahead += 1
        super().lookahead(a, b, before=before, after=after)

    def interpolate_window(self, a, b, times, *, before=None, after=None):
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return super().interpolate_window(a, b, times, before=before, after=after)


def test_ctrl_c_with_flows_running_ahead_leaves_no_output_and_no_stage_threads(tmp_path):
    clip = make_video(tmp_path / "in.mp4", 12, size=(40, 56), images=[smooth(i, 40, 56) for i in range(12)])
    out = tmp_path / "out.mp4"
    engine = _InterruptedClassical()
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        interpolate_video(clip, out, InterpolateConfig(factor=2), engine=engine)
    assert engine.looked_ahead >= 3 and time.perf_counter() - started < 60
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"] and _stage_threads() == []


def test_a_failing_reader_is_raised_in_the_caller_and_leaves_no_output(tmp_path):
    clip = make_video(tmp_path / "in.mp4", 8)
    reader = VideoReader(clip)

    def broken():
        for i, frame in enumerate(reader):
            if i == 5:
                raise BadInputError("in.mp4: corrupt frame 5")
            yield frame

    out = tmp_path / "out.mkv"
    with pytest.raises(BadInputError, match="corrupt frame 5"):
        interpolate_frames(broken(), reader.info, out, InterpolateConfig(factor=2, concurrent=True), engine=AverageEngine())
    assert not out.exists() and _stage_threads() == []


class _Recorder:
    def __init__(self, fail_at: int | None = None):
        self.frames, self.fail_at, self.closed, self.aborted = [], fail_at, False, False

    def write(self, frame):
        if len(self.frames) == self.fail_at:
            raise OSError(28, "No space left on device")
        time.sleep(0.001)
        self.frames.append(frame)

    def close(self):
        self.closed = True
        return "done"

    def abort(self):
        self.aborted = True


def test_the_background_writer_keeps_order_and_reports_its_failure():
    ok = _Recorder()
    with BackgroundWriter(ok, depth=2) as writer:
        for i in range(20):
            writer.write(i)
    assert ok.frames == list(range(20)) and ok.closed and not ok.aborted
    full = _Recorder(fail_at=3)
    with pytest.raises(OSError, match="No space"):
        with BackgroundWriter(full, depth=2) as writer:
            for i in range(20):
                writer.write(i)
    assert full.aborted and not full.closed and full.frames == [0, 1, 2]
    assert _stage_threads() == []


def test_prefetch_stops_its_source_when_the_consumer_stops():
    produced, closed = [], []

    def endless():
        try:
            for i in range(10**9):
                produced.append(i)
                yield i
        finally:
            closed.append(True)

    with Prefetch(endless(), depth=3) as items:
        got = [x for _, x in zip(range(5), items)]
    assert got == [0, 1, 2, 3, 4] and closed == [True] and len(produced) <= 5 + 3 + 1
    assert _stage_threads() == []
    with Prefetch(iter([1, 2, 3]), prepare=lambda x: 1 / (x - 2)) as items, pytest.raises(ZeroDivisionError):
        list(items)
