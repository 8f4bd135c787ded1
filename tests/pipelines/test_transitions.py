"""The detector's pipeline: windows stitched over a stream, probabilities decoded, sheets."""

from fractions import Fraction

import numpy as np
import pytest
import torch
from PIL import Image

from kinema.models.transitions import TransitionConfig, TransitionNet
from kinema.pipelines import transitions as tr
from kinema.pipelines.transitions import Scan, Transition, decode, scan, write_sheet
from kinema.types import BadInputError, Frame
from kinema.train.transitions import run_net
from tests.media import make_video


def _frames(pixels: np.ndarray) -> list[Frame]:
    return [Frame.decoded(p, pts=Fraction(i, 25), duration=Fraction(1, 25), index=i) for i, p in enumerate(pixels)]


def test_overlapping_windows_give_what_one_call_over_the_whole_stream_gives(monkeypatch):
    torch.manual_seed(0)
    config = TransitionConfig.tiny()
    net = TransitionNet(config).eval()
    monkeypatch.setattr(tr, "CHUNK", 17)  # many windows, and a short last one
    pixels = np.random.default_rng(0).integers(0, 256, (100, config.height, config.width, 3), dtype=np.uint8)
    result = scan(_frames(pixels), net)
    whole = run_net(net, torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255)
    assert result.probabilities.shape == (100, 5)
    np.testing.assert_allclose(result.probabilities, whole.probabilities, atol=1e-5)
    assert result.times[3] == (Fraction(3, 25), Fraction(4, 25))


def test_a_stream_with_no_frame_is_refused():
    with pytest.raises(BadInputError, match="no frames"):
        scan([], TransitionNet(TransitionConfig.tiny()))


def _scan(p: np.ndarray, flat: np.ndarray | None = None) -> Scan:
    n = len(p)
    return Scan(p.astype(np.float32), np.ones(n, np.float32) if flat is None else flat, [(Fraction(i), Fraction(i + 1)) for i in range(n)])


def test_decoding_finds_cut_peaks_and_gradual_runs():
    p = np.zeros((40, 5))
    p[:, 0] = 1
    p[10] = [0.2, 0.8, 0, 0, 0]  # a cut
    p[11] = [0.4, 0.6, 0, 0, 0]  # beside a stronger peak: the same cut
    p[20:26] = [0.1, 0, 0.3, 0.3, 0.3]  # a gradual run
    p[30] = [0.4, 0, 0.6, 0, 0]  # one frame alone is not a gradual transition
    found = decode(_scan(p), merge=0)
    assert [(t.kind, t.first, t.last) for t in found] == [("cut", 10, 10), ("dissolve", 20, 25)]
    assert [(t.first, t.last) for t in decode(_scan(p), merge=4)][1] == (20, 30)  # the lone frame joins the run
    assert found[0].start == 10 and found[1].end == 26 and found[0].confidence == pytest.approx(0.8)
    flat = np.ones(40, np.float32)
    flat[23] = 0.01  # a uniform frame inside: a fade
    assert [t.kind for t in decode(_scan(p, flat), merge=0)] == ["cut", "fade"]


def test_pairs_split_by_a_cut_and_blended_inside_a_dissolve():
    cut = Transition("cut", 10, 10, Fraction(0), Fraction(0), 1.0)
    assert cut.splits(9, 10) and cut.splits(8, 12) and not cut.splits(10, 11) and not cut.splits(8, 9)
    dissolve = Transition("dissolve", 20, 25, Fraction(0), Fraction(0), 1.0)
    assert dissolve.blends(19, 20) and dissolve.blends(22, 23) and dissolve.blends(25, 26)
    assert not dissolve.blends(18, 19) and not dissolve.blends(26, 27) and not cut.blends(9, 10)
    assert dissolve.splits(18, 27) and not dissolve.splits(19, 21)


def test_the_contact_sheet_shows_one_row_per_transition(tmp_path):
    video = make_video(tmp_path / "in.mp4", 30, size=(32, 48))
    found = [Transition("cut", 10, 10, Fraction(10, 25), Fraction(11, 25), 0.9), Transition("dissolve", 15, 27, Fraction(15, 25), Fraction(28, 25), 0.8)]
    sheet = write_sheet(video, found, tmp_path / "sheet.png")
    image = Image.open(sheet)
    assert image.width == tr.SHEET_TILES * tr.SHEET_WIDTH
    row = image.height // 2
    assert image.height == 2 * row and row > tr.SHEET_WIDTH * 32 // 48
    assert tr.sheet_frames(found[0], 30) == [8, 9, 10, 11, 12]
    frames = tr.sheet_frames(found[1], 30)
    assert frames[:2] == [13, 14] and frames[-2:] == [28, 29] and len(frames) == tr.SHEET_TILES
    with pytest.raises(BadInputError):
        write_sheet(video, [], tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()


# ---- the shipped detector on transitions made in code ---------------------------------------
def _scene(i: int, shot: int, h: int = 72, w: int = 128) -> np.ndarray:
    """Two different random textures, each drifting a pixel a frame (one right, one down).
    (Not a drifting sinusoid: a moving sinusoid *is* a cross-fade of two fixed ones.)"""
    from tests.media import texture

    scene = texture(h + 80, w + 80, seed=11 + shot, cell=8)[0].permute(1, 2, 0).numpy()
    tint = np.array([1.0, 0.8, 0.5]) if shot == 0 else np.array([0.5, 0.8, 1.0])  # a warm and a cool scene
    scene = ((scene - 0.5) * 2.5 + 0.5).clip(0, 1) * tint * 255  # the contrast of real footage
    y, x = (0, i) if shot == 0 else (i, 0)
    return scene[y : y + h, x : x + w].astype(np.float32)


def _detect(images: list[np.ndarray]) -> list[tuple[str, int, int]]:
    frames = _frames(np.stack([im.clip(0, 255).round().astype(np.uint8) for im in images]))
    return [(t.kind, t.first, t.last) for t in tr.detect(frames)]


def test_the_shipped_detector_finds_a_cut_at_its_frame():
    assert _detect([_scene(i, 0 if i < 30 else 1) for i in range(60)]) == [("cut", 30, 30)]


def test_the_shipped_detector_finds_a_dissolve_over_its_frames():
    images = []
    for i in range(70):
        alpha = min(max((i - 24) / 13, 0), 1)  # frames 25–36 mixed
        images.append((1 - alpha) * _scene(i, 0) + alpha * _scene(i, 1))
    (kind, first, last), *rest = _detect(images)
    # Where a slow dissolve ends is the least certain frame: the end may come late.
    assert not rest and kind == "dissolve" and abs(first - 25) <= 2 and 0 <= last - 36 <= 4


def test_the_shipped_detector_finds_a_fade_through_black():
    images = []
    for i in range(70):
        out, into = min(max((i - 19) / 9, 0), 1), min(max((i - 31) / 9, 0), 1)  # 20–27 out, 28–31 black, 32–39 in
        images.append(_scene(i, 0) * (1 - out) if i < 30 else _scene(i, 1) * into)
    (kind, first, last), *rest = _detect(images)
    assert not rest and kind == "fade" and abs(first - 20) <= 2 and abs(last - 39) <= 2


def test_a_fast_pan_is_not_a_cut():
    """A texture moving 14 pixels a frame (a whip pan at this size) is one shot."""
    from tests.media import texture

    scene = (texture(72, 1400, seed=3, cell=10)[0].permute(1, 2, 0).numpy() * 255).astype(np.float32)
    images = [scene[:, 14 * i : 14 * i + 128] for i in range(60)]
    assert _detect(images) == []
