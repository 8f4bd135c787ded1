import pytest
import torch

from kinema.engines.gif2video import GifRestorer, count_colors
from kinema.models.gif2video import CCDNet, CCDNetConfig, DitherConfig, DitherNet
from kinema.types import BadInputError


def _restorer(levels=(32, 128), dithered_levels=(64,), classifier=True):
    models = [CCDNet(CCDNetConfig.tiny(colors=c)) for c in levels]
    models += [CCDNet(CCDNetConfig.tiny(colors=c, dithered=True)) for c in dithered_levels]
    return GifRestorer(models, DitherNet(DitherConfig.tiny()) if classifier else None)


@pytest.mark.parametrize(("colors", "level"), [(2, 32), (40, 32), (64, 32), (65, 128), (100, 128), (256, 128)])
def test_nearest_palette_level_on_a_log_scale(colors, level):
    assert _restorer().pick(False, colors).config.colors == level


def test_kind_without_models_falls_back_to_the_other_kind():
    r = _restorer(dithered_levels=())
    assert not r.pick(True, 32).config.dithered
    assert r.pick(False, 200).config.colors == 128


def test_no_classifier_is_undecided():
    assert _restorer(classifier=False).dither_probability([torch.rand(3, 8, 8)]) == 0.5


def test_restore_keeps_the_frame_size_and_counts_colours():
    r = _restorer()
    frame = torch.rand(3, 19, 23)
    out = r.restore(frame, r.pick(False, 32))
    assert out.shape == frame.shape
    assert torch.allclose(out, frame)  # untrained: the identity
    assert count_colors(torch.zeros(3, 4, 4)) == 1


def test_folder_without_weights_is_a_clear_error(tmp_path):
    with pytest.raises(BadInputError, match="no GIF restoration weights"):
        GifRestorer.from_folder(tmp_path)


def test_folder_loading(tmp_path):
    CCDNet(CCDNetConfig.tiny(colors=64)).save(tmp_path / "gif-flat-64.safetensors")
    DitherNet(DitherConfig.tiny()).save(tmp_path / "dither.safetensors")
    r = GifRestorer.from_folder(tmp_path)
    assert r.levels(False) == [64] and r.classifier is not None
