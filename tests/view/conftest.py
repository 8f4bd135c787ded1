"""Media for kinema view's tests, made in code: two videos with the same timing, a
snapshot, a preview sheet, and the session's vsae model with its video."""

import numpy as np
import pytest

from kinema.engines.spec import AverageSpec
from kinema.pipelines.snapshot import EmbedConfig, embed, load_model, preview
from kinema.view.catalog import Catalog, Limits
from tests.media import make_video, smooth


@pytest.fixture(scope="session")
def media(tmp_path_factory, fitted):
    folder = tmp_path_factory.mktemp("view")
    a = make_video(folder / "a.mp4", 12, size=(48, 64), codec="libx264rgb", pix_fmt="rgb24", options={"crf": "0"})
    # b: a's frames with a brighter band from frame 6 on, so its PSNR against a drops there.
    images = [smooth(i, 48, 64) for i in range(12)]
    for i in range(6, 12):
        images[i] = images[i].copy()
        images[i][10:20] = np.clip(images[i][10:20].astype(int) + 60, 0, 255).astype(np.uint8)
    b = make_video(folder / "b.mp4", 12, size=(48, 64), images=images, codec="libx264rgb", pix_fmt="rgb24", options={"crf": "0"})
    net, digest = load_model("snapshot-5")
    clip = make_video(folder / "clip.mp4", 16, size=(32, 48))
    snap = embed(clip, folder / "snap.png", EmbedConfig(refine=0), model="snapshot-5", net=net, digest=digest).output
    sheet = preview(clip, folder / "sheet.png", EmbedConfig(refine=0), count=4, model="snapshot-5", net=net, digest=digest).output
    video, model = fitted
    return {"a": a, "b": b, "snap": snap, "sheet": sheet, "video": video, "model": model.output, "folder": folder}


def loaded(catalog: Catalog) -> Catalog:
    """``catalog`` with every item loaded (as the server's start-up jobs do)."""
    for _, work in catalog.loads():
        work(lambda share: None)
    return catalog


@pytest.fixture(scope="session")
def everything(media):
    """One catalogue of every kind of item, loaded: i0 a.mp4, i1 b.mp4 (pair p0), i2 the
    snapshot, i3 the sheet, i4 the model."""
    catalog = Catalog.build([media["snap"], media["sheet"], media["model"]], videos_for_models=[media["video"]], compare=(media["a"], media["b"]), limits=Limits(max_pending=2))
    return loaded(catalog)


ENGINE = AverageSpec()
