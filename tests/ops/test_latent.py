"""PCA, k-means and cosine matches of latent codes."""

import math

import pytest
import torch

from kinema.ops.latent import best_earlier_match, kmeans, pca_2d, purity


def test_pca_finds_the_line_the_codes_lie_on():
    g = torch.Generator().manual_seed(0)
    t = torch.linspace(-1, 1, 50)
    direction = torch.randn(20, generator=g)
    codes = t[:, None] * direction + 0.001 * torch.randn(50, 20, generator=g)
    coords, explained = pca_2d(codes)
    assert coords.shape == (50, 2)
    assert explained[0] > 0.99 and explained[1] < 0.01
    # Order along the line is kept, and the first code sits on the negative side.
    assert coords[0, 0] < 0 and torch.all(coords[1:, 0] >= coords[:-1, 0])


def test_pca_of_a_single_code_is_the_origin():
    coords, explained = pca_2d(torch.ones(1, 5))
    assert torch.equal(coords, torch.zeros(1, 2, dtype=torch.float64))


def test_kmeans_separates_blobs_and_numbers_them_by_first_appearance():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(10, 8, generator=g) * 0.1 + 5
    b = torch.randn(10, 8, generator=g) * 0.1 - 5
    codes = torch.cat([b[:3], a, b[3:]])  # the video starts in blob b
    labels, centres = kmeans(codes, 2)
    assert labels[:3].tolist() == [0, 0, 0]
    assert labels[3:13].tolist() == [1] * 10 and labels[13:].tolist() == [0] * 7
    assert torch.allclose(centres[1], a.mean(0).double(), atol=1e-6)


def test_kmeans_refuses_more_clusters_than_distinct_codes():
    with pytest.raises(ValueError):
        kmeans(torch.ones(4, 3), 2)
    with pytest.raises(ValueError):
        kmeans(torch.rand(3, 3), 4)


def test_best_earlier_match_looks_back_at_least_min_gap_by_cosine():
    codes = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 2.0], [3.0, 0.1], [0.1, 1.0]])
    sims, where = best_earlier_match(codes, 2, chunk=2)  # small blocks: the block edges are exercised
    assert where.tolist() == [-1, -1, 0, 0, 1]
    assert sims[0] == -math.inf and sims[2] == pytest.approx(0.0)
    assert sims[3] == pytest.approx(3 / math.hypot(3, 0.1))


def test_purity_is_the_share_in_each_clusters_majority_class():
    truth = torch.tensor([0, 0, 0, 1, 1, 2])
    assert purity(torch.tensor([5, 5, 5, 7, 7, 9]), truth) == 1.0  # names of clusters do not matter
    assert purity(torch.tensor([0, 0, 1, 1, 1, 1]), truth) == pytest.approx(4 / 6)  # 2 of cluster 0, 2 of cluster 1
    assert purity(torch.zeros(6, dtype=torch.long), truth) == 0.5  # one cluster: the largest class
    with pytest.raises(ValueError):
        purity(torch.tensor([0]), truth)
