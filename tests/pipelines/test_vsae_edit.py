"""vsae edit / stitch: removal, stitching, stretching and extension by reprojection."""

import pytest
import torch

from kinema.io.images import read_image
from kinema.io.pixels import from_hwc
from kinema.io.probe import open_reader
from kinema.models.video_ae import VideoAEConfig
from kinema.pipelines.vsae import FitVideoConfig, fit_video, load_video_model
from kinema.pipelines.vsae.edit import Box, edit_video, extend, feather, fill_from_other_frames, fill_from_surroundings, insert, insert_frame, remove, reproject_edit, stitch, stitch_images, stretch
from kinema.train.video_ae import FitConfig
from kinema.types import BadInputError
from tests.media import orbit_square, texture

def test_feather_ramps_up_inside_the_mask():
    mask = torch.zeros(1, 1, 1, 12)
    mask[..., 2:10] = 1
    ramp = feather(mask, 3)[0, 0, 0]
    assert ramp.tolist() == pytest.approx([0, 0, 1 / 3, 2 / 3, 1, 1, 1, 1, 2 / 3, 1 / 3, 0, 0])


def test_outside_the_edit_and_its_seam_the_frame_is_untouched(fitted):
    video, result = fitted
    net = load_video_model(result.output).net
    frame = next(iter(open_reader(video))).image[None]
    edit = torch.zeros(1, 1, 48, 64)
    edit[..., 10:20, 20:40] = 1
    out = reproject_edit(net, frame, edit, seam=4)
    kept = edit[0, 0] == 0
    assert torch.equal(out[0][:, kept], frame[0][:, kept])
    assert (out[0][:, 10:20, 20:40] - frame[0][:, 10:20, 20:40]).abs().mean() > 0.005  # the edit was redrawn


def test_a_hole_is_filled_with_what_the_other_frames_show_there():
    # A patch sliding over a still texture: in the middle frame, what it covers is seen
    # uncovered in frames before and after.
    back, patch = texture(48, 80, seed=1)[0], texture(16, 16, seed=2)[0]
    frames, holes = [], []
    for i in range(9):
        frame, hole = back.clone(), torch.zeros(1, 48, 80)
        frame[:, 16:32, 8 + 5 * i : 24 + 5 * i] = patch
        hole[:, 14:34, 6 + 5 * i : 26 + 5 * i] = 1
        frames.append(frame)
        holes.append(hole)
    frames, holes = torch.stack(frames), torch.stack(holes)
    filled, unseen = fill_from_other_frames(frames, holes, 4)
    inside = holes[4, 0] > 0
    assert unseen == 0
    assert masked_error(filled[0], back, inside) < 0.02  # the texture itself, not the patch
    assert masked_error(fill_from_surroundings(frames[4:5], holes[4:5])[0], back, inside) > 0.05
    assert torch.equal(filled[0][:, ~inside], frames[4][:, ~inside])  # nothing else touched


def masked_error(a: torch.Tensor, b: torch.Tensor, where: torch.Tensor) -> float:
    return float((a - b).abs()[:, where].mean())


@pytest.fixture(scope="module")
def learned_square(fitted, tmp_path_factory):
    """The session's clip fit until its model draws the square well (600 epochs; the
    session's 150-epoch model has not learned it, and whether reprojection brings it back
    then depends on the machine's arithmetic)."""
    video, _ = fitted
    config = FitVideoConfig(max_side=64, model=VideoAEConfig.tiny(), fit=FitConfig(epochs=600, batch=6, lr=2e-3))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return video, fit_video(video, tmp_path_factory.mktemp("vsae-square") / "orbit.safetensors", config)
    finally:
        torch.set_num_threads(threads)


def test_the_papers_removal_draws_back_what_the_video_always_shows(learned_square):
    video, result = learned_square
    net = load_video_model(result.output).net
    frames = torch.stack([f.image for f in open_reader(video)])
    square = orbit_square(0).bool()
    holes = torch.zeros(24, 1, 48, 64)
    holes[0, 0] = torch.nn.functional.max_pool2d(square.float()[None, None], 5, 1, 2)[0, 0]
    with_passes = remove(net, frames, holes, 0, passes=6)[0]
    without = remove(net, frames, holes, 0)[0]
    yellow = torch.tensor([250, 240, 40]).float().view(3, 1) / 255
    # Every frame of this clip shows the square: reprojection puts it back (the paper's
    # caveat, and why removal does not reproject by default).
    assert (with_passes[:, square] - yellow).abs().mean() < 0.5 * (without[:, square] - yellow).abs().mean()


def test_stitch_stretch_and_extend_keep_their_sizes_and_what_is_kept(fitted):
    video, result = fitted
    net = load_video_model(result.output).net
    frames = [f.image for f in open_reader(video)]
    joined = stitch(net, [frames[0], frames[4]], overlap=8)[0]
    assert joined.shape == (3, 48, 128)
    assert torch.equal(joined[:, :, :56], frames[0][:, :, :56]) and torch.equal(joined[:, :, 72:], frames[4][:, :, 8:])
    naive = torch.cat([frames[0], frames[4]], -1)
    jump = lambda im: (im[:, :, 64] - im[:, :, 63]).pow(2).mean()  # noqa: E731
    assert jump(joined) < jump(naive)
    assert stretch(net, frames[0], 100).shape == (1, 3, 48, 100)
    wide = extend(net, frames[0], (64, 160))[0]
    assert wide.shape == (3, 64, 160) and torch.equal(wide[:, 8:56, 48:112], frames[0])


def test_boxes_are_checked_against_the_frame():
    assert Box.parse("1,2,3,4") == Box(1, 2, 3, 4)
    assert int(Box(1, 2, 3, 4).mask(10, 10).sum()) == 12
    with pytest.raises(BadInputError, match="lies outside the 10x10 frame"):
        Box(8, 0, 4, 4).mask(10, 10)
    with pytest.raises(BadInputError, match="not a box"):
        Box.parse("1,2,3")


def test_edit_one_frame_to_an_image_and_refuse_a_box_outside(fitted, tmp_path):
    video, result = fitted
    out = edit_video(result.output, video, tmp_path / "f3.png", "20,10,16,12", frame=3)
    assert out.frames == 1 and out.removed == pytest.approx(20 * 16 / (48 * 64))  # the box, grown by 2 pixels
    image = from_hwc(read_image(tmp_path / "f3.png"))[0]
    assert image.shape == (3, 48, 64)
    with pytest.raises(BadInputError, match="lies outside the 64x48 frame"):
        edit_video(result.output, video, tmp_path / "bad.png", "60,10,16,12", frame=3)
    assert not (tmp_path / "bad.png").exists()
    with pytest.raises(BadInputError, match="frame 30 is not in the video"):
        edit_video(result.output, video, tmp_path / "bad.png", "20,10,16,12", frame=30)


def test_edit_every_frame_and_stitch_files(fitted, tmp_path):
    video, result = fitted
    out = edit_video(result.output, video, tmp_path / "edited", "20,10,16,12")
    assert out.frames == 24 and len(list(open_reader(tmp_path / "edited"))) == 24
    names = []
    for i in (0, 4):
        path = tmp_path / f"edited/frame_{i:06d}.png"
        names.append(path)
    assert stitch_images(result.output, names, tmp_path / "wide.png") == (48, 128)
    with pytest.raises(BadInputError, match="two frames or more"):
        stitch_images(result.output, names[:1], tmp_path / "one.png")


def test_an_inserted_patch_keeps_its_inside_and_loses_its_edge(fitted, tmp_path):
    video, result = fitted
    net = load_video_model(result.output).net
    frames = [f.image for f in open_reader(video)]
    patch = frames[4][:, 20:36, 24:44]  # the square's place in frame 4 (it is elsewhere in frame 0)
    out = insert(net, frames[0], patch, 6, 6, band=3)[0]
    assert torch.equal(out[:, 9:19, 9:23], patch[:, 3:13, 3:17])  # inside the band: the patch itself
    assert torch.equal(out[:, 30:, 40:], frames[0][:, 30:, 40:])  # away from it: the frame
    naive = frames[0].clone()
    naive[:, 6:22, 6:26] = patch
    edge = lambda im: (im[:, 6:22, 26] - im[:, 6:22, 25]).pow(2).mean() + (im[:, 22, 6:26] - im[:, 21, 6:26]).pow(2).mean()  # noqa: E731
    assert edge(out) < edge(naive)
    written = insert_frame(result.output, video, tmp_path / "ins.png", "4:24,20,20,16", "0:6,6")
    saved = from_hwc(read_image(tmp_path / "ins.png"))[0]
    assert written.frames == 1 and torch.equal(saved[:, 10:18, 10:22], patch[:, 4:12, 4:16])  # the default band: 4
    with pytest.raises(BadInputError, match="lies outside the 64x48 frame"):
        insert_frame(result.output, video, tmp_path / "bad.png", "4:24,20,20,16", "0:50,6")
    with pytest.raises(BadInputError, match="FRAME:X,Y"):
        insert_frame(result.output, video, tmp_path / "bad.png", "4:24,20,20,16", "6,6")
