import torch

from kinema.engines.deblur import Deblurrer, restore_one, stand_ins
from kinema.models.deblur import DeblurConfig, DeblurNet
from kinema.types import Frame
from tests.media import texture
from tests.models.test_deblur import blurry_sequence


def _net(scope: int = 1) -> DeblurNet:
    torch.manual_seed(0)
    net = DeblurNet(DeblurConfig(widths=(4, 8, 8), blocks=1, hidden=4, scope=scope))
    # A non-zero output layer, so the output depends on the inputs and the state.
    torch.nn.init.normal_(net.out.weight, std=0.05)
    return net.eval()


def test_neighbours_past_a_shot_end_are_mirrored_or_clamped():
    assert stand_ins(3, 9, 1) == [2, 4]
    assert stand_ins(0, 9, 1) == [1, 1]
    assert stand_ins(9, 9, 2) == [8, 8, 7, 7]
    assert stand_ins(0, 1, 2) == [1, 1, 1, 1]
    assert stand_ins(0, 0, 1) == [0, 0]
    assert stand_ins(4, 9, 0) == []


def _whole_shot(engine: Deblurrer, frames: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each frame restored with the whole shot in hand (no streaming)."""
    shot = [f[None] for f in frames]
    state, out = None, []
    with torch.inference_mode():
        for k in range(len(shot)):
            sharp, state = restore_one(engine.net, shot.__getitem__, k, len(shot) - 1, lambda i, j: engine._flow(shot[i], shot[j]), state)
            out.append(sharp[0].clamp(0, 1))
    return out


def test_streaming_gives_what_the_whole_shot_gives():
    for scope in (1, 2):
        blurry, _ = blurry_sequence(length=6, size=24)
        frames = [b[0] for b in blurry]
        engine = Deblurrer(_net(scope), cut=lambda a, b: False)
        streamed = list(engine.restore(iter(frames)))
        assert len(streamed) == 6
        for a, b in zip(streamed, _whole_shot(engine, frames)):
            assert torch.allclose(a, b, atol=1e-6)


def test_the_recurrent_state_starts_again_at_a_scene_cut():
    first = [b[0] for b in blurry_sequence(length=3, size=24, seed=1)[0]]
    second = [b[0] for b in blurry_sequence(length=3, size=24, seed=2)[0]]
    boundary = second[0]
    cut = lambda a, b: bool(torch.equal(b[0], boundary))  # noqa: E731
    engine = Deblurrer(_net(), cut=cut)
    both = list(engine.restore(iter(first + second)))
    alone = list(Deblurrer(_net(), cut=cut).restore(iter(second)))
    for a, b in zip(both[3:], alone):
        assert torch.allclose(a, b, atol=1e-6)
    # Without the cut the first shot's state and frames do reach the second.
    joined = list(Deblurrer(_net(), cut=lambda a, b: False).restore(iter(first + second)))
    assert not torch.allclose(joined[3], alone[0], atol=1e-3)


def test_frames_keep_their_timing_and_alpha():
    from fractions import Fraction

    alpha = torch.rand(1, 16, 16)
    frames = [Frame(texture(16, 16, seed=i)[0], pts=Fraction(i, 25), duration=Fraction(1, 25), alpha=alpha, index=i) for i in range(3)]
    out = list(Deblurrer(_net()).restore_frames(iter(frames)))
    assert [(f.pts, f.duration, f.index) for f in out] == [(f.pts, f.duration, f.index) for f in frames]
    assert all(f.alpha is alpha for f in out)
    assert all(f.image.shape == (3, 16, 16) and 0 <= float(f.image.min()) and float(f.image.max()) <= 1 for f in out)
    assert not torch.equal(out[1].image, frames[1].image)


def test_large_frames_run_in_tiles_that_agree_with_the_whole_frame():
    blurry, _ = blurry_sequence(length=3, size=96)
    frames = [b[0][..., :80, :] for b in blurry]  # 80 × 96: not a multiple of the tile
    whole = list(Deblurrer(_net(), cut=lambda a, b: False).restore(iter(frames)))
    tiled = list(Deblurrer(_net(), cut=lambda a, b: False, tile=32, margin=24).restore(iter(frames)))
    for a, b in zip(whole, tiled):
        assert a.shape == b.shape
        assert (a - b).abs().max() < 1e-4


def test_the_motion_of_a_frame_comes_from_both_neighbours_or_the_one_there_is():
    from kinema.engines.deblur import motion_at

    flows = {(1, 2): torch.full((1, 2, 1, 1), 4.0), (1, 0): torch.full((1, 2, 1, 1), -2.0), (0, 1): torch.full((1, 2, 1, 1), 3.0), (2, 1): torch.full((1, 2, 1, 1), -5.0)}
    flow = lambda i, j: flows[(i, j)]  # noqa: E731
    assert float(motion_at(1, 2, flow)[0, 0]) == 3.0  # half of 4 − (−2)
    assert float(motion_at(0, 2, flow)[0, 0]) == 3.0
    assert float(motion_at(2, 2, flow)[0, 0]) == 5.0
    assert motion_at(0, 0, flow) is None
