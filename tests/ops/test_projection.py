import torch

from kinema.ops.projection import MotionParts, project_to_t


def _occlusion(h: int = 24, w: int = 40):
    """Background still, a 6×6 square in ``a`` moving +8 px right over it: at t = 0.5
    the square's pixels land on background pixels of ``a`` that stay where they are."""
    flow_ab = torch.zeros(1, 2, h, w)
    square = (slice(9, 15), slice(10, 16))
    flow_ab[0, 0][square] = 8.0
    flow_ba = torch.zeros(1, 2, h, w)
    flow_ba[0, 0][9:15, 18:24] = -8.0  # in b the square sits 8 px further right
    near = torch.zeros(1, 1, h, w)
    near[0, 0][square] = 1.0
    return MotionParts(flow_ab, flow_ba), near, square


def test_the_higher_priority_surface_wins_where_projections_collide():
    parts, near, _ = _occlusion()
    # At t = 0.5 the square of a covers columns 14–19; the background of a at columns
    # 16–19 stays there, so the two collide.
    collide = (slice(9, 15), slice(16, 20))
    even_ta, _ = project_to_t(parts, 0.5)
    front_ta, _ = project_to_t(parts.weighted(8 * near, torch.zeros_like(near)), 0.5)
    back_ta, _ = project_to_t(parts.weighted(-8 * near, torch.zeros_like(near)), 0.5)
    # Without a priority the two motions are mixed; the near square wins with a higher
    # priority (its pixels sample a 4 px to the left) and loses with a lower one.
    assert 0.5 < float(-even_ta[0, 0][collide].mean()) < 3.5
    assert torch.allclose(front_ta[0, 0][collide], torch.full((6, 4), -4.0), atol=0.05)
    assert torch.allclose(back_ta[0, 0][collide], torch.zeros(6, 4), atol=0.05)


def test_the_projection_is_differentiable_in_the_priority():
    parts, near, _ = _occlusion()
    priority = torch.zeros_like(near, requires_grad=True)
    flow_ta, _ = project_to_t(parts.weighted(priority, torch.zeros_like(near)), 0.5)
    flow_ta[0, 0, 9:15, 16:20].sum().backward()
    assert priority.grad is not None and priority.grad.abs().sum() > 0
    assert priority.grad[0, 0, :5].abs().max() == 0  # far from the collision nothing moves


def test_one_time_per_pair_equals_each_pair_alone():
    g = torch.Generator().manual_seed(0)
    parts = MotionParts(torch.randn(2, 2, 16, 20, generator=g) * 2, torch.randn(2, 2, 16, 20, generator=g) * 2)
    both = project_to_t(parts, torch.tensor([0.25, 0.75]))
    for i, t in enumerate((0.25, 0.75)):
        one = MotionParts(parts.flow_ab[i : i + 1], parts.flow_ba[i : i + 1])
        for x, y in zip(both, project_to_t(one, t)):
            torch.testing.assert_close(x[i : i + 1], y)


def test_resized_parts_scale_their_motion():
    parts = MotionParts(torch.full((1, 2, 8, 10), 2.0), torch.full((1, 2, 8, 10), -2.0), torch.ones(1, 1, 8, 10), torch.ones(1, 1, 8, 10))
    big = parts.resized(16, 20)
    assert big.size == (16, 20) and torch.allclose(big.flow_ab, torch.full((1, 2, 16, 20), 4.0))
    assert torch.allclose(big.z_a, torch.ones(1, 1, 16, 20)) and big.acc_a is None
