from fractions import Fraction

import numpy as np
import pytest
import torch

from kinema.engines.classical import ClassicalConfig, ClassicalEngine
from kinema.io.gif import GifReader
from kinema.io.output import OutputOptions
from kinema.io.video import VideoReader
from kinema.io.video_out import VideoCodec, VideoOptions
from kinema.ops.metrics import psnr
from kinema.pipelines.chunked import interpolate_chunked, plan_chunks
from kinema.pipelines.interpolate import InterpolateConfig, interpolate_video
from tests.media import audio_packets, make_video
from tests.pipelines.test_interpolate import _shot


@pytest.fixture
def long_clip(tmp_path):
    """40 frames at 24 fps with AAC audio: a cut after frame 19, and drawings held for
    three frames around frames 8–10 and 30–32 (which the parts must not split)."""
    images = [_shot(i, 0 if i < 20 else 1) for i in range(40)]
    for held in (8, 30):
        images[held + 1] = images[held + 2] = images[held]
    return make_video(tmp_path / "long.mp4", 40, time_base=Fraction(1, 24), images=images, audio=True)


def _decoded(path):
    frames = list(VideoReader(path))
    return [f.pts for f in frames], [f.duration for f in frames], np.stack([f.image.numpy() for f in frames])


@pytest.mark.parametrize(
    "mode, quadratic", [({"factor": 3}, False), ({"factor": 3}, True), ({"fps": Fraction(60)}, True), ({"slowmo": 2}, False)]
)
def test_chunked_equals_whole(long_clip, tmp_path, mode, quadratic):
    # Lossless output: the parts are FFV1 and joined by copying their packets. Four-frame
    # motion: each part is shown the drawings just outside it, as the whole pass sees them.
    config = InterpolateConfig(**mode, max_repeats=2, output=OutputOptions(video=VideoOptions(codec=VideoCodec.FFV1)))
    engine = ClassicalEngine(ClassicalConfig.fast().replace(quadratic=quadratic))
    whole = interpolate_video(long_clip, tmp_path / "whole.nut", config, engine=engine)
    chunks = plan_chunks(long_clip, config, frames=9)
    assert len(chunks) >= 3 and chunks[0].first == 0 and chunks[-1].last == 39 and chunks[-1].final
    assert all(a.last == b.first for a, b in zip(chunks, chunks[1:]))  # neighbours share one frame
    # No part starts inside a held drawing (frames 9, 10, 31, 32 repeat their predecessor).
    assert not {c.first for c in chunks} & {9, 10, 31, 32}
    work = tmp_path / "parts"
    work.mkdir()
    joined = interpolate_chunked(long_clip, tmp_path / "joined.nut", config, engine=engine, frames=9, workdir=work)
    assert joined.frames == whole.frames_out and joined.copied
    pts_w, dur_w, img_w = _decoded(tmp_path / "whole.nut")
    pts_j, dur_j, img_j = _decoded(tmp_path / "joined.nut")
    assert pts_j == pts_w and dur_j == dur_w
    if "fps" in mode:  # every 1/60 s, none skipped at a part's start
        assert pts_w == [pts_w[0] + Fraction(k, 60) for k in range(100)]
    assert np.array_equal(img_j, img_w)  # FFV1 is lossless and the engine deterministic
    assert joined.audio_copied == whole.audio_copied == ("slowmo" not in mode)
    if joined.audio_copied:
        assert audio_packets(tmp_path / "joined.nut") == audio_packets(tmp_path / "whole.nut")
        assert audio_packets(tmp_path / "joined.nut")[0] == audio_packets(long_clip)[0]


def test_h264_parts_are_joined_without_a_second_encode(long_clip, tmp_path):
    config = InterpolateConfig(factor=2)
    engine = ClassicalEngine(ClassicalConfig.fast())
    interpolate_video(long_clip, tmp_path / "whole.mp4", config, engine=engine)
    (tmp_path / "parts").mkdir()
    joined = interpolate_chunked(long_clip, tmp_path / "joined.mp4", config, engine=engine, frames=9, workdir=tmp_path / "parts")
    assert joined.copied and joined.frames == 80
    pts_w, dur_w, img_w = _decoded(tmp_path / "whole.mp4")
    pts_j, dur_j, img_j = _decoded(tmp_path / "joined.mp4")
    assert pts_j == pts_w and dur_j == dur_w
    assert audio_packets(tmp_path / "joined.mp4") == audio_packets(tmp_path / "whole.mp4")
    # Two CRF-18 encodes of the same frames (the parts without B-frames): close, not
    # identical (each is about 40 dB from the frames on this tiny clip).
    assert float(psnr(torch.from_numpy(img_j), torch.from_numpy(img_w)).mean()) > 35


def test_a_gif_output_is_joined_from_lossless_parts(long_clip, tmp_path):
    config = InterpolateConfig(factor=2)
    engine = ClassicalEngine(ClassicalConfig.fast())
    whole = interpolate_video(long_clip, tmp_path / "whole.gif", config, engine=engine)
    (tmp_path / "parts").mkdir()
    joined = interpolate_chunked(long_clip, tmp_path / "joined.gif", config, engine=engine, frames=9, workdir=tmp_path / "parts")
    assert not joined.copied and joined.frames == whole.frames_out == 80
    assert [f.duration for f in GifReader(tmp_path / "joined.gif")] == [f.duration for f in GifReader(tmp_path / "whole.gif")]


def test_short_video_is_one_part(long_clip):
    chunks = plan_chunks(long_clip, InterpolateConfig(factor=2), frames=100)
    assert [(c.first, c.last, c.final) for c in chunks] == [(0, 39, True)]
    with pytest.raises(ValueError):
        plan_chunks(long_clip, InterpolateConfig(factor=2), frames=1)
