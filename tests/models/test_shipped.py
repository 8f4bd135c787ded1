"""Every shipped weight file loads, is what the registry says, and computes what it did.

A fixed small input goes through each network and the output (pooled to 8 × 8) is
compared with one stored in ``expected/shipped.safetensors``, which also records each
file's tensor digest: a retrained or altered file fails here until its expected output
is made again, on purpose:

    KINEMA_REGEN_EXPECTED=1 python -m pytest tests/models/test_shipped.py
"""

import json
import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from kinema.engines.codec import code_inter, code_intra, pad, round_symbols
from kinema.models.checkpoint import save_checkpoint, tensor_digest
from kinema.models.codec import VideoCodec
from kinema.models.deblur import DeblurNet
from kinema.models.gif2video import CCDNet, DitherNet
from kinema.models.interp import InterpNet
from kinema.models.snapshot import SnapshotNet
from kinema.models.transitions import TransitionNet
from kinema.ops.color import palette_of, quantize_gif, stack_palettes
from kinema.types import BadInputError
from kinema.weights import FOLDER, SHIPPED, Shipped
from tests.media import smooth

EXPECTED = Path(__file__).parent / "expected" / "shipped.safetensors"
REGENERATE = os.environ.get("KINEMA_REGEN_EXPECTED") == "1"
HEIGHT, WIDTH = 40, 56  # not a multiple of any network's stride: padding is exercised too


def _frames(count: int) -> torch.Tensor:
    """``(count, 3, H, W)``: smooth moving content in [0, 1]."""
    return torch.stack([torch.from_numpy(smooth(i, HEIGHT, WIDTH)).permute(2, 0, 1).float() / 255 for i in range(count)])


def _gif(colors: int, dithered: bool) -> tuple[torch.Tensor, torch.Tensor]:
    rgb = smooth(3, HEIGHT, WIDTH)
    indices, palette = quantize_gif(rgb, colors, dither=dithered)
    frame = palette[indices]
    return torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255, stack_palettes([palette_of(frame)])


def run(model: torch.nn.Module) -> torch.Tensor:
    """The network's output for the fixed input, whatever kind of network it is."""
    with torch.inference_mode():
        if isinstance(model, InterpNet):
            a, b = _frames(2).split(1)
            return model(a, b, torch.tensor([0.5]))
        if isinstance(model, CCDNet):
            gif, palettes = _gif(model.config.colors, model.config.dithered)
            return model(gif, None if model.config.dithered else palettes)
        if isinstance(model, DitherNet):
            return torch.cat([model(_gif(32, d)[0]) for d in (False, True)])
        if isinstance(model, TransitionNet):
            # A cut in the middle of twelve frames, at the working size.
            frames = F.interpolate(torch.cat([_frames(6), _frames(12)[6:].flip(-1)]), size=(model.config.height, model.config.width), mode="area")
            return model(frames[None]).contiguous()
        if isinstance(model, DeblurNet):
            # The middle of three frames, its neighbours as if aligned, a steady motion.
            frames = _frames(2 * model.config.scope + 1)
            middle = model.config.scope
            aligned = torch.cat([frames[:middle], frames[middle + 1 :]])[None]
            flows = torch.full((1, aligned.shape[1], 2, HEIGHT, WIDTH), 3.0)
            return model(frames[middle : middle + 1], aligned, flows)[0]
        if isinstance(model, VideoCodec):
            # An I-frame at the lowest level, then a P-frame at the highest along a steady motion.
            a, b = pad(_frames(2)).split(1)
            first = code_intra(model, a, 0, round_symbols(model)).frame
            flow = torch.full((1, 2, *a.shape[-2:]), 2.0)
            return torch.cat([first, code_inter(model, b, first, flow, model.config.levels - 1, round_symbols(model)).frame])
        if isinstance(model, SnapshotNet):
            snapshot, _ = model.embed(_frames(model.config.frames)[None])
            return torch.cat([snapshot, model.expand(snapshot)[0]])
    raise AssertionError(f"no fixed input for {type(model).__name__}")


def _summary(output: torch.Tensor) -> torch.Tensor:
    output = output.float()
    return F.adaptive_avg_pool2d(output, (8, 8)) if output.dim() == 4 else output


def _expected() -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    if not EXPECTED.is_file():
        return {}, {}
    with safe_open(str(EXPECTED), framework="pt") as handle:
        return load_file(str(EXPECTED)), json.loads((handle.metadata() or {}).get("digests", "{}"))


@pytest.fixture(scope="module")
def expected():
    outputs, digests = _expected()
    yield outputs, digests
    if REGENERATE:
        save_file(outputs, str(EXPECTED), metadata={"digests": json.dumps(digests, sort_keys=True)})


def test_the_registry_lists_every_file_in_the_folder_and_nothing_else():
    assert sorted(p.stem for p in FOLDER.glob("*.safetensors")) == sorted(s.name for s in SHIPPED)
    assert len({s.name for s in SHIPPED}) == len(SHIPPED)
    for entry in SHIPPED:
        assert entry.path.stat().st_size < 20 * 2**20, f"{entry.name} is over the 20 MB budget"


@pytest.mark.parametrize("entry", SHIPPED, ids=lambda s: s.name)
def test_a_shipped_file_loads_and_matches_its_stored_output(entry: Shipped, expected):
    outputs, digests = expected
    with safe_open(str(entry.path), framework="pt") as handle:
        header = handle.metadata()
    model, meta = entry.load()  # checks the arch and the tensors' digest
    assert isinstance(model, entry.model) and not model.training
    stored = json.loads(header["kinema.config"])
    config = json.loads(json.dumps(model.config.as_dict()))
    # The config round-trips; fields added to the config class since the file was written
    # are at their defaults (the switches of optional parts, off).
    assert {k: config[k] for k in stored} == stored
    defaults = json.loads(json.dumps(type(model.config)().as_dict()))
    assert {k: v for k, v in config.items() if k not in stored} == {k: defaults[k] for k in config if k not in stored}
    assert meta.get("metrics"), f"{entry.name} carries no metrics"
    digest = tensor_digest(model.state_dict())
    assert digest == header["kinema.sha256"]
    summary = _summary(run(model))
    assert torch.isfinite(summary).all()
    if REGENERATE:
        outputs[entry.name], digests[entry.name] = summary, digest
        return
    assert entry.name in outputs, f"no expected output for {entry.name}: regenerate (see the module docstring)"
    assert digests[entry.name] == digest, f"{entry.name} is not the file the expected output was made with"
    torch.testing.assert_close(summary, outputs[entry.name], rtol=0, atol=2e-4)


def test_an_altered_weight_file_fails(tmp_path, expected):
    outputs, _ = expected
    entry = next(s for s in SHIPPED if s.model is DitherNet)  # the smallest file
    # 1. One byte changed inside a tensor: the digest check refuses the file.
    data = bytearray(entry.path.read_bytes())
    data[-100] ^= 0x40
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(bytes(data))
    with pytest.raises(BadInputError, match="checksum mismatch"):
        entry.model.load(broken)
    # 2. Altered and re-signed (a well-formed file of other weights): the output differs.
    model, meta = entry.load()
    state = model.state_dict()
    name = next(iter(state))
    state[name] = state[name] + 0.01
    with safe_open(str(entry.path), framework="pt") as handle:
        header = handle.metadata()
    resigned = save_checkpoint(tmp_path / "resigned.safetensors", state, arch=header["kinema.arch"], config=json.loads(header["kinema.config"]), meta=meta)
    other, _ = entry.model.load(resigned)
    if not REGENERATE:
        assert not torch.allclose(_summary(run(other)), outputs[entry.name], rtol=0, atol=2e-4)
