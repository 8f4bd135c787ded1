"""The shot-transition detector's network: the MEAST block and TransitionNet."""

import dataclasses
import json

import pytest
import torch

from kinema.models.transitions import CLASSES, MEASTBlock, Mixer, TransitionConfig, TransitionNet


def test_the_meast_block_keeps_its_shape_and_every_branch_gets_a_gradient():
    torch.manual_seed(0)
    block = MEASTBlock(8, ((3, 1), (1, 3), (3, 3), (7, 1)))
    x = torch.rand(2, 8, 10, 6, 7, requires_grad=True)
    y = block(x)
    assert y.shape == x.shape
    y.square().sum().backward()
    for branch in block.branches:
        assert branch.weight.grad is not None and branch.weight.grad.abs().sum() > 0
    assert block.interaction.weight.grad.abs().sum() > 0
    assert x.grad.abs().sum() > 0


def test_the_meast_branches_reach_as_far_in_time_and_space_as_their_kernels():
    """Branch (7, 1) sees three frames either way and no neighbouring pixel; branch (1, 3)
    the reverse: the block is asymmetric, not a cube."""
    torch.manual_seed(0)
    block = MEASTBlock(4, ((7, 1), (1, 3)))
    with torch.no_grad():  # positive filters on positive input: no ReLU hides a path
        for branch in block.branches:
            branch.weight.abs_()
    x = torch.rand(1, 4, 11, 5, 5, requires_grad=True)
    block(x)[0, :, 5, 2, 2].sum().backward()
    temporal, spatial = x.grad[0, :2], x.grad[0, 2:]  # the channels of each branch's group
    touched_frames = temporal.abs().sum((0, 2, 3)).nonzero().flatten().tolist()
    assert touched_frames == [2, 3, 4, 5, 6, 7, 8]
    assert (temporal[:, :, 2, 2].abs().sum() > 0) and temporal.abs().sum((0, 1))[1, 2] == 0  # no spatial reach
    assert spatial.abs().sum((0, 2, 3)).nonzero().flatten().tolist() == [5]  # one frame only
    assert spatial.abs().sum((0, 1))[1, 1] > 0  # a spatial neighbour


def test_the_interaction_layer_starts_as_concatenation():
    block = MEASTBlock(6, ((3, 1), (1, 3)))
    assert torch.equal(block.interaction.weight.flatten(1), torch.eye(6))


@pytest.mark.parametrize("mixer", list(Mixer))
def test_the_network_gives_five_logits_per_frame_for_any_window(mixer):
    torch.manual_seed(0)
    config = TransitionConfig.tiny(mixer=mixer)
    net = TransitionNet(config)
    for frames in (1, 9, 30):
        out = net(torch.rand(2, frames, 3, config.height, config.width))
        assert out.shape == (2, frames, len(CLASSES))
    with pytest.raises(ValueError, match="expected"):
        net(torch.rand(1, 4, 3, config.height + 8, config.width))


@pytest.mark.parametrize("mixer", list(Mixer))
def test_frames_beyond_the_reach_do_not_change_a_prediction(mixer):
    """``config.reach`` is what overlapping windows must give as context: a frame further
    away never changes a prediction, and a near one does."""
    torch.manual_seed(0)
    config = TransitionConfig.tiny(mixer=mixer)
    net = TransitionNet(config).eval()
    frames = torch.rand(1, 2 * config.reach + 12, 3, config.height, config.width)
    centre = config.reach + 6
    base = net(frames)[0, centre]
    far, near = frames.clone(), frames.clone()
    far[0, centre + config.reach + 1] = torch.rand(3, config.height, config.width)
    near[0, centre + 1] = torch.rand(3, config.height, config.width)
    assert torch.allclose(net(far)[0, centre], base, atol=1e-6)
    assert not torch.allclose(net(near)[0, centre], base, atol=1e-6)


def test_the_config_round_trips_through_its_checkpoint_form(tmp_path):
    config = TransitionConfig.tiny(mixer=Mixer.CONV3D)
    stored = json.loads(json.dumps(config.as_dict()))
    assert stored["mixer"] == "conv3d"
    assert TransitionConfig.from_dict(stored) == config
    net = TransitionNet(config)
    path = net.save(tmp_path / "t.safetensors")
    loaded, _ = TransitionNet.load(path)
    x = torch.rand(1, 7, 3, config.height, config.width)
    assert torch.equal(loaded(x), net.eval()(x))


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="multiple of 8"):
        TransitionConfig(height=50)
    with pytest.raises(ValueError, match="odd"):
        TransitionConfig(branches=((2, 1),))
    with pytest.raises(ValueError, match="split evenly"):
        dataclasses.replace(TransitionConfig(), widths=(16, 30, 64))
    with pytest.raises(ValueError):
        TransitionConfig(mixer="lstm")
