"""Pictures of a video's latent space (matplotlib, PNG, written atomically).

Kept apart from the computations so the pipelines return numbers a caller can use
without drawing anything, and matplotlib is only imported when a picture is wanted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from kinema.io.atomic import AtomicOutput


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _rgb(image: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` [0, 1] → ``(H, W, 3)`` uint8."""
    return image.clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def _save(fig, output: Path, overwrite: bool) -> Path:
    out = AtomicOutput(Path(output), overwrite=overwrite)
    try:
        fig.savefig(out.path, format="png", dpi=100)
        return out.commit()
    finally:
        out.discard()
        _pyplot().close(fig)


def draw_map(
    output: Path,
    coords: torch.Tensor,
    explained: torch.Tensor,
    thumbs: dict[int, torch.Tensor],
    *,
    labels: torch.Tensor | None = None,
    names: list[str] | None = None,
    breaks: list[int] = (),
    title: str = "",
    overwrite: bool = False,
) -> Path:
    """The 2-D map: one dot per frame (coloured by time, or by ``labels`` named in the
    legend by ``names``, "cluster k" without), the time path joining them (broken before
    each frame in ``breaks``: where a collection's next video starts), and thumbnails of
    the frames in ``thumbs`` beside their dots."""
    plt = _pyplot()
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    xy = coords.numpy()
    n = len(xy)
    fig, ax = plt.subplots(figsize=(11, 8))
    bounds = [0, *breaks, n]
    for a, b in zip(bounds, bounds[1:]):
        ax.plot(xy[a:b, 0], xy[a:b, 1], "-", color="0.6", lw=0.8, zorder=1)
    if labels is None:
        dots = ax.scatter(xy[:, 0], xy[:, 1], c=np.arange(n), cmap="viridis", s=18, zorder=2)
        fig.colorbar(dots, ax=ax, label="frame")
    else:
        count = max(int(labels.max()) + 1, len(names or ()))
        cmap, top = ("tab10", 9) if count <= 10 else ("tab20", 19)  # beyond 20, colours repeat
        dots = ax.scatter(xy[:, 0], xy[:, 1], c=labels.numpy() % (top + 1), cmap=cmap, s=18, zorder=2, vmin=0, vmax=top)
        for k in sorted(set(labels.tolist())):
            ax.scatter([], [], color=dots.cmap(dots.norm(k % (top + 1))), label=names[k] if names else f"cluster {k + 1}")
        ax.legend(loc="best", fontsize=8)
    if not breaks:  # one video: where it starts and ends (a collection has one path per video)
        ax.annotate("start", xy[0], textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.annotate("end", xy[-1], textcoords="offset points", xytext=(4, 4), fontsize=8)
    for i, image in thumbs.items():
        pixels = _rgb(image)
        zoom = 56 / max(pixels.shape[:2])  # about 56 screen pixels on the long side
        box = AnnotationBbox(OffsetImage(pixels, zoom=zoom), xy[i], xybox=(0, 30), boxcoords="offset points", pad=0.15, zorder=3)
        ax.add_artist(box)
        ax.annotate(str(i), xy[i], textcoords="offset points", xytext=(0, -10), fontsize=7, ha="center")
    ax.margins(0.12)
    ax.set_xlabel(f"PC 1 ({100 * float(explained[0]):.0f} % of variance)")
    ax.set_ylabel(f"PC 2 ({100 * float(explained[1]):.0f} % of variance)")
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, output, overwrite)


def draw_sheet(output: Path, tiles: list[tuple[torch.Tensor, str]], *, columns: int, title: str = "", overwrite: bool = False) -> Path:
    """A contact sheet: captioned tiles ``(image (3, H, W), caption)`` in a grid."""
    plt = _pyplot()
    rows = max(1, -(-len(tiles) // columns))
    h, w = tiles[0][0].shape[-2:]
    # Each tile about 2.2 inches wide, plus room for its caption.
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, (2.2 * h / w + 0.3) * rows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (image, caption) in zip(axes.flat, tiles):
        ax.imshow(_rgb(image))
        ax.set_title(caption, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, output, overwrite)
