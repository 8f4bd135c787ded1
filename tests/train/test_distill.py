"""The privileged-flow teacher and its loss (kinema.train.interp)."""

import torch

from kinema.models.interp.objective import distill_loss, privileged_flows
from tests.media import texture


def moving_triplet(step=2):
    """a, mid, b with the content moving right by ``step`` pixels per half interval."""
    big = texture(64 + 16, 96 + 4 * step + 16, cell=8)
    crop = lambda x0: big[:, :, 8:72, x0 : x0 + 96]  # noqa: E731
    return crop(2 * step), crop(step), crop(0)  # content moves by +step at each stage


def test_teacher_flows_point_from_the_middle_frame_to_each_input():
    a, mid, b = moving_triplet(2)
    teacher = privileged_flows(a, mid, b)
    assert teacher.shape == (1, 6, 64, 96)
    core = teacher[:, :, 8:-8, 8:-8]
    # mid[p] = a[p - 2] and mid[p] = b[p + 2]: the flows t→a and t→b are −2 and +2 in x.
    assert abs(core[:, 0].median() + 2) < 0.25 and abs(core[:, 2].median() - 2) < 0.25
    assert core[:, 1].abs().median() < 0.25 and core[:, 3].abs().median() < 0.25
    # Where a warp rebuilds the middle frame the weight is high; it falls where it cannot.
    assert core[:, 4:].mean() > 0.8
    shuffled = privileged_flows(a, torch.rand_like(mid), b)
    assert shuffled[:, 4:].mean() < 0.3


def test_distill_loss_is_zero_at_the_teacher_and_counts_only_weighted_pixels():
    teacher = torch.zeros(1, 6, 8, 8)
    teacher[:, :4] = torch.randn(1, 4, 8, 8)
    teacher[:, 4:] = 1
    assert distill_loss(teacher[:, :4], teacher) < 2e-3
    off = teacher[:, :4] + 1.5
    assert abs(float(distill_loss(off, teacher)) - 1.5) < 1e-3
    teacher[:, 4:, :, 4:] = 0  # the right half untrusted: errors there teach nothing
    off = teacher[:, :4].clone()
    off[..., 4:] += 10
    assert distill_loss(off, teacher) < 2e-3
