"""Frames as a bare H.264 stream in memory (kinema.io.h264)."""

import pytest
import torch

from kinema.io.h264 import decode_h264, encode_h264
from kinema.types import BadInputError
from tests.media import smooth


def clip(n=6, h=18, w=24):
    return torch.stack([torch.from_numpy(smooth(i, h, w)).permute(2, 0, 1) for i in range(n)])


def test_crf_0_is_exactly_lossless_at_any_size():
    frames = clip(h=9, w=13)
    assert torch.equal(decode_h264(encode_h264(frames, crf=0), count=6, size=(9, 13)), frames)


def test_lossy_streams_are_close_smaller_and_the_same_bytes_every_time():
    frames = clip()
    lossless, coarse = encode_h264(frames, crf=0), encode_h264(frames, crf=30)
    assert len(coarse) < len(lossless) / 3
    assert (decode_h264(coarse).float() - frames.float()).abs().mean() < 6
    assert all(encode_h264(frames, crf=30) == coarse for _ in range(3))  # reproducible bytes
    assert len(encode_h264(frames, crf=30, chroma="420")) < len(coarse)  # half the chroma samples


def test_bad_requests_and_damaged_streams_are_refused():
    frames = clip(h=9, w=13)
    with pytest.raises(ValueError, match="4:2:0 needs an even size"):
        encode_h264(frames, crf=20, chroma="420")
    with pytest.raises(ValueError, match="crf must be in 0..51"):
        encode_h264(frames, crf=60)
    with pytest.raises(ValueError, match="uint8"):
        encode_h264(frames.float(), crf=20)
    data = encode_h264(frames, crf=20)
    with pytest.raises(BadInputError, match="H.264 stream"):  # cut mid-frame, or between frames
        decode_h264(data[: len(data) // 2], count=6)
    with pytest.raises(BadInputError, match="holds 6 frames, expected 7"):
        decode_h264(data, count=7)
    with pytest.raises(BadInputError, match="expected 24x18"):
        decode_h264(data, size=(18, 24))
    with pytest.raises(BadInputError):
        decode_h264(b"not h264 at all" * 10)
