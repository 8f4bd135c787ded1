import numpy as np
import pytest
import torch

from kinema.io.pixels import flatten, from_hwc, to_hwc


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
