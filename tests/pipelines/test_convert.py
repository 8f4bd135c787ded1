"""Round trips through every pair of formats: frames, timestamps, loop and audio survive."""

from fractions import Fraction

import numpy as np
import pytest
import torch

from kinema.io import OutputOptions, VideoCodec, VideoOptions, VideoReader, open_reader, probe
from kinema.pipelines.convert import ConvertConfig, convert
from kinema.types import BadInputError, OutputExistsError
from tests.media import audio_packets, make_gif, make_video


def _timeline(path, **kw):
    return [(f.pts, f.duration) for f in open_reader(path, **kw)]


@pytest.mark.parametrize("tb", [Fraction(1, 25), Fraction(1001, 30000)])
def test_video_to_png_sequence_to_video_keeps_every_timestamp(tmp_path, tb):
    src = make_video(tmp_path / "src.mp4", 15, time_base=tb)
    convert(src, tmp_path / "frames")
    convert(tmp_path / "frames", tmp_path / "back.mp4")
    original = _timeline(src)
    assert len(original) == 15
    assert _timeline(tmp_path / "frames") == original
    assert _timeline(tmp_path / "back.mp4") == original


def test_vfr_video_keeps_its_timestamps_through_every_format(tmp_path):
    ticks = [0, 40, 80, 200, 240, 500, 510, 900, 1000]
    src = make_video(tmp_path / "vfr.mp4", len(ticks), pts=ticks, time_base=Fraction(1, 1000))
    original = _timeline(src)
    assert probe(src).vfr
    convert(src, tmp_path / "vfr2.mp4")
    convert(src, tmp_path / "frames")
    convert(tmp_path / "frames", tmp_path / "vfr3.mp4")
    convert(src, tmp_path / "vfr.mkv")
    for out in ("vfr2.mp4", "frames", "vfr3.mp4", "vfr.mkv"):
        assert _timeline(tmp_path / out) == original, out


def test_gif_durations_and_loop_survive_gif_to_gif_and_through_mp4(tmp_path):
    delays = [50, 120, 30, 200, 70]
    src = make_gif(tmp_path / "a.gif", delays, loop=3)
    convert(src, tmp_path / "b.gif")
    convert(src, tmp_path / "c.mp4")
    convert(tmp_path / "c.mp4", tmp_path / "d.gif")
    convert(src, tmp_path / "frames")
    convert(tmp_path / "frames", tmp_path / "e.gif")
    for out in ("b.gif", "c.mp4", "d.gif", "frames", "e.gif"):
        info = probe(tmp_path / out)
        assert [int(d * 1000) for _, d in _timeline(tmp_path / out)] == delays, out
        assert info.loop == 3, out


def test_gif_that_plays_once_stays_that_way_through_video(tmp_path):
    src = make_gif(tmp_path / "a.gif", [100, 100], loop=None)
    convert(src, tmp_path / "b.mkv")
    convert(tmp_path / "b.mkv", tmp_path / "c.gif")
    assert probe(tmp_path / "c.gif").loop == -1
    convert(src, tmp_path / "d.gif", ConvertConfig(loop=0))
    assert probe(tmp_path / "d.gif").loop == 0


@pytest.mark.parametrize("out_name", ["copy.mp4", "copy.mov", "copy.mkv", "frames"])
def test_audio_is_copied_bit_identical(tmp_path, out_name):
    src = make_video(tmp_path / "src.mp4", 25, audio=True)
    result = convert(src, tmp_path / out_name)
    assert result.audio_copied
    target = tmp_path / out_name
    if out_name == "frames":
        convert(target, tmp_path / "back.mp4")  # through the audio sidecar and back
        target = tmp_path / "back.mp4"
    src_payloads, src_times = audio_packets(src)
    out_payloads, out_times = audio_packets(target)
    assert out_payloads == src_payloads
    if not out_name.endswith(".mkv"):  # Matroska rounds to ms and cannot start below 0
        assert out_times == src_times


def test_no_audio_option(tmp_path):
    src = make_video(tmp_path / "src.mp4", 5, audio=True)
    convert(src, tmp_path / "o.mp4", ConvertConfig(audio=False))
    assert probe(tmp_path / "o.mp4").audio is None


@pytest.mark.parametrize("codec, name", [(VideoCodec.FFV1, "l.mkv"), (VideoCodec.PNG, "l.mov")])
def test_lossless_conversion_decodes_to_identical_pixels(tmp_path, codec, name):
    src = make_video(tmp_path / "src.mp4", 6)
    config = ConvertConfig(output=OutputOptions(video=VideoOptions(codec=codec)))
    convert(src, tmp_path / name, config)
    convert(tmp_path / name, tmp_path / "frames")
    for a, b, c in zip(VideoReader(src), VideoReader(tmp_path / name), open_reader(tmp_path / "frames")):
        assert torch.equal(a.image, b.image) and torch.equal(a.image, c.image)
        assert a.pts == b.pts == c.pts


def test_h264_output_is_close_to_the_source(tmp_path):
    # Slowly varying colour: 4:2:0 loses little, so what is measured is the colour
    # matrix and range (BT.709 limited, written and read back) plus crf 18. A matrix
    # mismatch (601 vs 709) on these colours costs about 10 dB.
    y, x = np.mgrid[0:48, 0:64]
    ramp = np.stack([x * 4, y * 5, np.full_like(x, 90)], axis=-1).astype(np.uint8)
    src = make_video(tmp_path / "src.mkv", 2, codec="ffv1", pix_fmt="bgr0", images=[ramp, ramp[::-1].copy()])
    convert(src, tmp_path / "o.mp4")
    for a, b in zip(VideoReader(src), VideoReader(tmp_path / "o.mp4")):
        mse = torch.mean((a.image - b.image) ** 2).item()
        assert 10 * np.log10(1 / mse) > 36  # measured 39 dB; a 601/709 mismatch gives 29


def test_existing_output_and_input_as_output_are_refused(tmp_path):
    src = make_video(tmp_path / "src.mp4", 3)
    with pytest.raises(OutputExistsError):
        convert(src, src, ConvertConfig(overwrite=True))
    (tmp_path / "o.mp4").write_bytes(b"keep me")
    with pytest.raises(OutputExistsError):
        convert(src, tmp_path / "o.mp4")
    assert (tmp_path / "o.mp4").read_bytes() == b"keep me"
    convert(src, tmp_path / "o.mp4", ConvertConfig(overwrite=True))
    assert probe(tmp_path / "o.mp4").frame_count == 3


def test_failed_conversion_leaves_nothing_behind(tmp_path):
    data = make_video(tmp_path / "src.mp4", 40).read_bytes()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(data[:2000])
    with pytest.raises(BadInputError):
        convert(bad, tmp_path / "o.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4", "src.mp4"]


def test_progress_callback_counts_frames(tmp_path):
    src = make_video(tmp_path / "src.mp4", 7)
    seen = []
    convert(src, tmp_path / "o.gif", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 7) for i in range(1, 8)]
