import dataclasses
from fractions import Fraction

import pytest
import torch

from kinema.engines.base import AverageEngine
from kinema.io.probe import open_reader, probe
from kinema.io.snapshot_file import read_snapshot, write_snapshot
from kinema.models.snapshot import SnapshotConfig, SnapshotNet
from kinema.pipelines.snapshot import EmbedConfig, embed, expand, load_model, preview
from kinema.types import BadInputError, ModelMismatchError
from kinema.weights import snapshot_name
from tests.media import make_video, smooth


@pytest.fixture
def models(tmp_path):
    """A folder with tiny 5-frame weights whose tails are not zero (so frames differ)."""
    torch.manual_seed(0)
    net = SnapshotNet(SnapshotConfig.tiny(frames=5))
    with torch.no_grad():
        for tail in (net.embedder.tail, net.expander.tail):
            tail.weight.normal_(0, 0.02)
    folder = tmp_path / "weights"
    folder.mkdir()
    net.save(folder / f"{snapshot_name(5)}.safetensors")
    return folder


@pytest.fixture
def clip(tmp_path):
    return make_video(tmp_path / "clip.mp4", 12, size=(24, 40), images=[smooth(i, 24, 40) for i in range(12)])


def _embed(clip, out, models, **config):
    net, digest = load_model(snapshot_name(5), models)
    return embed(clip, out, EmbedConfig(**config), model=snapshot_name(5), net=net, digest=digest)


def test_saved_png_re_expands_to_identical_frames(tmp_path, models, clip):
    result = _embed(clip, tmp_path / "s.png", models, start=2, stride=2)
    assert result.info.starts == (2,) and result.info.fps == str(Fraction(25, 2)) and result.info.size == (40, 24)
    net, _ = load_model(snapshot_name(5), models)
    image, _ = read_snapshot(result.output)
    with torch.no_grad():
        expected = net.expand(image[None])[0]
    out = expand(result.output, tmp_path / "frames", factor=1, engine=AverageEngine(), models=models)
    assert out.frames_out == 5 and out.rate == Fraction(25, 2)
    written = [f.image for f in open_reader(tmp_path / "frames")]
    assert len(written) == 5
    for got, want in zip(written, expected):
        assert torch.equal(got, (want * 255).round() / 255)
    again = expand(result.output, tmp_path / "again", factor=1, engine=AverageEngine(), models=models)
    assert all(torch.equal(a.image, b.image) for a, b in zip(open_reader(again.output), open_reader(out.output)))


def test_expand_interpolates_factor_times_the_frames(tmp_path, models, clip):
    snap = _embed(clip, tmp_path / "s.png", models).output
    out = expand(snap, tmp_path / "x.mp4", factor=3, engine=AverageEngine(), models=models)
    info = probe(out.output)
    assert out.frames_out == info.frame_count == 4 * 3 + 1
    assert info.fps == 75
    slow = expand(snap, tmp_path / "slow.mp4", factor=3, fps=Fraction(25), engine=AverageEngine(), models=models)
    assert slow.frames_out == 13 and probe(slow.output).fps == 25  # the same frames, 3× longer


def test_preview_tiles_snapshots_and_expands_each(tmp_path, models, clip):
    net, digest = load_model(snapshot_name(5), models)
    result = preview(clip, tmp_path / "p.png", EmbedConfig(stride=1), count=3, model=snapshot_name(5), net=net, digest=digest)
    assert result.info.starts == (0, 4, 7) and result.info.grid == (2, 2) and result.info.size == (80, 48)
    out = expand(result.output, tmp_path / "p", factor=2, engine=AverageEngine(), models=models)
    assert out.frames_out == 3 * (4 * 2 + 1)


def test_clear_errors(tmp_path, models, clip):
    with pytest.raises(BadInputError, match="needs frame 14"):
        _embed(clip, tmp_path / "s.png", models, start=10)
    snap = _embed(clip, tmp_path / "s.png", models).output
    other = tmp_path / "other"
    other.mkdir()
    SnapshotNet(SnapshotConfig.tiny(frames=5)).save(other / f"{snapshot_name(5)}.safetensors")
    with pytest.raises(ModelMismatchError, match="made by other"):
        expand(snap, tmp_path / "x.mp4", engine=AverageEngine(), models=other)
    with pytest.raises(BadInputError, match="no snapshot weights"):
        load_model("snapshot-7", models)
    # Metadata edited to another frame count: said as such, not as other weights.
    image, info = read_snapshot(snap)
    edited = write_snapshot(tmp_path / "edited.png", image, dataclasses.replace(info, frames=9))
    with pytest.raises(ModelMismatchError, match="says 9 frames") as caught:
        expand(edited, tmp_path / "x.mp4", engine=AverageEngine(), models=models)
    assert "other" not in str(caught.value)
    assert not (tmp_path / "x.mp4").exists()
