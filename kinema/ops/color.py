"""Colour palettes: GIF-style quantization and the re-quantization ``f_C`` of GIF2Video.

A GIF frame shows only the colours of its palette ``C``. Without dithering every pixel
takes the palette colour nearest to it, ``G = f_C(I) = argmin_c ‖I − c‖²`` (the paper's
definition); with Floyd–Steinberg dithering each pixel's error is pushed onto its
neighbours, so ``f_C`` is no longer a per-pixel function.

* :func:`median_cut_palette` — the palette a GIF encoder would choose (Pillow's median cut).
* :func:`requantize` — ``f_C`` for a batch of images, each under its own palette. It works
  on exact integer arithmetic in 0..255, so a pixel already in the palette maps to itself
  and re-quantizing the source of a non-dithered GIF gives back the GIF bit for bit.
* :func:`quantize_gif` — a GIF frame made like an encoder makes one: median-cut palette,
  then nearest-colour mapping or Floyd–Steinberg dithering onto it.
* :func:`palette_of` — the colours a decoded frame actually uses (its effective palette:
  entries a frame never shows do not constrain it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:  # GIF writing needs none of torch; requantize and stack_palettes load it
    import torch

#: Pixels compared against the palette at once (bounds memory at 4K × 256 colours).
_CHUNK = 1 << 16
#: How far past a cell's boundary a projected colour is put (8-bit units), so that its
#: nearest palette entry is its own and not a tie.
_INSIDE = 1e-3


def median_cut_palette(rgb: np.ndarray, colors: int) -> np.ndarray:
    """``(H, W, 3)`` uint8 → ``(K, 3)`` uint8 palette, ``K ≤ colors`` (only entries in use)."""
    return pillow_palette(rgb, colors, Image.Quantize.MEDIANCUT)


def pillow_palette(rgb: np.ndarray, colors: int, method: Image.Quantize) -> np.ndarray:
    """The palette Pillow's quantizer ``method`` (median cut, octree…) picks for ``(H, W, 3)``
    uint8: ``(K, 3)`` uint8, ``K ≤ colors``, only the entries it uses."""
    if not 2 <= colors <= 256:
        raise ValueError(f"palette size must be in 2..256, got {colors}")
    paletted = Image.fromarray(rgb, "RGB").quantize(colors=colors, method=method, dither=Image.Dither.NONE)
    used = np.unique(np.asarray(paletted))
    table = np.asarray(paletted.getpalette()[: 3 * 256], dtype=np.uint8).reshape(-1, 3)
    return table[used]


def nearest_indices(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Index of the nearest palette colour for each pixel: ``(..., 3)`` uint8 → ``(...)`` int64."""
    x = np.asarray(rgb, dtype=np.uint8).reshape(1, -1, 3)
    return _nearest(x, np.asarray(palette)[None]).reshape(rgb.shape[:-1])


def _nearest(x: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """``x`` ``(N, P, 3)`` and ``palette`` ``(N, K, 3)``, both integer-valued 0..255 → ``(N, P)``.

    ``‖x − c‖² − ‖x‖² = ‖c‖² − 2 x·c`` is computed on integers below 2²⁴, which float32
    holds exactly in any summation order, so ties and near-ties resolve the same way every
    time (lowest index wins) and on any BLAS.
    """
    out = np.empty(x.shape[:2], dtype=np.int64)
    for n in range(x.shape[0]):
        c = palette[n].astype(np.float32)
        c2, scaled = (c * c).sum(-1), -2 * c.T
        for start in range(0, x.shape[1], _CHUNK):
            distance = x[n, start : start + _CHUNK].astype(np.float32) @ scaled  # one 2-D product per image
            distance += c2
            out[n, start : start + _CHUNK] = distance.argmin(-1)
    return out


def in_cell(source: np.ndarray, gif: np.ndarray, palette: np.ndarray | None = None) -> np.ndarray:
    """Which pixels of ``source`` lie in the (closed) palette cell of their GIF colour:
    no palette colour is strictly nearer to them than the one the GIF shows. ``(H, W, 3)``
    uint8 each → ``(H, W)`` bool. ``palette`` defaults to the colours ``gif`` shows.

    This is the constraint the consistency step relies on; a tie (a pixel as near to two
    colours) counts as inside, since encoders break ties differently.
    """
    palette = palette_of(gif) if palette is None else palette
    x = np.asarray(source, dtype=np.int64).reshape(-1, 3)
    own = ((x - np.asarray(gif, dtype=np.int64).reshape(-1, 3)) ** 2).sum(-1)
    nearest = palette[nearest_indices(np.asarray(source, dtype=np.uint8), palette)].reshape(-1, 3).astype(np.int64)
    return (own <= ((x - nearest) ** 2).sum(-1)).reshape(source.shape[:2])


def requantize(images: torch.Tensor, palettes: torch.Tensor, hints: torch.Tensor | None = None) -> torch.Tensor:
    """``f_C``: every pixel replaced by its nearest colour in its image's palette.

    ``images``: ``(N, 3, H, W)`` float in [0, 1] (rounded to 8 bits first, as a GIF encoder
    sees them). ``palettes``: ``(N, K, 3)`` float in [0, 1]; pad a short palette by
    repeating one of its colours (see :func:`stack_palettes`). ``hints``: optional
    ``(N, 3, H, W)`` palette colours each pixel is likely nearest to (a GIF, for its
    restoration): only a speed-up, the result is the same. Returns ``(N, 3, H, W)``
    float32 on ``images``' device. Not differentiable (its gradient is zero almost
    everywhere, which is why CCDNet takes it as an input instead).
    """
    import torch

    n, _, h, w = images.shape
    x = images.detach().clamp(0, 1).mul(255).round().reshape(n, 3, h * w).cpu()
    pal = palettes.detach().mul(255).round().cpu()
    hint = None if hints is None else hints.detach().mul(255).round().reshape(n, 3, h * w).cpu()
    picked = torch.empty_like(x)
    for i in range(n):
        todo = torch.arange(h * w) if hint is None else _not_surely(x[i], hint[i], pal[i])
        if hint is not None:
            picked[i] = hint[i]
        if todo.numel():
            picked[i, :, todo] = pal[i].T[:, _nearest_entries(x[i][:, todo].T, pal[i])]
    # Channels first and contiguous: the network concatenates and subtracts it with its input.
    return picked.reshape(n, 3, h, w).div(255).to(images.device, torch.float32)


def _nearest_entries(x: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Index of the nearest ``palette`` ``(K, 3)`` entry for each colour of ``x`` ``(P, 3)``,
    both integer-valued float32 in 0..255; the lowest index among ties.

    ``‖x − c‖² − ‖x‖² = ‖c‖² − 2 x·c`` on integers below 2²⁴ is exact in float32 in any
    summation order (as in :func:`_nearest`), so the choice is the same on every machine."""
    import torch

    c2, table = (palette * palette).sum(-1), palette.T
    return torch.cat(
        [
            torch.addmm(c2, x[start : start + _CHUNK], table, alpha=-2).argmin(-1)
            for start in range(0, len(x), _CHUNK)  # chunks bound memory at 4K × 256 colours
        ]
    )


def _not_surely(x: torch.Tensor, hint: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Which pixels of ``x`` ``(3, P)`` may have a nearest palette colour other than their
    ``hint`` ``(3, P)`` (integer-valued, 0..255; ``palette`` ``(K, 3)``), as indices.

    A colour closer to its hint ``h`` than half the distance from ``h`` to any other palette
    colour has ``h`` as its one nearest colour (if ``|x − h| < |c − h| / 2`` then
    ``|x − c| ≥ |c − h| − |x − h| > |x − h|``): tested on exact integers, so the fast path
    picks what the full search would."""
    import torch

    c, own = _entries(palette, hint.T)
    gaps = _distances(c.double()).square().round().float()  # integers: exact
    gaps.fill_diagonal_(float("inf"))
    nearest_other = gaps.min(1).values[own]
    sure = (c[own] == hint.T).all(1) & (4 * (x - hint).square().sum(0) < nearest_other)
    return torch.nonzero(~sure)[:, 0]


def stack_palettes(palettes: list[np.ndarray]) -> torch.Tensor:
    """Palettes of different lengths ``(K_i, 3)`` uint8 → ``(N, max K, 3)`` float in [0, 1],
    each padded with copies of its own first colour (which changes no nearest choice)."""
    size = max(len(p) for p in palettes)
    import torch

    out = np.stack([np.concatenate([p, np.repeat(p[:1], size - len(p), axis=0)]) for p in palettes])
    return torch.from_numpy(out).float().div(255)


def quantize_gif(rgb: np.ndarray, colors: int, *, dither: bool, palette: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A GIF frame from ``(H, W, 3)`` uint8: ``(indices (H, W) uint8, palette (K, 3) uint8)``.

    The palette is median cut over this frame (or ``palette``, e.g. one computed on the
    whole frame when ``rgb`` is a crop of it); pixels take the nearest entry, or with
    ``dither`` Floyd–Steinberg error diffusion onto the same entries (Pillow's).
    """
    if palette is None:
        palette = median_cut_palette(rgb, colors)
    if not dither:
        return nearest_indices(rgb, palette).astype(np.uint8), palette
    holder = Image.new("P", (1, 1))
    flat = palette.reshape(-1).tolist()
    # Pad with copies of the first colour: Pillow reads a 256-entry table, and a padding
    # of black would add a colour the palette does not have.
    holder.putpalette(flat + flat[:3] * (256 - len(palette)))
    mapped = Image.fromarray(rgb, "RGB").quantize(palette=holder, dither=Image.Dither.FLOYDSTEINBERG)
    indices = np.asarray(mapped).copy()
    indices[indices >= len(palette)] = 0  # a padding entry is colour 0
    return indices, palette


def _packed(rgb: np.ndarray) -> np.ndarray:
    """``(..., 3)`` uint8 colours → one int64 per colour (``0xRRGGBB``)."""
    v = np.asarray(rgb).astype(np.int64)
    return (v[..., 0] << 16) | (v[..., 1] << 8) | v[..., 2]


def palette_of(rgb: np.ndarray) -> np.ndarray:
    """The distinct colours of ``(H, W, 3)`` uint8, as a ``(K, 3)`` uint8 palette (sorted)."""
    packed = np.unique(_packed(rgb.reshape(-1, 3)))  # 1-D unique: ~10× faster
    return np.stack([packed >> 16, (packed >> 8) & 255, packed & 255], axis=1).astype(np.uint8)


def palette_indices(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Each pixel's index in ``palette``, a :func:`palette_of` of a frame holding all its
    colours: ``(..., 3)`` uint8 → ``(...)`` int64. An exact lookup (the palette is sorted),
    far cheaper than :func:`nearest_indices` where every colour is in the palette."""
    return np.searchsorted(_packed(palette), _packed(rgb))


def project_to_cells(
    images: torch.Tensor, gifs: torch.Tensor, palettes: torch.Tensor, *, margin: float = 0.0, iterations: int = 64
) -> torch.Tensor:
    """Make restorations consistent with their GIFs: ``f_C(x) = G`` (the paper's constraint).

    Without dithering, a GIF pixel of colour ``g`` came from a colour nearer to ``g`` than to
    any other palette entry: its palette *cell*, the polytope of half-spaces
    ``(x − (g + c)/2)·(c − g) ≤ 0``. Each restored pixel outside its cell is moved in by
    repeated projection onto its most violated half-space (and a hair past the boundary, so
    that the nearest colour is ``g`` and not a tie). The true colour lies in every one of those
    half-spaces, and projecting onto a half-space that holds a point never moves a pixel away
    from it: no step makes a pixel farther from the truth. A pixel still outside after
    ``iterations`` steps takes its GIF colour (inside by definition).

    ``margin`` (8-bit units) widens every cell by that distance across each face: the soft
    version, for encoders whose true colours lie just outside their RGB cells (ffmpeg ≥ 6
    picks the nearest colour in OkLab; ordered dithering shifts colours by a bounded
    amount). The guarantee then holds for every pixel whose true colour lies within the
    widened cell.

    ``images``, ``gifs``: ``(N, 3, H, W)`` in [0, 1] (``gifs`` hold palette colours exactly);
    ``palettes``: ``(N, K, 3)`` in [0, 1] (:func:`stack_palettes`). Returns ``(N, 3, H, W)``.
    Not for error-diffused GIFs, whose true colours may lie cells away.
    """
    import torch

    n, _, h, w = images.shape
    out = torch.empty_like(images)
    for i in range(n):
        flat = images[i].detach().clamp(0, 1).permute(1, 2, 0).reshape(-1, 3)
        gif = gifs[i].detach().permute(1, 2, 0).reshape(-1, 3).mul(255).round()
        c, own = _entries(palettes[i].detach().to(torch.float64).mul(255).round(), gif)
        distance = _distances(c)
        active = _maybe_outside(flat * 255, own, c, distance, margin)
        result = flat.clone()
        if active.numel():
            x = flat[active].to(torch.float64) * 255
            result[active] = (_project(x, own[active], c, distance, margin, iterations) / 255).to(result.dtype)
        out[i] = result.reshape(h, w, 3).permute(2, 0, 1)
    return out


def keep_local_means(images: torch.Tensor, gifs: torch.Tensor, sigma: float) -> torch.Tensor:
    """The soft consistency step for dithered GIFs: ``images`` with their local means taken
    from the GIFs, ``X − B_σ(X − G)`` (``B_σ``: a Gaussian of ``sigma`` pixels).

    Dithering breaks the per-pixel constraint, but not the local one: error diffusion
    pushes each pixel's error onto its neighbours and ordered dithering adds a pattern of
    mean zero, so a dithered GIF's colours averaged over a few pixels are the source's.
    The restoration keeps its detail (high frequencies) and takes its low frequencies from
    the GIF. ``images``, ``gifs``: ``(N, 3, H, W)``; any size (edges repeated)."""
    from kinema.ops.blur import gaussian_blur

    return images - gaussian_blur(images - gifs, sigma)


def _entries(palette: torch.Tensor, colours: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``palette`` ``(K', 3)`` integer-valued (padding may repeat colours) → its colours once
    each ``(K, 3)``, sorted, and the entry of each of ``colours`` ``(P, 3)``, which must be
    among them (an index that is not the colour's otherwise: check ``c[own] == colours``)."""
    import torch

    c = torch.unique(palette, dim=0)  # rows sorted, so their packed values ascend
    return c, torch.searchsorted(_pack(c), _pack(colours)).clamp_max(len(c) - 1)


def _distances(c: torch.Tensor) -> torch.Tensor:
    """``(K, K)`` distances between the colours ``c`` ``(K, 3)``: ``[g, j] = |c_j − c_g|``."""
    gram = c @ c.T
    cc = gram.diagonal()
    return (cc[:, None] + cc[None, :] - 2 * gram).clamp_min(0).sqrt()


def _project(x: torch.Tensor, own: torch.Tensor, c: torch.Tensor, distance: torch.Tensor, margin: float, iterations: int) -> torch.Tensor:
    """:func:`project_to_cells` for the pixels ``x`` ``(P, 3)`` float64 in 0..255 whose GIF
    colours are the palette entries ``c[own]`` (``c``: ``(K, 3)``, each colour once;
    ``distance``: :func:`_distances` of it).

    Only faces towards colours ``c`` with ``|c − g| < 2·|x − g|`` can be violated (a
    violated face has ``|x − c| < |x − g|``), and no step moves a pixel away from ``g`` (``g``
    lies in every set projected onto), so the pixels search only that many of ``g``'s
    nearest colours: at 256 colours a handful instead of 256."""
    import torch

    # float64: near a boundary the signed distances are differences of products ~10⁵,
    # which float32 resolves only to ~10⁻², too coarse to tell inside from out. Everything
    # that depends only on the pair (own colour, other colour) is a K × K table, looked up.
    cc = (c * c).sum(1)
    inverse = torch.where(distance > 1e-6, 1 / distance.clamp_min(1e-6), torch.zeros_like(distance))
    half = 0.5 * (cc[None, :] - cc[:, None])  # [g, j]: (|c_j|² − |c_g|²) / 2
    ranked, order = distance.sort(1)  # each colour's palette by distance from it (itself first)
    # How many of its own colour's nearest each pixel needs: one search in the rows laid end
    # to end (row g shifted by g·span stays sorted), not a (P, K) table.
    span = float(ranked[:, -1].max()) + 1e3
    shift = torch.arange(len(c), dtype=ranked.dtype) * span
    reach = 2 * (x - c[own]).norm(dim=1) + 1e-6
    needed = (torch.searchsorted((ranked + shift[:, None]).reshape(-1), reach + shift[own]) - own * len(c)).clamp_min(1)
    x = x.clone()
    # Tiers of how many colours a pixel needs: one far pixel does not make all search wide.
    for low, high in ((0, 8), (8, 64), (64, len(c))):
        tier = torch.nonzero((needed > low) & (needed <= high))[:, 0]
        if tier.numel():
            x[tier] = _project_tier(x[tier], own[tier], c, order, needed[tier], inverse, half, margin, iterations)
    return x


def _project_tier(
    x: torch.Tensor,
    own: torch.Tensor,
    c: torch.Tensor,
    order: torch.Tensor,
    needed: torch.Tensor,
    inverse: torch.Tensor,
    half: torch.Tensor,
    margin: float,
    iterations: int,
) -> torch.Tensor:
    """:func:`_project`'s steps for pixels ``x`` ``(P, 3)`` that need ``needed`` ``(P,)`` of
    their own colour's nearest (``order``: the palette ranked from each colour)."""
    import torch

    index = torch.arange(len(x))
    for step in range(iterations + 1):
        if index.numel() == 0:
            break
        part, mine = x[index], own[index]
        candidates = order[mine, : int(needed[index].max())]  # (P, M), the own colour first
        scale = inverse[mine[:, None], candidates]  # 0 at the own colour: no face
        # (x − (g + c)/2)·(c − g) / |c − g|, the signed distance out of each half-space.
        dots = part @ c.T
        beyond = (dots.gather(1, candidates) - dots.gather(1, mine[:, None]) - half[mine[:, None], candidates]) * scale
        beyond = torch.where(scale > 0, beyond - margin, torch.full_like(beyond, -1.0))
        worst, k = beyond.max(1)
        outside = worst > 0
        if step == iterations:  # not in after all the steps: the GIF's own colour
            x[index[outside]] = c[mine[outside]]
            break
        normal = (c[candidates.gather(1, k[:, None])[:, 0]] - c[mine]) * scale.gather(1, k[:, None])
        # The colour cube is one more convex set that holds the truth: clamping to it is
        # a projection too, and it keeps the next step's distances meaningful.
        x[index] = (part - (outside * (worst + _INSIDE))[:, None] * normal).clamp(0, 255)
        index = index[outside]
    return x


def _maybe_outside(x: torch.Tensor, own: torch.Tensor, c: torch.Tensor, distance: torch.Tensor, margin: float) -> torch.Tensor:
    """Indices of the pixels ``x`` ``(P, 3)`` (0..255) that may lie outside the cell of their
    GIF colour ``c[own]`` widened by ``margin``: a float32 pass over all pixels, with a slack
    wider than its rounding error, so that the exact float64 steps run only where a
    restoration left its cell. ``c``: the palette ``(K, 3)``, each colour once; ``distance``:
    :func:`_distances` of it.

    Outside the widened face towards ``c`` means ``|x − g|² − |x − c|² > 2·margin·|c − g|``."""
    import torch

    table = c.to(torch.float32)
    distance = distance.to(torch.float32)  # a copy: the diagonal is filled below
    spacing = 2 * margin * distance if margin > 0 else None
    # A colour within half the distance to the nearest other colour, plus the margin, of its
    # own lies in its cell (|x − g|² − |x − c|² ≤ |c − g|·(2|x − g| − |c − g|)): most
    # restored pixels, settled without the search over the palette. (0.01: float32 slack.)
    inner = distance.fill_diagonal_(float("inf")).min(1).values / 2 + margin - 0.01
    candidates = torch.nonzero((x.to(torch.float32) - table[own]).square().sum(1) >= inner.square()[own])[:, 0]
    c2 = (table * table).sum(1)
    maybe = []
    for start in range(0, len(candidates), _CHUNK):
        which = candidates[start : start + _CHUNK]
        score = torch.addmm(c2, x[which].to(torch.float32), table.T, alpha=-2)  # |x − c|² − |x|², error ≲ 0.05
        mine = own[which, None]
        bound = score.gather(1, mine) + 0.5
        if spacing is not None:
            score = score + spacing[mine[:, 0]]
        score.scatter_(1, mine, float("inf"))
        maybe.append(which[score.amin(1) < bound[:, 0]])
    return torch.cat(maybe) if maybe else candidates


def _pack(rgb: torch.Tensor) -> torch.Tensor:
    """Integer-valued ``(..., 3)`` colours → one int64 per colour."""
    import torch

    v = rgb.to(torch.int64)
    return (v[..., 0] << 16) | (v[..., 1] << 8) | v[..., 2]
