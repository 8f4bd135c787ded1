from fractions import Fraction

import numpy as np
import pytest
import torch

from kinema.io.pixels import flatten, float_planes, from_hwc, round_samples, to_hwc
from kinema.types import Frame


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [3, 4])
def test_round_trip_is_exact(dtype, channels):
    rng = np.random.default_rng(0)
    array = rng.integers(0, np.iinfo(dtype).max + 1, size=(5, 7, channels)).astype(dtype)
    image, alpha = from_hwc(array)
    assert image.shape == (3, 5, 7) and image.dtype == torch.float32
    assert (alpha is not None) == (channels == 4)
    back = to_hwc(image, alpha, bit_depth=8 if dtype == np.uint8 else 16)
    assert back.dtype == dtype and np.array_equal(back, array)


def test_gray_expands_to_rgb_and_values_map_to_unit_range():
    image, alpha = from_hwc(np.array([[0, 255]], np.uint8))
    assert alpha is None and image.shape == (3, 1, 2)
    assert image[:, 0, 1].tolist() == [1.0, 1.0, 1.0] and image.min() == 0


def test_out_of_range_values_are_clamped():
    assert to_hwc(torch.tensor([[[-0.5]], [[0.5]], [[1.5]]])).ravel().tolist() == [0, 128, 255]


def test_flatten_composites_over_background():
    image = torch.ones(3, 1, 2)
    alpha = torch.tensor([[[0.0, 1.0]]])
    assert flatten(image, alpha, 0.5)[0, 0].tolist() == [0.5, 1.0]


def _torch_round(planes: torch.Tensor, bit_depth: int) -> np.ndarray:
    """The float → integer rule written with torch ops, to pin numpy's arithmetic to it."""
    peak = 255.0 if bit_depth == 8 else 65535.0
    data = planes.clamp(0.0, 1.0).mul_(peak).round_()
    return data.permute(1, 2, 0).numpy().astype(np.uint8 if bit_depth == 8 else np.uint16)


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_rounding_to_samples_matches_torch(bit_depth):
    rng = np.random.default_rng(1)
    peak = 255 if bit_depth == 8 else 65535
    halves = (np.arange(peak, dtype=np.float32) + 0.5) / peak  # ties, where rounding rules differ
    planes = np.concatenate([rng.uniform(-0.2, 1.2, 3 * 4000).astype(np.float32), halves[: 3 * (len(halves) // 3)]])
    planes = planes[: 3 * (len(planes) // 3)].reshape(3, 1, -1)
    assert np.array_equal(round_samples(planes, bit_depth), _torch_round(torch.from_numpy(planes.copy()), bit_depth))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("bit_depth", [8, 16])
@pytest.mark.parametrize("alpha", [False, True])
def test_stored_frames_write_what_float_frames_write(dtype, channels, bit_depth, alpha):
    # A decoded frame skips the float pass where it can; the bytes must be those of the float path.
    rng = np.random.default_rng(channels)
    array = rng.integers(0, np.iinfo(dtype).max + 1, size=(6, 5, channels)).astype(dtype)
    stored = Frame.decoded(array, pts=Fraction(0), duration=Fraction(1, 25))
    image, plane = from_hwc(array)
    if alpha:
        plane = torch.ones(1, 6, 5) if plane is None else plane
        planes = torch.cat([image, plane])
    else:
        planes = flatten(image, plane, 0.25)
    expected = _torch_round(planes, bit_depth)
    assert stored.has_alpha == (channels in (2, 4))
    got = stored.pixels(bit_depth=bit_depth, alpha=alpha, background=0.25)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)
    assert stored._stored is not None  # writing did not decode the frame to floats
    assert np.array_equal(Frame(image, Fraction(0), Fraction(1, 25), alpha=from_hwc(array)[1]).pixels(
        bit_depth=bit_depth, alpha=alpha, background=0.25), expected)


def test_every_sixteen_bit_code_survives_the_float_round_trip():
    codes = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    assert np.array_equal(to_hwc(*from_hwc(codes))[..., 0], (codes / 257).round().astype(np.uint8))
    assert np.array_equal(round_samples(float_planes(codes)[0], 16)[..., 0], codes)
