import threading

import pytest
import torch

from kinema.engines.base import AverageEngine
from kinema.engines.classical import ClassicalConfig, ClassicalEngine
from kinema.ops.metrics import psnr
from kinema.ops.warp import backward_warp
from tests.media import texture


def _shifted(big: torch.Tensor, dx: int, dy: int, h: int, w: int) -> torch.Tensor:
    return big[:, :, 16 + dy : 16 + dy + h, 16 + dx : 16 + dx + w]


@pytest.mark.parametrize("config", [ClassicalConfig.balanced(), ClassicalConfig.fast(), ClassicalConfig.best()])
def test_translated_texture_is_reconstructed_at_half_time(config):
    h, w = 96, 128
    big = texture(h + 32, w + 32)
    a, mid, b = _shifted(big, 0, 0, h, w), _shifted(big, 3, 2, h, w), _shifted(big, 6, 4, h, w)
    out = ClassicalEngine(config).midpoint(a, b)
    inner = (slice(None), slice(None), slice(8, -8), slice(8, -8))  # the borders have no source
    ours = psnr(out[inner], mid[inner]).item()
    blend = psnr(AverageEngine().midpoint(a, b)[inner], mid[inner]).item()
    assert ours > 38, ours
    assert ours > blend + 8


def test_times_zero_and_one_return_the_inputs_exactly():
    a, b = texture(40, 50, seed=1), texture(40, 50, seed=2)
    out = ClassicalEngine().interpolate(a, b, [0.0, 0.3, 1.0])
    assert out.shape == (1, 3, 3, 40, 50)
    assert torch.equal(out[:, 0], a) and torch.equal(out[:, 2], b)


def test_foreground_object_keeps_its_own_motion_over_a_moving_background():
    # A bright square moves right by 8 px over a background that moves left by 4 px:
    # around the square, projecting the flows to t must beat scaling them in place.
    h, w = 80, 112
    bg = texture(h + 32, w + 32, seed=3) * 0.5

    def frame(k: int) -> torch.Tensor:
        image = _shifted(bg, 2 * k, 0, h, w).clone()
        x = 30 + 4 * k
        image[:, :, 30:54, x : x + 24] = texture(24, 24, seed=4) * 0.4 + 0.6
        return image

    a, mid, b = frame(0), frame(1), frame(2)
    around = (slice(None), slice(None), slice(22, 62), slice(22, 90))
    ours = psnr(ClassicalEngine(ClassicalConfig.balanced()).midpoint(a, b)[around], mid[around]).item()
    plain = psnr(ClassicalEngine(ClassicalConfig.plain()).midpoint(a, b)[around], mid[around]).item()
    assert ours > plain + 0.2, (ours, plain)


@pytest.mark.parametrize("size", [(1, 1), (1, 7), (2, 2), (3, 5), (7, 1), (17, 31), (33, 65), (65, 33)])
def test_any_frame_size_works(size):
    torch.manual_seed(0)
    a, b = torch.rand(2, 3, *size), torch.rand(2, 3, *size)
    for config in (ClassicalConfig.balanced(), ClassicalConfig.fast(), ClassicalConfig.best()):
        out = ClassicalEngine(config).interpolate(a, b, [0.25, 0.5])
        assert out.shape == (2, 2, 3, *size)
        assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_fast_projects_at_dis_own_quarter_scale():
    h, w = 96, 128
    big = texture(h + 32, w + 32, seed=6)
    a, b = _shifted(big, 0, 0, h, w), _shifted(big, 6, 4, h, w)
    quarter = ClassicalEngine(ClassicalConfig.fast())
    full = ClassicalEngine(ClassicalConfig.fast().replace(project_at_dis_scale=False))
    assert quarter.motion(a, b, [0.5])[0].shape == (1, 4, 24, 32)
    assert full.motion(a, b, [0.5])[0].shape == (1, 4, 96, 128)
    # DIS ultrafast resolves motion at 1/4 only: a quarter-size projection loses nothing here.
    inner = (slice(None), slice(None), slice(8, -8), slice(8, -8))
    assert psnr(quarter.midpoint(a, b)[inner], full.midpoint(a, b)[inner]).item() > 40


def test_large_frames_estimate_flow_at_reduced_size():
    a = texture(300, 1100, seed=5)
    b = torch.roll(a, 10, -1)
    engine = ClassicalEngine(ClassicalConfig(flow_max_side=256))
    out = engine.midpoint(a, b)
    inner = (slice(None), slice(None), slice(10, -10), slice(30, -30))
    assert psnr(out[inner], torch.roll(a, 5, -1)[inner]).item() > 30


def test_bad_arguments_are_refused():
    a = torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError):
        ClassicalEngine().interpolate(a, a, [1.5])
    with pytest.raises(ValueError):
        ClassicalEngine().interpolate(a, torch.rand(1, 3, 8, 9), [0.5])
    with pytest.raises(ValueError):
        ClassicalConfig(flow_max_side=4)


def _accelerating(positions, height=96, width=160):
    """The same texture shifted right by each of ``positions`` (pixels)."""
    scene = texture(height, width, seed=4)
    still = torch.zeros(1, 2, height, width)
    return [backward_warp(scene, still - torch.tensor([float(x), 0.0]).view(1, 2, 1, 1)) for x in positions]


def test_four_frame_motion_follows_an_accelerating_path():
    # x(k) = 2 + 2k + 1.5k² at frames k = -1, 0, 1, 2; at t = 0.5 it is 3.375, a straight
    # path between frames 0 and 1 would put it at 4.75 px.
    before, a, b, after, truth = _accelerating([1.5, 2.0, 5.5, 12.0, 3.375])
    inner = (slice(None), slice(None), slice(12, -12), slice(24, -24))
    engine = ClassicalEngine(ClassicalConfig.balanced())
    two = engine.interpolate(a, b, [0.5])[:, 0]
    four = engine.interpolate_window(a, b, [0.5], before=before, after=after)[:, 0]
    error_two = (two - truth)[inner].abs().mean()
    error_four = (four - truth)[inner].abs().mean()
    assert error_four < 0.5 * error_two
    plain = ClassicalEngine(ClassicalConfig.balanced().replace(quadratic=False))
    assert torch.equal(plain.interpolate_window(a, b, [0.5], before=before, after=after), plain.interpolate(a, b, [0.5]))


def _counting(engine: ClassicalEngine) -> list:
    calls = []
    estimate = engine.flow
    engine.flow = lambda x, y: (calls.append(1), estimate(x, y))[1]
    return calls


def test_a_video_estimates_each_flow_once_and_a_look_ahead_changes_nothing():
    frames = _accelerating([0.0, 1.5, 4.0, 7.5, 12.0, 17.5])
    windows = [(frames[i - 1] if i else None, frames[i], frames[i + 1], frames[i + 2] if i + 2 < len(frames) else None) for i in range(5)]
    results, counts, made_in = {}, {}, {}
    for ahead in (False, True):
        engine = ClassicalEngine(ClassicalConfig.balanced())
        calls = _counting(engine)
        threads, make = [], engine._parts
        engine._parts = lambda *window: (threads.append(threading.current_thread().name), make(*window))[1]
        outputs = []
        for k, (before, a, b, after) in enumerate(windows):
            if ahead and k + 1 < len(windows):
                nb, na, nbb, naf = windows[k + 1]
                engine.lookahead(na, nbb, before=nb, after=naf)
            outputs.append(engine.interpolate_window(a, b, [0.25, 0.5], before=before, after=after))
        results[ahead], counts[ahead], made_in[ahead] = outputs, len(calls), threads
    # Each of the 5 pairs has a flow each way; every neighbour flow is one of those.
    assert counts == {False: 10, True: 10}
    assert all(torch.equal(x, y) for x, y in zip(results[False], results[True]))
    # Each window's parts are made once: after the first, in the look-ahead's thread.
    assert made_in[False] == ["MainThread"] * 5
    assert sorted(n.split("_")[0] for n in made_in[True]) == ["MainThread"] + ["motion-parts"] * 4


def test_an_engine_pickles_without_its_threads():
    import pickle

    engine = ClassicalEngine(ClassicalConfig.fast())
    a = texture(32, 48, seed=1)
    engine.interpolate(a, a, [0.5])  # its flow threads exist now
    copy = pickle.loads(pickle.dumps(engine))
    assert copy.config == engine.config and torch.equal(copy.interpolate(a, a, [0.5]), engine.interpolate(a, a, [0.5]))
