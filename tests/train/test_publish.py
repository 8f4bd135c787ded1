import json

import torch

from kinema.models.interp import InterpConfig, InterpNet
from kinema.train.publish import main


def test_publish_records_the_benchmark_row_and_keeps_the_tensors(tmp_path):
    torch.manual_seed(0)
    net = InterpNet(InterpConfig.tiny())
    source = net.save(tmp_path / "run.safetensors", steps=7)
    table = {"machine": "test box", "limit": None, "rows": {"**learned**": {"middlebury": {"psnr": 34.9, "ssim": 0.95, "count": 12}}}}
    (tmp_path / "m.json").write_text(json.dumps(table))
    main([str(source), str(tmp_path / "shipped.safetensors"), "--metrics", str(tmp_path / "m.json")])
    loaded, meta = InterpNet.load(tmp_path / "shipped.safetensors")
    assert meta["steps"] == 7 and meta["metrics"]["middlebury"]["psnr"] == 34.9 and meta["metrics"]["machine"] == "test box"
    for p, q in zip(net.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(p, q)


def test_publish_takes_the_dither_classifier(tmp_path):
    from kinema.models.gif2video.classifier import DitherNet
    from kinema.models.gif2video.config import DitherConfig

    torch.manual_seed(0)
    net = DitherNet(DitherConfig.tiny())
    source = net.save(tmp_path / "dither.safetensors", steps=3)
    table = {"machine": "test box", "rows": {"dither": {"held_out_gifs": [24, 24]}}}
    (tmp_path / "m.json").write_text(json.dumps(table))
    main([str(source), str(tmp_path / "shipped.safetensors"), "--metrics", str(tmp_path / "m.json"), "--row", "dither"])
    loaded, meta = DitherNet.load(tmp_path / "shipped.safetensors")
    assert meta["metrics"]["held_out_gifs"] == [24, 24]
    for p, q in zip(net.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(p, q)
