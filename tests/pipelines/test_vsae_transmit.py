"""vsae pack / unpack: a clip sent as its autoencoder and a few small frames."""

import json

import pytest
import torch

from kinema.io.kvae_file import read_kvae, write_kvae
from kinema.io.probe import open_reader
from kinema.ops.metrics import psnr
from kinema.ops.resize import bicubic
from kinema.pipelines.vsae.packed import Between, kept_indices, read_packed
from kinema.pipelines.vsae.transmit import PackConfig, UnpackConfig, pack, unpack
from kinema.types import BadInputError, ModelMismatchError
from kinema.models.video_ae import VideoAEConfig
from kinema.pipelines.vsae import FitVideoConfig, fit_video
from kinema.train.video_ae import FitConfig
from tests.media import make_video, orbit


def frames_of(path):
    frames = list(open_reader(path))
    return torch.stack([f.image for f in frames]), [f.pts for f in frames]


def test_kept_frames_always_include_the_last():
    assert kept_indices(7, 3) == [0, 3, 6]
    assert kept_indices(8, 3) == [0, 3, 6, 7]
    assert kept_indices(1, 4) == [0] and kept_indices(5, 1) == [0, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    """The orbit at half speed (an eighth of a turn between kept frames: the fixture's
    quarter turn moves the square farther than its own size, beyond any interpolation),
    its autoencoder, and the clip packed with the defaults."""
    folder = tmp_path_factory.mktemp("transmit")
    video = make_video(folder / "slow.mp4", 24, size=(48, 64), images=[orbit(i / 2) for i in range(24)], codec="libx264rgb", pix_fmt="rgb24")
    config = FitVideoConfig(max_side=64, model=VideoAEConfig.tiny(), fit=FitConfig(epochs=150, batch=6, lr=2e-3))
    model = fit_video(video, folder / "slow.safetensors", config).output
    full = pack(model, video, folder / "full.kvae", PackConfig(keep_every=2, scale=4))
    return video, model, folder, full


def test_unpack_rebuilds_every_frame_with_the_sources_timing(packed):
    video, model, folder, full = packed
    assert (full.frames, full.kept) == (24, 13) and full.bytes == (folder / "full.kvae").stat().st_size
    result = unpack(folder / "full.kvae", folder / "out", UnpackConfig())
    assert result.frames == 24 and result.size == (48, 64)
    truth, times = frames_of(video)
    out, out_times = frames_of(folder / "out")
    assert out_times == times
    kept, between = torch.arange(0, 24, 2), torch.arange(1, 23, 2)
    small = read_packed(folder / "full.kvae").kept.float() / 255
    # Kept frames: the autoencoder's upscaling beside bicubic (+2 dB and more, measured;
    # the fit is not bit-reproducible from run to run, so the bound leaves room).
    assert psnr(out[kept], truth[kept]).mean() > psnr(bicubic(small[:12], (48, 64)), truth[kept]).mean() + 1
    # Frames between, motion then reprojection (the default) and the paper's latent
    # interpolation, each beside the blend of the two rebuilt neighbours (about 6 dB
    # below both, measured; which of the two is better is the benchmark's question).
    blend = psnr((out[between - 1] + out[between + 1]) / 2, truth[between]).mean()
    motion = psnr(out[between], truth[between]).mean()
    assert motion > blend + 3
    pack(model, video, folder / "latent.kvae", PackConfig(between=Between.LATENT))
    unpack(folder / "latent.kvae", folder / "latent")
    latent = frames_of(folder / "latent")[0]
    assert torch.equal(latent[kept], out[kept])  # the kept frames' modes do not depend on it
    assert psnr(latent[between], truth[between]).mean() > blend + 3
    # The sender's choice of mode per frame beside the same passes for every frame.
    chosen = read_packed(folder / "full.kvae").modes
    assert len(chosen) == 24 and len(set(chosen)) > 1
    for n in (0, 5):  # each frame's best count is at least as close as any one count
        unpack(folder / "full.kvae", folder / f"n{n}", UnpackConfig(reproject=n))
        assert psnr(out, truth).mean() > psnr(frames_of(folder / f"n{n}")[0], truth).mean() - 0.05


def test_8_bit_weights_and_stream_only_files(packed):
    video, model, folder, full = packed
    small = pack(model, video, folder / "int8.kvae", PackConfig(bits=8, crf=20))
    assert small.weight_bytes < 0.6 * full.weight_bytes and small.frame_bytes < full.frame_bytes
    stream = pack(model, video, folder / "stream.kvae", PackConfig(bits=8, crf=20, weights=False))
    assert stream.weight_bytes == 0 and stream.bytes < 0.1 * small.bytes
    truth, _ = frames_of(video)
    unpack(folder / "int8.kvae", folder / "int8", UnpackConfig(reproject=2))
    with pytest.raises(BadInputError, match="holds the stream only; name the model"):
        unpack(folder / "stream.kvae", folder / "s.mp4")
    unpack(folder / "stream.kvae", folder / "stream", UnpackConfig(reproject=2), model=model)
    a, b = frames_of(folder / "int8")[0], frames_of(folder / "stream")[0]
    assert abs(float(psnr(a, truth).mean() - psnr(b, truth).mean())) < 0.5  # 8 bits cost little
    sparse = pack(model, video, folder / "sparse.kvae", PackConfig(keep_every=100, choose=False))
    assert sparse.kept == 2 and unpack(folder / "sparse.kvae", folder / "sparse").frames == 24  # first and last only
    assert not (folder / "s.mp4").exists()


def test_the_wrong_model_video_or_file_is_refused(packed, tmp_path):
    video, model, folder, full = packed
    other = make_video(tmp_path / "other.mp4", 6, size=(48, 64))
    with pytest.raises(ModelMismatchError, match="was fit on"):
        pack(model, other, tmp_path / "x.kvae")
    with pytest.raises(BadInputError, match="written as .kvae"):
        pack(model, video, tmp_path / "x.mp4")
    stream = pack(model, video, tmp_path / "s.kvae", PackConfig(weights=False))
    wrong = tmp_path / "wrong.safetensors"
    from kinema.pipelines.vsae import load_video_model

    vm = load_video_model(model)
    with torch.no_grad():
        vm.net.decoder[-1].bias.add_(0.01)
    vm.net.save(wrong, **vm.meta)
    with pytest.raises(ModelMismatchError, match="is not the model"):
        unpack(stream.output, tmp_path / "o.mp4", model=wrong)
    # A file whose checksum is right but whose parts are not what a pack writes.
    contents = read_kvae(folder / "full.kvae")
    broken = {**contents.sections, "weights": b"\x78\x9c" + bytes(50)}
    write_kvae(tmp_path / "bw.kvae", {k: v for k, v in contents.header.items() if k != "sections"}, broken)
    with pytest.raises(BadInputError, match="unreadable weights"):
        unpack(tmp_path / "bw.kvae", tmp_path / "o.mp4")
    for part, key, value in (("video", "frames", 10**12), ("video", "size", [10**6, 64]), ("rebuild", "modes", "z" * 24)):
        header = json.loads(json.dumps(contents.header))
        header[part][key] = value  # hostile values under a valid checksum
        write_kvae(tmp_path / "bh.kvae", header, contents.sections, overwrite=True)
        with pytest.raises(BadInputError, match="unreadable .kvae header"):
            unpack(tmp_path / "bh.kvae", tmp_path / "o.mp4")
    write_kvae(tmp_path / "other.kvae", {"content": "something else"}, {})
    with pytest.raises(BadInputError, match="another kind"):
        unpack(tmp_path / "other.kvae", tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists() and not (tmp_path / "x.kvae").exists()
