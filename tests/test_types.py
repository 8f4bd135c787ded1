from fractions import Fraction

import pytest

from kinema.types import BadInputError, Frame, parse_rate


@pytest.mark.parametrize(
    "text, rate",
    [
        ("30", Fraction(30)),
        ("30000/1001", Fraction(30000, 1001)),
        ("29.97", Fraction(30000, 1001)),  # decimal NTSC spellings mean N·1000/1001
        ("23.976", Fraction(24000, 1001)),
        ("59.94", Fraction(60000, 1001)),
        ("119.88", Fraction(120000, 1001)),
        ("29.5", Fraction(59, 2)),  # not an NTSC rate: kept as written
        ("25.0", Fraction(25)),
        (" 12.5 ", Fraction(25, 2)),
    ],
)
def test_rates_parse_exactly(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["abc", "0", "-24", "1/0", ""])
def test_bad_rates_are_refused(text):
    with pytest.raises(BadInputError):
        parse_rate(text)


def test_a_decoded_frame_turns_into_floats_once_and_stays_immutable():
    import numpy as np
    import torch

    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)  # RGBA
    frame = Frame.decoded(array, pts=Fraction(1, 2), duration=Fraction(1, 25), index=7)
    assert (frame.height, frame.width, frame.has_alpha, frame.end) == (2, 3, True, Fraction(27, 50))
    moved = frame.replace(pts=Fraction(1), index=8)
    assert moved.pixels(alpha=True).tobytes() == array.tobytes()  # still the stored samples
    image = frame.image
    assert image.shape == (3, 2, 3) and frame.alpha.shape == (1, 2, 3) and frame.image is image
    assert torch.equal(image[:, 1, 2] * 255, torch.tensor(array[1, 2, :3], dtype=torch.float32))
    with pytest.raises(AttributeError):
        frame.pts = Fraction(0)
    with pytest.raises(TypeError):
        frame.replace(colour=None)
    painted = frame.replace(image=torch.zeros(3, 2, 3))
    assert painted.image.sum() == 0 and torch.equal(painted.alpha, frame.alpha) and painted.index == 7


def test_frames_survive_pickling_and_copying():
    import copy
    import pickle

    import numpy as np

    stored = Frame.decoded(np.full((2, 3, 3), 7, np.uint8), pts=Fraction(1, 3), duration=Fraction(1, 30), index=4)
    for frame in (stored, stored.replace(image=stored.image * 0.5)):
        for twin in (pickle.loads(pickle.dumps(frame)), copy.copy(frame), copy.deepcopy(frame)):
            assert (twin.pts, twin.duration, twin.index) == (frame.pts, frame.duration, frame.index)
            assert np.array_equal(twin.pixels(), frame.pixels())
