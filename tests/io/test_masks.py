"""Label masks: values in, the same values out."""

import numpy as np
import pytest
from PIL import Image

from kinema.io.masks import MAX_LABELS, read_mask
from kinema.types import BadInputError


def test_a_black_and_white_mask_is_one_label_over_the_background(tmp_path):
    array = np.zeros((6, 8), np.uint8)
    array[2:4, 3:6] = 255
    Image.fromarray(array).save(tmp_path / "m.png")
    mask = read_mask(tmp_path / "m.png")
    assert mask.count == 2 and mask.bit_depth == 8
    assert mask.labels.sum() == 6 and mask.labels[2, 3] == 1 and mask.labels[0, 0] == 0
    assert mask.one_hot().shape == (2, 6, 8)
    # Drawn back in the file's own values (a gray mask as gray).
    image = mask.image(mask.labels)
    assert image.shape == (3, 6, 8) and float(image[:, 2, 3].min()) == 1.0 and float(image.max()) == 1.0


def test_colours_and_integer_values_are_labels_kept_as_they_were(tmp_path):
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[0, :2] = (200, 10, 10)
    rgb[3, 3] = (10, 200, 10)
    Image.fromarray(rgb).save(tmp_path / "c.png")
    mask = read_mask(tmp_path / "c.png")
    assert mask.count == 3
    drawn = (mask.image(mask.labels).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    assert np.array_equal(drawn, rgb)
    ints = np.array([[0, 1, 2], [3, 3, 0]], np.uint16) * 1000
    Image.fromarray(ints).save(tmp_path / "i.png")
    mask = read_mask(tmp_path / "i.png")
    assert mask.count == 4 and mask.bit_depth == 16
    assert mask.labels.tolist() == [[0, 1, 2], [3, 3, 0]]
    assert (mask.image(mask.labels)[0].numpy() * 65535).round().astype(np.uint16).tolist() == ints.tolist()


def test_a_photo_or_a_flat_image_is_not_a_mask(tmp_path):
    noise = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "photo.png")
    with pytest.raises(BadInputError, match=f"a label mask has at most {MAX_LABELS}"):
        read_mask(tmp_path / "photo.png")
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "flat.png")
    with pytest.raises(BadInputError, match="one flat value"):
        read_mask(tmp_path / "flat.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    with pytest.raises(BadInputError):
        read_mask(tmp_path / "bad.png")
