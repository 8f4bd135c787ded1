"""Geometry of a set of latent codes: 2-D PCA, k-means, cosine matches.

Codes are ``(N, D)`` float tensors (latent maps flattened); everything runs in float64,
so results do not depend on the order of summation on different machines.
"""

from __future__ import annotations

import math

import torch


def pca_2d(codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(coords (N, 2), explained (2,))``: the codes projected on their first two principal
    axes, and the fraction of the variance each axis explains.

    The sign of each axis is fixed so the first code has non-positive coordinates: the
    same video always draws the same way round.
    """
    x = codes.to(torch.float64).flatten(1)
    x = x - x.mean(0, keepdim=True)
    if len(x) < 2:
        return torch.zeros(len(x), 2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    _, s, vh = torch.linalg.svd(x, full_matrices=False)
    axes = vh[:2]
    coords = x @ axes.T
    if coords.shape[1] < 2:  # a single component: pad the second axis with zeros
        coords = torch.cat([coords, torch.zeros(len(x), 1, dtype=torch.float64)], 1)
        s = torch.cat([s, torch.zeros(1, dtype=torch.float64)])
    coords = coords * torch.where(coords[0] > 0, -1.0, 1.0)
    variance = s.pow(2)
    explained = variance[:2] / variance.sum().clamp_min(1e-30)
    return coords, explained


def kmeans(codes: torch.Tensor, k: int, *, seed: int = 0, iterations: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    """``(labels (N,), centres (k, D))`` of k-means (k-means++ start, Lloyd iterations).

    Clusters are numbered in order of their first frame, so cluster 0 is the one the
    video starts in. ``k`` larger than the number of distinct codes is an error.
    """
    x = codes.to(torch.float64).flatten(1)
    n = len(x)
    if not 1 <= k <= n:
        raise ValueError(f"cannot make {k} clusters of {n} frames")
    g = torch.Generator().manual_seed(seed)
    centres = x[torch.randint(0, n, (1,), generator=g)]
    for _ in range(1, k):
        d2 = torch.cdist(x, centres).pow(2).min(1).values
        if float(d2.sum()) == 0:
            raise ValueError(f"cannot make {k} clusters: the frames have fewer distinct codes")
        centres = torch.cat([centres, x[torch.multinomial(d2 / d2.sum(), 1, generator=g)]])
    labels = torch.cdist(x, centres).argmin(1)
    for _ in range(iterations):
        for j in range(k):
            members = x[labels == j]
            if len(members):
                centres[j] = members.mean(0)
        new = torch.cdist(x, centres).argmin(1)
        if torch.equal(new, labels):
            break
        labels = new
    # Renumber by first appearance.
    order = []
    for label in labels.tolist():
        if label not in order:
            order.append(label)
    order += [j for j in range(k) if j not in order]
    remap = torch.empty(k, dtype=torch.long)
    remap[torch.tensor(order)] = torch.arange(k)
    return remap[labels], centres[torch.tensor(order)]


def unit_length(codes: torch.Tensor) -> torch.Tensor:
    """Codes ``(N, …)`` flattened and scaled to length 1 ``(N, D)``: their directions, what
    the cosine similarity of two codes compares."""
    return torch.nn.functional.normalize(codes.flatten(1), dim=1)


def purity(labels: torch.Tensor, truth: torch.Tensor) -> float:
    """Cluster purity: the share of items in their cluster's most common ``truth`` class
    (1 when every cluster holds one class; with one cluster, the largest class's share)."""
    if labels.shape != truth.shape or len(labels) == 0:
        raise ValueError(f"labels {tuple(labels.shape)} and truth {tuple(truth.shape)} must be the same non-empty shape")
    majority = sum(int(torch.bincount(truth[labels == c]).max()) for c in labels.unique())
    return majority / len(labels)


def best_earlier_match(codes: torch.Tensor, min_gap: int, *, chunk: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """For every code i, the most similar earlier code j ≤ i − ``min_gap`` by cosine
    similarity: ``(similarity (N,), j (N,))``, with similarity −inf and j = −1 where
    there is none. Works in row blocks, so a long video never needs the N × N matrix."""
    x = torch.nn.functional.normalize(codes.to(torch.float64).flatten(1), dim=1)
    n = len(x)
    best = torch.full((n,), -math.inf, dtype=torch.float64)
    where = torch.full((n,), -1, dtype=torch.long)
    for start in range(min_gap, n, chunk):
        rows = torch.arange(start, min(n, start + chunk))
        sims = x[rows] @ x[: rows[-1] - min_gap + 1].T  # (rows, earlier codes)
        allowed = torch.arange(sims.shape[1])[None] <= (rows[:, None] - min_gap)
        sims = sims.masked_fill(~allowed, -math.inf)
        best[rows], where[rows] = sims.max(1)
    return best, where
