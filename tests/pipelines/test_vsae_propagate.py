"""vsae propagate: the first frame's labels carried through a clip."""

import numpy as np
import pytest
import torch
from PIL import Image

from kinema.io.probe import open_reader
from kinema.ops.flow import dis_flow
from kinema.ops.metrics import label_iou
from kinema.ops.warp import Padding, backward_warp
from kinema.pipelines.vsae import load_video_model
from kinema.pipelines.vsae.propagate import CodeSearch, PropagateConfig, follow_codes, follow_motion, propagate
from kinema.types import BadInputError
from tests.media import orbit_square, texture


def test_labels_follow_a_patch_sliding_over_texture_better_than_the_default_flow():
    back, patch = texture(48, 80, seed=1)[0], texture(16, 16, seed=2)[0]
    frames, truth = [], []
    for i in range(8):
        frame, label = back.clone(), torch.zeros(48, 80, dtype=torch.long)
        frame[:, 16:32, 8 + 3 * i : 24 + 3 * i] = patch
        label[16:32, 8 + 3 * i : 24 + 3 * i] = 1
        frames.append(frame)
        truth.append(label)
    first = torch.nn.functional.one_hot(truth[0], 2).permute(2, 0, 1).float()

    def default_preset(labels, frame, previous):  # the benchmark's baseline
        return backward_warp(labels[None], dis_flow(frame[None], previous[None]), padding=Padding.BORDER)[0]

    ours = [p.argmax(0) for p in follow_motion(frames, first)]
    baseline = [p.argmax(0) for p in follow_motion(frames, first, step=default_preset)]
    assert len(ours) == 8 and torch.equal(ours[0], truth[0])
    on_patch = float(((ours[-1] == 1) & (truth[-1] == 1)).sum() / (truth[-1] == 1).sum())
    assert on_patch > 0.7  # 21 pixels on, the label is still on the patch
    assert label_iou(ours[-1], truth[-1], 2)[0] > label_iou(baseline[-1], truth[-1], 2)[0] + 0.1
    # What it still gets wrong (docs/models/video_ae.md): background uncovered behind the
    # patch keeps the patch's label, so the mask trails it.
    assert label_iou(ours[-1], truth[-1], 2)[0] < 0.6


def test_pixel_codes_carry_the_orbiting_square(fitted):
    video, result = fitted
    net = load_video_model(result.output).net
    frames = [f.image for f in open_reader(video)]
    first = torch.nn.functional.one_hot(orbit_square(0), 2).permute(2, 0, 1).float()
    out = [p.argmax(0) for p in follow_codes(net, frames, first, CodeSearch(stride=2, radius=6))]
    ious = [label_iou(p, orbit_square(i), 2)[0] for i, p in enumerate(out)]
    # Keeping the first mask where it is scores 0.16; fits of this clip with other seeds
    # scored 0.65–0.83 (the fixture's fit is not bit-reproducible across thread counts).
    assert len(out) == 24 and sum(ious) / 24 > 0.4


def write_mask(path, labels: torch.Tensor, colour=(255, 40, 40)) -> None:
    rgb = np.zeros((*labels.shape, 3), np.uint8)
    rgb[labels.numpy() == 1] = colour
    Image.fromarray(rgb).save(path)


def test_propagate_writes_every_frame_in_the_masks_colours(fitted, tmp_path):
    video, result = fitted
    write_mask(tmp_path / "first.png", orbit_square(0))
    out = propagate(result.output, video, tmp_path / "first.png", tmp_path / "masks", PropagateConfig(codes_weight=1.0))
    assert out.frames == 24 and out.labels == 2
    masks = [f.image for f in open_reader(tmp_path / "masks")]
    colours = {tuple((m.permute(1, 2, 0).reshape(-1, 3) * 255).round().int().unique(dim=0).flatten().tolist()) for m in masks}
    assert colours <= {(0, 0, 0, 255, 40, 40), (0, 0, 0)}  # only the mask's own values
    first = (masks[0][0] * 255).round() == 255
    assert torch.equal(first.long(), orbit_square(0))  # the user's mask, exactly
    ious = [label_iou(((m[0] * 255).round() == 255).long(), orbit_square(i), 2)[0] for i, m in enumerate(masks)]
    assert sum(ious) / len(ious) > 0.4  # the mask left in place: 0.16
    # The default (mostly motion) writes the same way; a square moving 10 pixels a frame
    # with no texture inside is more than DIS can follow, so only the mechanics are checked.
    out = propagate(result.output, video, tmp_path / "first.png", tmp_path / "masks.mkv")
    video_masks = [f.image for f in open_reader(tmp_path / "masks.mkv")]
    assert out.frames == 24 == len(video_masks)
    assert torch.equal(video_masks[0], masks[0])  # lossless (FFV1): the values survive


def test_a_mask_of_another_size_is_refused_before_anything_is_written(fitted, tmp_path):
    video, result = fitted
    labels = torch.zeros(10, 12, dtype=torch.long)
    labels[2:5, 2:5] = 1
    write_mask(tmp_path / "small.png", labels)
    with pytest.raises(BadInputError, match="the mask is 12x10; the video is 64x48"):
        propagate(result.output, video, tmp_path / "small.png", tmp_path / "masks", PropagateConfig())
    assert not (tmp_path / "masks").exists()
