from fractions import Fraction

import numpy as np
import torch

from kinema.train.clips import RealTriplets
from tests.media import make_video


def _moving(i: int, shot: int) -> np.ndarray:
    y, x = np.mgrid[0:40, 0:56].astype(np.float32)
    if shot == 0:
        r = 128 + 90 * np.sin((x - 3 * i) / 5.0)
        return np.stack([r, 255 - r, np.full_like(x, 80)], -1).astype(np.uint8)
    g = 128 + 90 * np.cos((y - 3 * i) / 4.0)
    return np.stack([np.full_like(x, 220), g, 40 + 0 * g], -1).astype(np.uint8)


def test_windows_skip_cuts_and_stills_and_samples_are_crops(tmp_path):
    images = [_moving(i, 0) for i in range(6)] + [_moving(i, 1) for i in range(6)] + [_moving(0, 1)] * 4
    clip = make_video(tmp_path / "c.mp4", len(images), time_base=Fraction(1, 25), images=images, codec="ffv1", pix_fmt="bgr0")
    data = RealTriplets([clip], strides=(1, 2), crop=32)
    spans = [(w.first, w.first + 2 * w.stride) for w in data.windows]
    assert all(not (a <= 5 < b) for a, b in spans)  # no window across the cut between frames 5 and 6
    assert all(a < 12 for a, b in spans)  # the final still (frames 12–15) gives no window
    assert (0, 2) in spans and (6, 10) in spans
    g = torch.Generator().manual_seed(0)
    a, mid, b, t = data.sample(g)
    assert a.shape == mid.shape == b.shape == (3, 32, 32) and t == 0.5
