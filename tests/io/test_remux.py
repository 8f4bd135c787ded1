from fractions import Fraction

import torch

from kinema.io.remux import can_join, join_packets
from kinema.io.video import VideoReader
from kinema.io.video_out import VideoCodec, VideoOptions, VideoWriter
from kinema.types import Frame

TB = Fraction(1, 25)


def _part(path, first: int, count: int, size=(16, 24), codec=VideoCodec.FFV1, b_frames=True):
    g = torch.Generator().manual_seed(first)
    with VideoWriter(path, options=VideoOptions(codec=codec, b_frames=b_frames), time_base=TB, rate=Fraction(25)) as writer:
        for i in range(first, first + count):
            writer.write(Frame(image=torch.rand((3, *size), generator=g), pts=i * TB, duration=TB, index=i))
    return path


def test_parts_join_by_copy_into_the_frames_of_both(tmp_path):
    a, b = _part(tmp_path / "a.nut", 0, 4), _part(tmp_path / "b.nut", 4, 3)
    assert can_join([a, b])
    assert join_packets([a, b], tmp_path / "ab.nut", time_base=TB) == 7
    joined = list(VideoReader(tmp_path / "ab.nut"))
    parts = list(VideoReader(a)) + list(VideoReader(b))
    assert [f.pts for f in joined] == [i * TB for i in range(7)]
    assert all(torch.equal(x.image, y.image) for x, y in zip(joined, parts))


def test_parts_that_cannot_be_copied_are_refused(tmp_path):
    a = _part(tmp_path / "a.nut", 0, 3)
    assert not can_join([a, _part(tmp_path / "small.nut", 3, 3, size=(8, 24))])  # another size
    assert not can_join([a, _part(tmp_path / "early.nut", 1, 3)])  # time goes backwards
    # H.264 with B-frames: NUT cannot give the first packets a decoding time.
    assert not can_join([_part(tmp_path / "b0.nut", 0, 8, codec=VideoCodec.H264), _part(tmp_path / "b1.nut", 8, 8, codec=VideoCodec.H264)])
    assert can_join([_part(tmp_path / "n0.nut", 0, 8, codec=VideoCodec.H264, b_frames=False), _part(tmp_path / "n1.nut", 8, 8, codec=VideoCodec.H264, b_frames=False)])
