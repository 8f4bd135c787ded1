"""``kinema vsae`` as a user meets it."""

from PIL import Image

from kinema.io.probe import probe
from tests.cli.test_main import one_error_line, run
from tests.media import make_video, smooth


def test_fit_then_map_summary_loop_retime(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 16, size=(24, 32), images=[smooth(i, 24, 32) for i in range(16)])
    model = tmp_path / "a.safetensors"
    code, _, err = run(capsys, "vsae", "fit", src, model, "--epochs", 3, "--width", 4, "-q")
    assert code == 0 and "16 frames at 32x24, 6 steps (3 epochs)" in err and "reconstruction" in err
    code, _, err = run(capsys, "vsae", "map", model, src, tmp_path / "map.png", "--clusters", 2)
    assert code == 0 and "and 2 cluster sheets: 16 frames" in err
    assert Image.open(tmp_path / "map-cluster-2.png").format == "PNG"
    code, _, err = run(capsys, "vsae", "summary", model, src, tmp_path / "s.png", "--segments", 2)
    assert code == 0 and "2 summaries" in err
    code, _, err = run(capsys, "vsae", "loop", model, src, tmp_path / "loop.mp4", "--seconds", 1, "--min-gap", 4, "-q")
    assert code == 0 and probe(tmp_path / "loop.mp4").frame_count == 25
    code, _, err = run(capsys, "vsae", "retime", model, src, tmp_path / "x4.mp4", "--factor", 4, "-q")
    assert code == 0 and probe(tmp_path / "x4.mp4").frame_count == 64


def test_errors_are_one_line(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 8, size=(24, 32))
    other = make_video(tmp_path / "b.mp4", 8, size=(24, 32), images=[smooth(i + 5, 24, 32) for i in range(8)])
    model = tmp_path / "a.safetensors"
    code, _, err = run(capsys, "vsae", "fit", src, model, "--epochs", 1, "--width", 4, "-q")
    assert code == 0
    code, _, err = run(capsys, "vsae", "retime", model, other, tmp_path / "o.mp4", "--factor", 2)
    assert code == 1 and "was fit on a.mp4" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "fit", src, tmp_path / "m.pt")
    assert code == 1 and "written as .safetensors" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "map", src, src, tmp_path / "m.png")
    assert code == 1 and one_error_line(err)  # a video is not a model
    code, _, err = run(capsys, "vsae", "loop", model, src, tmp_path / "l.mp4", "--seconds", 0)
    assert code == 2 and "seconds must be positive" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "map", model, src, tmp_path / "m.jpg")
    assert code == 1 and "written as .png" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "map", model, src, tmp_path / "m.png", "--clusters", 9)
    assert code == 1 and "cannot make 9 clusters of 8 frames" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "summary", model, src, tmp_path / "m.png", "--segments", 0)
    assert code == 2 and "--segments must be ≥ 1" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "fit", src, tmp_path / "m.safetensors", "--device", "cuda")
    assert code == 2 and "--device" in one_error_line(err)


def test_upscale_small_frames_and_refuse_the_wrong_size(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 8, size=(24, 32), images=[smooth(i, 24, 32) for i in range(8)])
    model = tmp_path / "a.safetensors"
    code, _, err = run(capsys, "vsae", "fit", src, model, "--epochs", 2, "--width", 4, "--multi-res", "-q")
    assert code == 0
    small = make_video(tmp_path / "small.mp4", 3, size=(6, 8))
    code, _, err = run(capsys, "vsae", "upscale", model, small, tmp_path / "big.mp4", "--scale", 4, "--reproject", 1, "-q")
    assert code == 0 and "3 frames at 32x24 (4x)" in err
    info = probe(tmp_path / "big.mp4")
    assert (info.width, info.height, info.frame_count) == (32, 24, 3)
    code, _, err = run(capsys, "vsae", "upscale", model, small, tmp_path / "big2.mp4", "--scale", 2)
    assert code == 1 and "2x upscaling needs frames of 16x12, got 8x6" in one_error_line(err)
    assert not (tmp_path / "big2.mp4").exists()
    code, _, err = run(capsys, "vsae", "upscale", model, small, tmp_path / "big3.mp4", "--scale", 0)
    assert code == 2 and "scale must be ≥ 1" in one_error_line(err)


def test_propagate_a_mask_and_refuse_one_of_the_wrong_size(tmp_path, capsys):
    import numpy as np

    src = make_video(tmp_path / "a.mp4", 6, size=(24, 32), images=[smooth(i, 24, 32) for i in range(6)])
    model = tmp_path / "a.safetensors"
    assert run(capsys, "vsae", "fit", src, model, "--epochs", 1, "--width", 4, "-q")[0] == 0
    mask = np.zeros((24, 32), np.uint8)
    mask[8:16, 10:20] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    code, _, err = run(capsys, "vsae", "propagate", model, src, tmp_path / "masks", "--mask", tmp_path / "m.png", "-q")
    assert code == 0 and "1 labels over 6 frames" in err
    assert len(list((tmp_path / "masks").glob("*.png"))) == 6
    Image.fromarray(mask[:20]).save(tmp_path / "short.png")
    code, _, err = run(capsys, "vsae", "propagate", model, src, tmp_path / "m2", "--mask", tmp_path / "short.png")
    assert code == 1 and "the mask is 32x20; the video is 32x24" in one_error_line(err)
    assert not (tmp_path / "m2").exists()
    code, _, err = run(capsys, "vsae", "propagate", model, src, tmp_path / "m3.mp4", "--mask", tmp_path / "m.png")
    assert code == 1 and "ffv1" in one_error_line(err)  # FFV1 (lossless, the default) does not go in .mp4


def test_edit_and_stitch_from_the_command_line(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 6, size=(24, 32), images=[smooth(i, 24, 32) for i in range(6)])
    model = tmp_path / "a.safetensors"
    assert run(capsys, "vsae", "fit", src, model, "--epochs", 1, "--width", 4, "-q")[0] == 0
    code, _, err = run(capsys, "vsae", "edit", model, src, tmp_path / "f2.png", "--remove", "4,4,8,6", "--frame", 2, "-q")
    assert code == 0 and "1 frames, 15.6 % of each removed" in err  # 8x6, grown by 2 pixels each side
    code, _, err = run(capsys, "vsae", "edit", model, src, tmp_path / "bad.png", "--remove", "30,4,8,6", "--frame", 2)
    assert code == 1 and "lies outside the 32x24 frame" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "stitch", model, tmp_path / "f2.png", tmp_path / "f2.png", tmp_path / "wide.png")
    assert code == 0 and "64x24" in err and Image.open(tmp_path / "wide.png").size == (64, 24)
    code, _, err = run(capsys, "vsae", "stitch", model, tmp_path / "f2.png", tmp_path / "ext.png", "--extend", "48,32")
    assert code == 0 and Image.open(tmp_path / "ext.png").size == (48, 32)
    code, _, err = run(capsys, "vsae", "stitch", model, tmp_path / "f2.png", tmp_path / "x.png", "--extend", "nope")
    assert code == 2 and "not a size" in one_error_line(err)


def test_edit_insert_and_its_option_errors(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 6, size=(24, 32), images=[smooth(i, 24, 32) for i in range(6)])
    model = tmp_path / "a.safetensors"
    assert run(capsys, "vsae", "fit", src, model, "--epochs", 1, "--width", 4, "-q")[0] == 0
    code, _, err = run(capsys, "vsae", "edit", model, src, tmp_path / "ins.png", "--insert", "5:2,2,10,8", "--at", "0:16,10")
    assert code == 0 and "wrote" in err and Image.open(tmp_path / "ins.png").size == (32, 24)
    code, _, err = run(capsys, "vsae", "edit", model, src, tmp_path / "x.png", "--insert", "5:2,2,10,8")
    assert code == 2 and "--insert and --at go together" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "edit", model, src, tmp_path / "x.png")
    assert code == 2 and "give --remove, or --insert with --at" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "edit", model, src, tmp_path / "x.png", "--insert", "9:2,2,10,8", "--at", "0:16,10")
    assert code == 1 and "frame 9 is not in the video (0 … 5)" in one_error_line(err)


def test_pack_unpack_and_their_errors(tmp_path, capsys):
    from kinema.cli.vsae.transmit import BetweenName
    from kinema.pipelines.vsae.packed import Between

    assert [b.value for b in BetweenName] == [b.value for b in Between]
    src = make_video(tmp_path / "a.mp4", 9, size=(24, 32), images=[smooth(i, 24, 32) for i in range(9)])
    model = tmp_path / "a.safetensors"
    assert run(capsys, "vsae", "fit", src, model, "--epochs", 1, "--width", 4, "-q")[0] == 0
    code, _, err = run(capsys, "vsae", "pack", model, src, tmp_path / "a.kvae", "--keep-every", 4, "--bits", 8)
    assert code == 0 and "for 3 of 9 frames" in err
    code, _, err = run(capsys, "vsae", "unpack", tmp_path / "a.kvae", tmp_path / "out.mp4", "--reproject", 1, "-q")
    assert code == 0 and "9 frames at 32x24 from 3 kept" in err
    assert probe(tmp_path / "out.mp4").frame_count == 9
    code, _, err = run(capsys, "vsae", "pack", model, src, tmp_path / "s.kvae", "--no-weights", "--frames-crf", 30)
    assert code == 0 and "(0 weights" in err
    code, _, err = run(capsys, "vsae", "unpack", tmp_path / "s.kvae", tmp_path / "o.mp4")
    assert code == 1 and "name the model it was packed with (--model)" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "unpack", tmp_path / "s.kvae", tmp_path / "o.mp4", "--model", model, "--between", "latent", "-q")
    assert code == 0
    blob = (tmp_path / "a.kvae").read_bytes()
    (tmp_path / "cut.kvae").write_bytes(blob[: len(blob) // 2])
    code, _, err = run(capsys, "vsae", "unpack", tmp_path / "cut.kvae", tmp_path / "c.mp4")
    assert code == 1 and "truncated" in one_error_line(err) and not (tmp_path / "c.mp4").exists()
    code, _, err = run(capsys, "vsae", "unpack", src, tmp_path / "c.mp4")
    assert code == 1 and "not a kinema packed video" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "pack", model, src, tmp_path / "b.kvae", "--bits", 4)
    assert code == 2 and "bits must be 8 or 16" in one_error_line(err) and not (tmp_path / "b.kvae").exists()
    code, _, err = run(capsys, "vsae", "unpack", tmp_path / "a.kvae", tmp_path / "c.mp4", "--between", "nearest")
    assert code == 2


def test_a_collection_is_fit_as_one_and_its_map_recovers_the_videos(tmp_path, capsys):
    from tests.media import orbit

    a = make_video(tmp_path / "a.mp4", 8, size=(24, 32), images=[orbit(i, 24, 32) for i in range(8)])
    b = make_video(tmp_path / "b.mp4", 6, size=(36, 32), images=[255 - orbit(i, 36, 32) for i in range(6)])
    model = tmp_path / "ab.safetensors"
    code, _, err = run(capsys, "vsae", "fit", a, b, model, "--epochs", 3, "--width", 4, "-q")
    assert code == 0 and "14 frames at 32x24" in err  # b's other shape scaled to a's working size
    code, _, err = run(capsys, "vsae", "map", model, a, b, tmp_path / "map.png", "--clusters", 2)
    assert code == 0 and "14 frames" in err and "recover the 2 videos with purity" in err  # the score: the benchmark's
    assert Image.open(tmp_path / "map.png").format == "PNG" and (tmp_path / "map-cluster-2.png").is_file()
    code, _, err = run(capsys, "vsae", "map", model, b, a, tmp_path / "map2.png")
    assert code == 1 and "the same videos, in the same order" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "map", model, a, tmp_path / "map3.png")
    assert code == 1 and "was fit on 2 videos (a.mp4, b.mp4)" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "fit", a, a, tmp_path / "aa.safetensors", "--epochs", 1)
    assert code == 1 and "given twice" in one_error_line(err)
    code, _, err = run(capsys, "vsae", "fit", a)
    assert code == 2 and "then the output" in one_error_line(err)


def test_a_learned_path_for_retime_and_loop(tmp_path, capsys):
    src = make_video(tmp_path / "a.mp4", 12, size=(24, 32), images=[smooth(i, 24, 32) for i in range(12)])
    other = make_video(tmp_path / "b.mp4", 12, size=(24, 32), images=[smooth(i + 3, 24, 32) for i in range(12)])
    model, model_b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    for video, m in ((src, model), (other, model_b)):
        assert run(capsys, "vsae", "fit", video, m, "--epochs", 2, "--width", 4, "-q")[0] == 0
    code, _, err = run(capsys, "vsae", "path", model, src, tmp_path / "p.safetensors", "--steps", 5, "-q")
    assert code == 0 and "dB along the path" in err and "along the straight line" in err
    assert not (tmp_path / "p.fit-state").exists()  # the working state goes when the fit is done
    code, _, err = run(capsys, "vsae", "retime", model, src, tmp_path / "x2.mp4", "--factor", 2, "--path", tmp_path / "p.safetensors", "-q")
    assert code == 0 and probe(tmp_path / "x2.mp4").frame_count == 24
    code, _, err = run(capsys, "vsae", "loop", model, src, tmp_path / "l.mp4", "--seconds", 1, "--min-gap", 4, "--path", tmp_path / "p.safetensors", "-q")
    assert code == 0
    code, _, err = run(capsys, "vsae", "retime", model_b, other, tmp_path / "y.mp4", "--factor", 2, "--path", tmp_path / "p.safetensors")
    assert code == 1 and "a latent path for another model" in one_error_line(err) and not (tmp_path / "y.mp4").exists()
    code, _, err = run(capsys, "vsae", "retime", model, src, tmp_path / "y.mp4", "--factor", 2, "--path", tmp_path / "p.safetensors", "--geodesic", 3)
    assert code == 2 and "choose one" in one_error_line(err)
