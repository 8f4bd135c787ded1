import json

import pytest

from kinema.pipelines.batch.plan import Task, clean_partials, duplicates, is_complete, read_manifest, walk
from kinema.types import BadInputError
from tests.media import make_video

VIDEOS = {".mp4", ".mov"}


def test_walk_mirrors_the_tree_and_leaves_out_other_and_hidden_files(tmp_path):
    src = tmp_path / "in"
    for name in ("a.mp4", "sub/b.MOV", "sub/deeper/c.mp4", "notes.txt", ".hidden.mp4", ".cache/d.mp4"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(b"x")
    out = tmp_path / "out"
    tasks = walk(src, out, suffixes=VIDEOS, suffix=".mkv")
    assert [(t.source.relative_to(src.resolve()).as_posix(), t.output.relative_to(out.resolve()).as_posix()) for t in tasks] == [
        ("a.mp4", "a.mkv"),
        ("sub/b.MOV", "sub/b.mkv"),
        ("sub/deeper/c.mp4", "sub/deeper/c.mkv"),
    ]
    only = walk(src, out, suffixes=VIDEOS, suffix=".mkv", include="sub/*/*.mp4")
    assert [t.source.name for t in only] == ["c.mp4"]
    with pytest.raises(BadInputError, match="must not contain"):
        walk(src, src / "out", suffixes=VIDEOS, suffix=".mp4")


def test_manifests_resolve_relative_paths(tmp_path):
    (tmp_path / "clips").mkdir()
    (tmp_path / "list.csv").write_text("input,output\nclips/a.mp4,\nclips/b.mov,special/name.gif\n")
    (tmp_path / "list.jsonl").write_text(json.dumps({"input": "clips/a.mp4"}) + "\n\n" + json.dumps({"input": "/elsewhere/z.mp4"}) + "\n")
    out = tmp_path / "out"
    csv_tasks = read_manifest(tmp_path / "list.csv", out, suffix=".mp4")
    assert csv_tasks == [
        Task(tmp_path.resolve() / "clips/a.mp4", out.resolve() / "clips/a.mp4"),
        Task(tmp_path.resolve() / "clips/b.mov", out.resolve() / "special/name.gif"),
    ]
    jsonl = read_manifest(tmp_path / "list.jsonl", out, suffix=".mkv")
    assert [t.output.relative_to(out.resolve()).as_posix() for t in jsonl] == ["clips/a.mkv", "z.mkv"]
    (tmp_path / "bad.jsonl").write_text('{"output": "x"}\n')
    with pytest.raises(BadInputError, match="entry 1 has no 'input'"):
        read_manifest(tmp_path / "bad.jsonl", out, suffix=".mp4")
    assert duplicates([Task(tmp_path / "a.mov", out / "a.mp4"), Task(tmp_path / "a.mkv", out / "a.mp4")])


def test_complete_outputs_and_partials(tmp_path):
    video = make_video(tmp_path / "v.mp4", 5)
    assert is_complete(video)
    truncated = tmp_path / "t.mp4"
    truncated.write_bytes(video.read_bytes()[:200])
    assert not is_complete(truncated) and not is_complete(tmp_path / "missing.mp4")
    partial = tmp_path / "sub" / ".v.kinema-4242-0123abcd.part.mp4"
    partial.parent.mkdir()
    partial.write_bytes(b"half")
    keep = tmp_path / ".v.mp4.kinema-chunks-0123456789ab"
    keep.mkdir()
    (keep / "part-00000.nut").write_bytes(b"done")
    assert clean_partials(tmp_path) == 1
    assert not partial.exists() and (keep / "part-00000.nut").exists() and video.exists()


def test_folders_of_images_are_sequences_but_a_poster_beside_videos_is_not(tmp_path):
    src = tmp_path / "in"
    for name in ("shots/a/0001.png", "shots/a/0002.png", "shots/a/0003.png", "films/x.mp4", "films/poster.jpg", "films/one/only.png"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(b"x")
    out = tmp_path / "out"
    tasks = walk(src, out, suffixes=VIDEOS, suffix=".mp4", sequences=True)
    assert [(t.source.relative_to(src.resolve()).as_posix(), t.output.relative_to(out.resolve()).as_posix()) for t in tasks] == [
        ("films/x.mp4", "films/x.mp4"),
        ("shots/a", "shots/a.mp4"),
    ]
    assert [t.source.name for t in walk(src, out, suffixes=VIDEOS, suffix=".mp4")] == ["x.mp4"]  # sequences off
