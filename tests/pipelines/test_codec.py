"""``encode_video`` / ``decode_video``: exact timing, odd sizes, damaged streams, rate targets."""

import pytest

from kinema.engines.codec import CodecEngine
from kinema.io.kvc_file import DamagedStreamError, KvcReader
from kinema.io import OutputOptions, VideoOptions
from kinema.io.probe import open_reader
from kinema.io.video_out import VideoCodec
from kinema.pipelines.codec import decode_video, encode_video
from kinema.types import OutputExistsError, UnsupportedFormatError
from tests.engines.test_codec import tiny_codec
from tests.media import make_video

LOSSLESS = OutputOptions(video=VideoOptions(codec=VideoCodec.FFV1))


@pytest.fixture(scope="module")
def engine():
    return CodecEngine(tiny_codec())


def test_round_trip_keeps_frames_exact_timestamps_and_an_odd_size(tmp_path, engine):
    pts = [0, 1, 2, 4, 5, 9, 10]  # variable frame rate
    clip = make_video(tmp_path / "in.nut", len(pts), size=(17, 33), pts=pts, codec="ffv1", pix_fmt="bgr0")
    result = encode_video(clip, tmp_path / "c.kvc", level=2, gop=3, engine=engine)
    assert result.frames == 7 and result.level == 2 and result.audio == "none"
    assert result.bytes == (tmp_path / "c.kvc").stat().st_size
    decoded = decode_video(tmp_path / "c.kvc", tmp_path / "out.nut", engine=engine, output_options=LOSSLESS)
    assert decoded.frames == 7 and decoded.damage is None
    source, out = list(open_reader(clip)), list(open_reader(tmp_path / "out.nut"))
    assert [f.pts for f in out] == [f.pts for f in source]
    assert out[0].image.shape == (3, 17, 33)
    # Decoding from the third GOP starts at frame 6 with its own timestamp.
    part = decode_video(tmp_path / "c.kvc", tmp_path / "part.nut", engine=engine, start_gop=2, output_options=LOSSLESS)
    assert part.frames == 1 and [f.pts for f in open_reader(tmp_path / "part.nut")] == [source[6].pts]
    with KvcReader(tmp_path / "c.kvc") as reader:
        assert reader.summary()["gops"] == 3 and reader.frames == 7
    # The decoded frames are the encoder's own reconstructions (lossless output).
    encoder = engine.encoder(2, 3)
    expected = [encoder.push(f.image[None])[2][0] for f in source]
    assert all((e - f.image).abs().max() <= 0.5 / 255 + 1e-6 for e, f in zip(expected, out, strict=True))


def test_audio_is_reported_dropped(tmp_path, engine):
    clip = make_video(tmp_path / "in.mp4", 3, size=(16, 16), audio=True)
    assert encode_video(clip, tmp_path / "c.kvc", engine=engine).audio == "dropped"


def test_a_damaged_stream_keeps_the_frames_before_the_damage_and_says_where(tmp_path, engine):
    clip = make_video(tmp_path / "in.mp4", 6, size=(32, 48))
    encode_video(clip, tmp_path / "c.kvc", level=1, gop=3, engine=engine)
    blob = bytearray((tmp_path / "c.kvc").read_bytes())
    with KvcReader(tmp_path / "c.kvc") as reader:
        first, fourth = reader.index  # the two GOPs' I-packets
    blob[fourth + 30] ^= 0x40
    (tmp_path / "flip.kvc").write_bytes(blob)
    result = decode_video(tmp_path / "flip.kvc", tmp_path / "flip.mp4", engine=engine)
    assert result.frames == 3 and "damaged at frame 4" in result.damage
    assert len(list(open_reader(tmp_path / "flip.mp4"))) == 3
    (tmp_path / "cut.kvc").write_bytes(bytes(blob[: fourth - 5]))
    result = decode_video(tmp_path / "cut.kvc", tmp_path / "cut.mp4", engine=engine)
    assert result.frames == 2 and "frame 3" in result.damage
    (tmp_path / "head.kvc").write_bytes(bytes(blob[: first + 10]))
    with pytest.raises(DamagedStreamError) as damaged:
        decode_video(tmp_path / "head.kvc", tmp_path / "none.mp4", engine=engine)
    assert str(damaged.value).count("head.kvc") == 1  # one line, the file named once
    assert not (tmp_path / "none.mp4").exists()


def test_a_rate_target_picks_the_level_and_bad_options_are_refused(tmp_path, engine):
    clip = make_video(tmp_path / "in.mp4", 4, size=(32, 48))
    assert encode_video(clip, tmp_path / "low.kvc", bpp=1e-4, gop=2, engine=engine).level == 1
    assert encode_video(clip, tmp_path / "high.kvc", bpp=1e4, gop=2, engine=engine).level == engine.levels
    with pytest.raises(UnsupportedFormatError):
        encode_video(clip, tmp_path / "x.kvc", level=1, bpp=0.1, engine=engine)
    with pytest.raises(UnsupportedFormatError, match="quality level"):
        encode_video(clip, tmp_path / "x.kvc", level=9, engine=engine)
    with pytest.raises(OutputExistsError):
        encode_video(clip, clip, engine=engine)
    assert not (tmp_path / "x.kvc").exists()
