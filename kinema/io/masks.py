"""Label masks: a PNG whose distinct values (gray) or colours (RGB) are the labels.

A user draws one frame's labels in any editor: black and white for one object, several
colours or small integers (``0, 1, 2, …`` in an 8- or 16-bit gray PNG) for several. The
smallest value (black) is the background. kinema keeps the mask's own values, so the
masks it writes back open as the user's, label for label.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from kinema.io.images import read_image
from kinema.types import BadInputError

#: More distinct values than this is a photo or an antialiased drawing, not a label mask.
MAX_LABELS = 64


@dataclass(frozen=True)
class LabelMask:
    """Labels ``(H, W)`` int64 in ``0 … K−1`` and the value each stands for in the file."""

    labels: torch.Tensor
    #: ``(K, C)`` the file's value of each label: C = 1 (gray) or 3 (RGB), in its bit depth.
    values: np.ndarray
    bit_depth: int

    @property
    def count(self) -> int:
        return len(self.values)

    def require_size(self, path: Path, size: tuple[int, int], *also: tuple[int, int]) -> None:
        """Refuse a mask drawn at neither ``size`` (the video's ``(H, W)``) nor ``also``."""
        drawn = tuple(self.labels.shape)
        if drawn not in (tuple(size), *map(tuple, also)):
            (h, w), (sh, sw) = drawn, size
            raise BadInputError(f"{path}: the mask is {w}x{h}; the video is {sw}x{sh}")

    def one_hot(self) -> torch.Tensor:
        """``(K, H, W)`` float: 1 where a pixel has that label."""
        return torch.nn.functional.one_hot(self.labels, self.count).permute(2, 0, 1).float()

    def image(self, labels: torch.Tensor) -> torch.Tensor:
        """Labels ``(H, W)`` → the ``(3, H, W)`` float image drawn in the file's values (a
        gray mask as gray), for a frame writer at :attr:`bit_depth`."""
        peak = 2**self.bit_depth - 1
        rgb = np.repeat(self.values, 3, axis=1) if self.values.shape[1] == 1 else self.values
        palette = torch.from_numpy(rgb.astype(np.float32) / peak)  # (K, 3)
        return palette[labels].permute(2, 0, 1).contiguous()


def read_mask(path: Path) -> LabelMask:
    """A label mask from a PNG (or any image kinema reads). Alpha is ignored. Raises
    :class:`BadInputError` for an unreadable file, one value only, or too many values."""
    array = read_image(Path(path))
    if array.ndim == 3:
        array = array[..., :3]
    flat = array.reshape(array.shape[0] * array.shape[1], -1)
    values, inverse = np.unique(flat, axis=0, return_inverse=True)
    if len(values) > MAX_LABELS:
        raise BadInputError(f"{path}: {len(values)} distinct values: a label mask has at most {MAX_LABELS} (draw labels in flat colours, without antialiasing)")
    if len(values) < 2:
        raise BadInputError(f"{path}: the mask is one flat value; draw the object(s) to follow on it")
    labels = torch.from_numpy(inverse.reshape(array.shape[:2]).astype(np.int64))
    return LabelMask(labels=labels, values=values, bit_depth=16 if array.dtype == np.uint16 else 8)
