import shutil

import numpy as np
import pytest
import torch

from kinema.models.gif2video import GifKind
from kinema.ops.color import palette_of
from kinema.train.gif_encoders import BayerEncoder, EncodedSet, PillowEncoder, encoders, ffmpeg_binaries
from tests.media import smooth

CLIP = [smooth(i, 36, 44) for i in range(3)]


@pytest.mark.parametrize("coder", encoders(), ids=lambda c: c.name)
def test_every_encoder_makes_a_gif_of_the_frames_within_its_palette(coder):
    gifs = coder.encode(CLIP, 64)
    assert len(gifs) == len(CLIP) and all(g.shape == CLIP[0].shape and g.dtype == np.uint8 for g in gifs)
    assert all(len(palette_of(g)) <= 64 for g in gifs)
    error = np.mean([np.abs(g.astype(int) - f).mean() for g, f in zip(gifs, CLIP)])
    assert 0 < error < 25  # quantized, and still the same pictures (unrelated images: ~85)


def test_ordered_dithering_is_a_fixed_tiling():
    flat = np.full((16, 16, 3), 120, np.uint8)
    flat[..., 1] = 60
    gif = BayerEncoder(size=4, strength=1.0).encode([np.concatenate([flat, flat + 40])], 8)[0]
    assert np.array_equal(gif[:4, :4], gif[4:8, 4:8])  # the pattern repeats every 4 pixels
    assert len(palette_of(gif[:16])) > 1  # a flat colour between two entries is dithered


def test_encoded_set_samples_a_crop_of_the_right_kind_with_its_source():
    data = EncodedSet([CLIP], [PillowEncoder(), PillowEncoder(dither=True), BayerEncoder()], (16,), crop=24)
    g = torch.Generator().manual_seed(0)
    for kind in GifKind:
        (gif, palette, target), got = data.sample(g, kinds=(kind,))
        assert got is kind and gif.shape == target.shape == (3, 24, 24)
        assert float((gif - target).abs().mean()) < 0.1
        colours = {tuple(c) for c in palette}
        assert {tuple(c) for c in palette_of((gif.permute(1, 2, 0) * 255).round().byte().numpy())} <= colours


@pytest.mark.skipif(not ffmpeg_binaries(), reason="no ffmpeg")
def test_ffmpeg_made_gifs_are_read_with_their_timing_and_disposal(tmp_path):
    """ffmpeg writes later frames as differences over the earlier ones (transparent where
    unchanged): kinema's reader must show every frame as ffmpeg's own decoder does."""
    import subprocess

    from kinema.io.gif import GifReader

    binary = ffmpeg_binaries()[0][0]
    frames = np.stack([smooth(0, 40, 48)] * 6)
    for i in range(6):  # a moving square over a still background: most pixels unchanged
        frames[i, 10:20, 4 + 6 * i : 14 + 6 * i] = (250, 30, 30)
    path = tmp_path / "f.gif"
    graph = "split[a][b];[a]palettegen=max_colors=64[p];[b][p]paletteuse=dither=none"
    subprocess.run([binary, "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "48x40", "-r", "4", "-i", "-",
                    "-filter_complex", graph, str(path)], input=frames.tobytes(), check=True)  # fmt: skip
    ours = list(GifReader(path))
    theirs = subprocess.run([binary, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    theirs = np.frombuffer(theirs, np.uint8).reshape(-1, 40, 48, 3)
    assert len(ours) == len(theirs) == 6
    assert [f.duration for f in ours] == [0.25] * 6 and float(ours[-1].end) == 1.5
    for frame, expected in zip(ours, theirs):
        assert np.array_equal((frame.image[:3].permute(1, 2, 0) * 255).round().byte().numpy(), expected)
    assert not np.array_equal(theirs[0], theirs[-1])


@pytest.mark.skipif(shutil.which("gifsicle") is None, reason="no gifsicle")
def test_gifsicle_is_among_the_encoders_when_installed():
    assert any(c.name.startswith("gifsicle") for c in encoders())
