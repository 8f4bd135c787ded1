"""The one backward warp every engine and model uses (and the adaptive warp built on it).

Convention: ``flow`` is ``(N, 2, H, W)`` in pixels, ``[dx, dy]``, and
``backward_warp(image, flow)[y, x] = image[y + dy, x + dx]`` (bilinear). So to move the
content of ``image`` by +d, sample it with flow −d.

Pixel centres sit at integer coordinates; ``grid_sample`` is called with
``align_corners=False``, under which pixel ``i`` of ``W`` has normalized coordinate
``(2i + 1) / W − 1`` — the convention that stays defined for 1-pixel-wide images.

Without autograd, on the CPU, the same sampling is done by ``cv2.remap`` (same pixel
convention, bilinear, border or zero padding), about twice as fast as ``grid_sample`` at
720p (float images are sampled at full precision: the two agree to ~1e-6).
The two paths are tested against each other.
"""

from __future__ import annotations

import enum
import functools

import cv2
import torch
import torch.nn.functional as F

from kinema.ops.resize import CV_MAX_SIDE


class Padding(enum.Enum):
    """What a sample outside the image reads."""

    BORDER = "border"  # the nearest edge pixel: no dark seams at frame borders
    ZEROS = "zeros"  # zero: lets callers detect out-of-frame samples (warp a ones mask)
    REFLECTION = "reflection"


def base_grid(height: int, width: int, *, device=None, dtype=torch.float32) -> torch.Tensor:
    """Pixel coordinates ``(1, 2, H, W)``: channel 0 is x, channel 1 is y.

    Cached (video frames share a size); treat the result as read-only.
    """
    return _base_grid(height, width, torch.device(device) if device is not None else torch.device("cpu"), dtype)


@functools.lru_cache(maxsize=4)
def _base_grid(height: int, width: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    ys, xs = torch.meshgrid(
        torch.arange(height, device=device, dtype=dtype),
        torch.arange(width, device=device, dtype=dtype),
        indexing="ij",
    )
    return torch.stack([xs, ys])[None]


def backward_warp(image: torch.Tensor, flow: torch.Tensor, *, padding: Padding = Padding.BORDER) -> torch.Tensor:
    """Sample ``image`` ``(N, C, H, W)`` at ``p + flow(p)``; flow ``(N, 2, H, W)`` in pixels.

    Returns ``(N, C, H, W)``. Bilinear; gradients flow to both image and flow.
    """
    if image.shape[0] != flow.shape[0] or image.shape[-2:] != flow.shape[-2:] or flow.shape[1] != 2:
        raise ValueError(f"image {tuple(image.shape)} and flow {tuple(flow.shape)} do not match")
    _, _, height, width = image.shape
    coords = base_grid(height, width, device=flow.device, dtype=flow.dtype) + flow
    if _remap_applies(image, flow, padding):
        return _remap(image, coords, padding)
    # Pixel coordinate → normalized [-1, 1] under align_corners=False.
    gx = (2 * coords[:, 0] + 1) / width - 1
    gy = (2 * coords[:, 1] + 1) / height - 1
    grid = torch.stack([gx, gy], dim=-1)
    return F.grid_sample(image, grid.to(image.dtype), mode="bilinear", padding_mode=padding.value, align_corners=False)


_CV_BORDER = {Padding.BORDER: cv2.BORDER_REPLICATE, Padding.ZEROS: cv2.BORDER_CONSTANT}


def _remap_applies(image: torch.Tensor, flow: torch.Tensor, padding: Padding) -> bool:
    needs_grad = torch.is_grad_enabled() and (image.requires_grad or flow.requires_grad)
    return (
        not needs_grad
        and image.device.type == "cpu"
        and image.dtype == torch.float32
        and padding in _CV_BORDER
        and max(image.shape[-2:]) < CV_MAX_SIDE
    )


def _remap(image: torch.Tensor, coords: torch.Tensor, padding: Padding) -> torch.Tensor:
    """``cv2.remap`` over a batch, one contiguous channel plane at a time (no HWC copies);
    ``coords`` ``(N, 2, H, W)`` are absolute pixel positions."""
    source = image.contiguous()
    out = torch.empty_like(source)
    maps = coords.to(torch.float32).contiguous().numpy()
    for i in range(source.shape[0]):
        for c in range(source.shape[1]):
            cv2.remap(
                source[i, c].numpy(),
                maps[i, 0],
                maps[i, 1],
                cv2.INTER_LINEAR,
                dst=out[i, c].numpy(),
                borderMode=_CV_BORDER[padding],
                borderValue=0,
            )
    return out


def adaptive_warp(
    image: torch.Tensor,
    flow: torch.Tensor,
    kernel: torch.Tensor,
    *,
    spacing: float = 1.0,
    padding: Padding = Padding.BORDER,
) -> torch.Tensor:
    """The adaptive warping layer (MEMC-Net): each output pixel is a weighted sum of k×k
    bilinear samples around its flow-displaced position instead of one.

    ``image`` ``(N, C, H, W)``, ``flow`` ``(N, 2, H, W)`` in pixels, ``kernel``
    ``(N, k·k, h, w)`` — the weights of the taps at offsets ``(i − k//2, j − k//2)·spacing``
    in row-major order, at any resolution (resized bilinearly to ``H × W`` one tap at a
    time, so a kernel predicted at a working size is applied at full resolution and memory
    stays at a few frames whatever k). Returns ``(N, C, H, W)``. A delta kernel (1 at the
    centre tap) is exactly :func:`backward_warp`; weights are used as given (a caller that
    wants brightness kept makes them sum to 1).
    """
    taps = kernel.shape[1]
    k = int(round(taps**0.5))
    if k * k != taps or k % 2 == 0 or kernel.shape[0] != image.shape[0]:
        raise ValueError(f"kernel {tuple(kernel.shape)} is not an odd k×k kernel per image of {tuple(image.shape)}")
    height, width = image.shape[-2:]
    out = None
    for index in range(taps):
        dy, dx = (index // k - k // 2) * spacing, (index % k - k // 2) * spacing
        weight = kernel[:, index : index + 1]
        if weight.shape[-2:] != (height, width):
            weight = F.interpolate(weight, size=(height, width), mode="bilinear", align_corners=False)
        offset = torch.tensor([dx, dy], dtype=flow.dtype, device=flow.device).view(1, 2, 1, 1)
        # backward_warp checks the shapes and takes the OpenCV path where it applies.
        sample = backward_warp(image, flow if dx == dy == 0 else flow + offset, padding=padding)
        out = weight * sample if out is None else out.addcmul_(weight, sample)
    return out
