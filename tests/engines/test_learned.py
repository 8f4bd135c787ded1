import pytest
import torch

from kinema.engines.classical import ClassicalConfig, ClassicalEngine
from kinema.engines.learned import ClassicalGuide, LearnedConfig, LearnedEngine, Precision
from kinema.models.interp import InterpConfig, InterpNet
from kinema.ops.metrics import psnr
from kinema.types import BadInputError
from tests.engines.test_classical import _shifted
from tests.media import texture


def _engine(**config) -> LearnedEngine:
    torch.manual_seed(0)
    return LearnedEngine(InterpNet(InterpConfig.tiny()), LearnedConfig(**config))


def test_untrained_network_reproduces_the_classical_engine():
    # Zero-initialized corrections: before training the learned engine is its guide.
    h, w = 64, 96
    big = texture(h + 32, w + 32)
    a, b = _shifted(big, 0, 0, h, w), _shifted(big, 4, 2, h, w)
    ours = _engine().interpolate(a, b, [0.25, 0.5])
    classical = ClassicalEngine().interpolate(a, b, [0.25, 0.5])
    assert psnr(ours[:, 1], classical[:, 1]).item() > 45


def test_a_training_guide_mixing_presets_gives_flows_at_the_frame_size():
    # ``fast`` projects at DIS's 1/4 scale, ``balanced`` at the flow size: the network
    # needs both at the frames' size, in one batch.
    h, w = 64, 96
    big = texture(h + 32, w + 32, seed=2)
    a = torch.cat([_shifted(big, 0, 0, h, w)] * 2)
    b = torch.cat([_shifted(big, 4, 2, h, w)] * 2)
    guide = ClassicalGuide(ClassicalConfig.fast(), ClassicalConfig.balanced())
    flows = guide(a, b, torch.full((2,), 0.5))
    assert flows.shape == (2, 4, h, w)
    # Both presets find the same motion back to a: b is a moved by (−4, −2), so (2, 1) at t = 0.5.
    inner = flows[:, :2, 8:-8, 8:-8]
    assert torch.allclose(inner.mean((2, 3)), torch.tensor([[2.0, 1.0]] * 2), atol=0.3)


def test_large_frames_run_at_the_working_size_and_keep_full_resolution_detail():
    h, w = 96, 160
    big = texture(h + 32, w + 32, seed=3)
    a, mid, b = _shifted(big, 0, 0, h, w), _shifted(big, 2, 0, h, w), _shifted(big, 4, 0, h, w)
    out = _engine(work_max_side=64).interpolate(a, b, [0.5])
    assert out.shape == (1, 1, 3, h, w)
    inner = (slice(None), slice(None), slice(8, -8), slice(8, -8))
    assert psnr(out[:, 0][inner], mid[inner]).item() > 35


def test_times_zero_and_one_are_the_inputs_and_bad_shapes_are_refused():
    a, b = texture(40, 50, seed=1), texture(40, 50, seed=2)
    engine = _engine()
    out = engine.interpolate(a, b, [0.0, 0.5, 1.0])
    assert torch.equal(out[:, 0], a) and torch.equal(out[:, 2], b)
    with pytest.raises(ValueError):
        engine.interpolate(a, b[..., :40], [0.5])


def test_missing_weight_file_is_a_clear_error(tmp_path):
    with pytest.raises(BadInputError, match="no such weight file"):
        LearnedEngine.from_file(tmp_path / "none.safetensors")


def test_from_file_loads_saved_weights(tmp_path):
    engine = _engine()
    for p in engine.model.parameters():
        p.data.normal_(0, 0.01)
    path = engine.model.save(tmp_path / "w.safetensors")
    loaded = LearnedEngine.from_file(path)
    a, b = texture(40, 50, seed=1), texture(40, 50, seed=2)
    assert torch.equal(engine.interpolate(a, b, [0.3]), loaded.interpolate(a, b, [0.3]))


def test_the_engine_runs_on_its_device_and_matches_the_cpu(device):
    from kinema.weights import INTERP

    big = texture(64 + 32, 96 + 32)
    a, b = _shifted(big, 0, 0, 64, 96), _shifted(big, 4, 2, 64, 96)
    cpu = LearnedEngine.from_file(INTERP.path).interpolate(a, b, [0.5])
    engine = LearnedEngine.from_file(INTERP.path, device=device)
    assert next(engine.model.parameters()).device.type == device.type
    out = engine.interpolate(a, b, [0.5])
    assert out.device == a.device  # frames come back where they were given
    # GPU kernels round differently, and on CUDA the network runs in float16 (Precision.AUTO).
    torch.testing.assert_close(out, cpu, rtol=0, atol=2e-3)


@pytest.mark.parametrize("precision, atol", [(Precision.FLOAT16, 2e-3), (Precision.BFLOAT16, 2e-2)])
def test_mixed_precision_runs_the_network_in_half_and_keeps_the_frames(precision, atol):
    from kinema.weights import INTERP

    assert Precision.AUTO.dtype(torch.device("cuda")) is torch.float16  # the GPU default
    assert Precision.AUTO.dtype(torch.device("cpu")) is None and Precision.FLOAT32.dtype(torch.device("cuda")) is None
    big = texture(64 + 32, 96 + 32)
    a, b = _shifted(big, 0, 0, 64, 96), _shifted(big, 4, 2, 64, 96)
    full = LearnedEngine.from_file(INTERP.path).interpolate(a, b, [0.5])
    low = LearnedEngine.from_file(INTERP.path, LearnedConfig(precision=precision)).interpolate(a, b, [0.5])
    assert low.dtype == torch.float32 and not torch.equal(low, full)  # it did run in the low precision
    torch.testing.assert_close(low, full, rtol=0, atol=atol)


def test_parts_run_through_the_engine_at_full_resolution():
    # A trained-looking network with both parts on: the engine hands it the unprojected
    # motion, and the kernels predicted at the working size are applied at full size.
    torch.manual_seed(4)
    net = InterpNet(InterpConfig.tiny().replace(adaptive=3, priority=True))
    for head in (net.kernel_head, net.priority_head):
        head[-1].weight.data.normal_(0, 0.05)
    h, w = 96, 160
    big = texture(h + 32, w + 32, seed=3)
    a, b = _shifted(big, 0, 0, h, w), _shifted(big, 4, 0, h, w)
    out = LearnedEngine(net, LearnedConfig(work_max_side=64)).interpolate(a, b, [0.25, 0.5])
    assert out.shape == (1, 2, 3, h, w) and torch.isfinite(out).all()
    plain = LearnedEngine(InterpNet(InterpConfig.tiny()), LearnedConfig(work_max_side=64)).interpolate(a, b, [0.5])
    assert (out[:, 1] - plain[:, 0]).abs().max() > 1e-3  # the parts changed the frame


def test_an_ensemble_averages_the_engine_on_mirrored_pairs():
    h, w = 48, 64
    big = texture(h + 32, w + 32, seed=5)
    a, b = _shifted(big, 0, 0, h, w), _shifted(big, 3, 1, h, w)
    single = _engine()
    members = [single.interpolate(a, b, [0.5]), single.interpolate(a.flip(-1), b.flip(-1), [0.5]).flip(-1)]
    pair = _engine(ensemble=2).interpolate(a, b, [0.5])
    torch.testing.assert_close(pair, (0.5 * (members[0] + members[1])).clamp(0, 1), atol=1e-5, rtol=0)
    assert (members[0] - members[1]).abs().max() > 1e-4  # the members differ: DIS is not mirror-symmetric
    four = _engine(ensemble=4).interpolate(a, b, [0.25, 0.5])
    assert four.shape == (1, 2, 3, h, w)
    with pytest.raises(ValueError, match="ensemble"):
        LearnedConfig(ensemble=3)


def test_a_look_ahead_starts_the_guides_flows_and_changes_no_frame(device):
    # On a GPU the guide copies each frame to the CPU once, so its memo finds the flows.
    torch.manual_seed(0)
    frames = [texture(40, 64, seed=k).to(device) for k in range(5)]
    results, flows = {}, {}
    for ahead in (False, True):
        engine = LearnedEngine(InterpNet(InterpConfig.tiny()), LearnedConfig(), device=device)
        guide = engine.guide.engines[0]
        calls, estimate = [], guide.flow
        guide.flow = lambda x, y: (calls.append(1), estimate(x, y))[1]
        outputs = []
        for i in range(1, 3):
            if ahead:
                engine.lookahead(frames[i + 1], frames[i + 2], before=frames[i], after=frames[i + 3] if i + 3 < 5 else None)
                assert len(calls) > 0  # the next window's flows started before it was asked for
            outputs.append(engine.interpolate_window(frames[i], frames[i + 1], [0.5], before=frames[i - 1], after=frames[i + 2]))
        results[ahead], flows[ahead] = outputs, len(calls)
    assert all(torch.equal(x, y) for x, y in zip(results[False], results[True]))
    assert flows[True] == flows[False] + 1  # the only extra: the backward flow of the last window, never asked for


def test_a_copied_engine_interpolates_like_the_original():
    # kinema batch --adapt copies the loaded engine for each file.
    import copy

    from kinema.weights import INTERP

    engine = LearnedEngine.from_file(INTERP.path)
    a, b = texture(40, 56, seed=3), texture(40, 56, seed=4)
    first = engine.interpolate(a, b, [0.5])
    assert torch.equal(copy.deepcopy(engine).interpolate(a, b, [0.5]), first)
