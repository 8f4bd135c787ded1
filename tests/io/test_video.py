from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from kinema.io import OddSize, VideoCodec, VideoOptions, VideoReader, VideoWriter
from kinema.io.video import probe_video
from kinema.types import BadInputError, Frame, UnsupportedFormatError
from tests.media import make_video, make_zero_frame_video, pattern


def test_probe_counts_frames_and_constant_rate(tmp_path):
    info = probe_video(make_video(tmp_path / "a.mp4", 12, time_base=Fraction(1001, 30000)))
    assert info.frame_count == 12
    assert info.fps == Fraction(30000, 1001)
    assert info.duration == 12 * Fraction(1001, 30000)
    assert (info.width, info.height, info.bit_depth, info.has_alpha) == (64, 48, 8, False)


def test_reader_gives_exact_timestamps_and_durations(tmp_path):
    path = make_video(tmp_path / "a.mp4", 8, time_base=Fraction(1, 24))
    frames = list(VideoReader(path))
    assert [f.pts for f in frames] == [Fraction(i, 24) for i in range(8)]
    assert all(f.duration == Fraction(1, 24) for f in frames)
    assert frames[0].image.shape == (3, 48, 64) and frames[0].image.dtype == torch.float32


def test_vfr_timeline_is_reported_and_read_exactly(tmp_path):
    ticks = [0, 40, 80, 200, 240, 500, 510, 900]
    path = make_video(tmp_path / "vfr.mp4", len(ticks), pts=ticks, time_base=Fraction(1, 1000))
    info = probe_video(path)
    assert info.vfr and info.fps is None
    assert [f.pts for f in VideoReader(path)] == [Fraction(t, 1000) for t in ticks]


def test_rotation_metadata_is_applied(tmp_path):
    image = np.zeros((48, 64, 3), np.uint8)
    image[:8, :8] = 255  # a white block in the top-left corner
    path = make_video(tmp_path / "rot.mkv", 1, codec="ffv1", pix_fmt="bgr0", rotation=90, images=[image])
    info = probe_video(path)
    assert info.rotation == 90 and (info.width, info.height) == (48, 64)
    frame = next(iter(VideoReader(path)))
    assert frame.image.shape == (3, 64, 48)
    # 90° counter-clockwise carries the top-left corner to the bottom-left.
    assert frame.image[:, -8:, :8].min() == 1.0 and frame.image[:, :8, :8].max() == 0.0


def test_ten_bit_input_keeps_more_than_eight_bits(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16)[None, :, None], (48, 1, 3))
    path = make_video(tmp_path / "10bit.mkv", 1, codec="ffv1", pix_fmt="yuv444p10le", in_format="rgb48le", images=[ramp])
    info = probe_video(path)
    assert info.bit_depth == 10 and info.pixel_format == "yuv444p10le"
    image = next(iter(VideoReader(path))).image
    codes = image * 255
    assert (codes - codes.round()).abs().max() > 0.05  # off the 8-bit grid
    assert torch.allclose(image[0, 24], torch.linspace(0, 1, 64), atol=4 / 1023)


def _frames(n, h=20, w=30, alpha=False, depth=8):
    out = []
    for i in range(n):
        array = pattern(i, h, w, 4 if alpha else 3, dtype=np.uint8 if depth == 8 else np.uint16)
        data = torch.from_numpy(array.astype(np.float32) / (255 if depth == 8 else 65535)).permute(2, 0, 1)
        out.append(Frame(image=data[:3], alpha=data[3:] if alpha else None, pts=Fraction(i, 10), duration=Fraction(1, 10), index=i))
    return out


@pytest.mark.parametrize("codec", [VideoCodec.FFV1, VideoCodec.PNG])
@pytest.mark.parametrize("alpha", [False, True])
@pytest.mark.parametrize("depth", [8, 16])
def test_lossless_codecs_give_back_identical_pixels(tmp_path, codec, alpha, depth):
    frames = _frames(3, alpha=alpha, depth=depth)  # 20x30: odd-free, but 4:2:0 is not involved
    path = tmp_path / ("out.mkv" if codec is VideoCodec.FFV1 else "out.mov")
    with VideoWriter(path, options=VideoOptions(codec=codec), time_base=Fraction(1, 10), source_bit_depth=depth, alpha=alpha) as w:
        for f in frames:
            w.write(f)
    back = list(VideoReader(path))
    assert len(back) == 3
    for a, b in zip(frames, back):
        assert torch.equal(a.image, b.image)
        assert (b.alpha is not None) == alpha
        if alpha:
            assert torch.equal(a.alpha, b.alpha)


def test_lossless_keeps_odd_sizes(tmp_path):
    frames = _frames(2, h=7, w=5)
    path = tmp_path / "odd.mkv"
    with VideoWriter(path, options=VideoOptions(codec=VideoCodec.FFV1), time_base=Fraction(1, 10)) as w:
        for f in frames:
            w.write(f)
    back = list(VideoReader(path))
    assert back[0].image.shape == (3, 7, 5) and torch.equal(back[1].image, frames[1].image)


@pytest.mark.parametrize("mode, size", [(OddSize.PAD, (8, 6)), (OddSize.CROP, (6, 4))])
def test_h264_odd_size_is_padded_or_cropped(tmp_path, mode, size):
    path = tmp_path / "odd.mp4"
    with VideoWriter(path, options=VideoOptions(odd_size=mode), time_base=Fraction(1, 10)) as w:
        for f in _frames(2, h=7, w=5):
            w.write(f)
    info = probe_video(path)
    assert (info.height, info.width) == size


def test_h264_odd_size_error_mode_refuses_and_leaves_nothing(tmp_path):
    path = tmp_path / "odd.mp4"
    with pytest.raises(UnsupportedFormatError, match="odd"):
        with VideoWriter(path, options=VideoOptions(odd_size=OddSize.ERROR), time_base=Fraction(1, 10)) as w:
            w.write(_frames(1, h=7, w=5)[0])
    assert list(tmp_path.iterdir()) == []


def test_writer_crash_leaves_no_partial_file(tmp_path):
    path = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(path, time_base=Fraction(1, 10)) as w:
            for f in _frames(3):
                w.write(f)
            raise RuntimeError("simulated crash")
    assert list(tmp_path.iterdir()) == []


def test_codec_container_mismatch_is_refused(tmp_path):
    with pytest.raises(UnsupportedFormatError, match="ffv1"):
        VideoWriter(tmp_path / "x.mp4", options=VideoOptions(codec=VideoCodec.FFV1))


def test_one_frame_video(tmp_path):
    path = make_video(tmp_path / "one.mp4", 1, time_base=Fraction(1, 30))
    info = probe_video(path)
    frames = list(VideoReader(path))
    assert info.frame_count == 1 and len(frames) == 1
    assert frames[0].duration == Fraction(1, 30)


def test_zero_frame_stream_is_refused(tmp_path):
    with pytest.raises(BadInputError, match="no video"):
        probe_video(make_zero_frame_video(tmp_path / "empty.mp4"))


def test_truncated_mp4_with_index_up_front_is_detected(tmp_path):
    path = make_video(tmp_path / "a.mp4", 60, options={"movflags": "faststart"})
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(BadInputError, match="truncated"):
        probe_video(cut)


def test_audio_only_file_has_no_video(tmp_path):
    path = tmp_path / "a.m4a"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 44100, 0
        for p in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(p)
    with pytest.raises(BadInputError, match="no video stream"):
        probe_video(path)


@pytest.mark.parametrize("codec", ["libx264", "mpeg4"])
def test_frames_from_a_later_frame_match_a_full_decode(tmp_path, codec):
    # A keyframe every 5 frames (and B-frames for x264): the reader seeks to the keyframe
    # before the wanted frame and must hand out exactly the frames a full decode does.
    path = tmp_path / "gop.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.gop_size = 5
        for i in range(30):
            frame = av.VideoFrame.from_ndarray(pattern(i, 48, 64), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    full = list(VideoReader(path))
    for k in (1, 13, 29):
        later = list(VideoReader(path).frames_from(full[k].pts, index=k))
        assert [(f.index, f.pts, f.duration) for f in later] == [(f.index, f.pts, f.duration) for f in full[k:]]
        assert all(torch.equal(a.image, b.image) for a, b in zip(later, full[k:]))


def test_vp9_alpha_in_webm_is_read(tmp_path):
    """WebM keeps VP9 alpha as block side data, which FFmpeg's own decoder drops."""
    try:
        av.codec.Codec("libvpx-vp9", "w")
    except Exception:  # noqa: BLE001 - an FFmpeg build without libvpx
        pytest.skip("no libvpx-vp9 encoder in this PyAV build")
    path = tmp_path / "a.webm"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libvpx-vp9", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuva420p"
        for i in range(4):
            rgba = np.zeros((48, 64, 4), np.uint8)
            rgba[..., 0] = 200
            rgba[10:30, 10 + i : 40 + i, 3] = 255
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgba, format="rgba")))
        out.mux(stream.encode(None))
    info = probe_video(path)
    assert info.has_alpha and info.pixel_format == "yuva420p"
    frames = list(VideoReader(path))
    assert len(frames) == 4 and all(f.alpha is not None for f in frames)
    alpha = frames[2].alpha[0]
    assert alpha[20, 25] > 0.9 and alpha[5, 5] < 0.1 and alpha[20, 5] < 0.1
