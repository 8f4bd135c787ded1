"""The batch runner on real worker processes (and a real local Ray)."""

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from kinema.engines.classical import ClassicalConfig
from kinema.engines.learned import LearnedConfig
from kinema.engines.spec import ClassicalSpec, LearnedSpec
from kinema.io import OutputOptions, VideoCodec, VideoOptions
from kinema.io.probe import probe
from kinema.io.video import VideoReader
from kinema.pipelines.batch import ConvertJob, InterpolateJob, LocalPool, read_manifest, run_batch, walk
from kinema.pipelines.batch.runner import LoadError
from kinema.pipelines.convert import ConvertConfig
from kinema.pipelines.interpolate import InterpolateConfig, interpolate_video
from tests.media import audio_packets, make_video
from tests.pipelines.batch.dying_job import DyingJob

FAST = ClassicalSpec(ClassicalConfig.fast())


def _rows(report: Path) -> list[dict]:
    return [json.loads(line) for line in report.read_text().splitlines()]


def _decoded(path: Path) -> list[tuple]:
    """Every frame's timing and exact pixels (8-bit), to compare outputs across pools."""
    return [(f.pts, f.duration, (f.image * 255).round().to(torch.uint8).numpy().tobytes()) for f in VideoReader(path)]


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".kinema-" in p.name]


def test_failures_are_recorded_and_a_rerun_skips_what_is_complete(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    (src / "sub").mkdir(parents=True)
    make_video(src / "a.mp4", 6)
    make_video(src / "sub" / "b.mp4", 4, audio=True)
    (src / "broken.mp4").write_bytes(b"\x00" * 500)
    job = ConvertJob(ConvertConfig(), suffix=".mkv")
    tasks = walk(src, out, suffixes=job.inputs, suffix=job.suffix)
    report = tmp_path / "report.jsonl"
    first = run_batch(tasks, job, LocalPool(job, workers=2), report=report, output_dir=out)
    assert (first.done, first.skipped, first.failed) == (2, 0, 1)
    rows = {Path(r["input"]).name: r for r in _rows(report)}
    assert rows["broken.mp4"]["status"] == "failed" and "not a readable video" in rows["broken.mp4"]["reason"]
    assert rows["b.mp4"]["frames"] == 4 and rows["b.mp4"]["audio"] is True
    assert probe(out / "sub" / "b.mkv").frame_count == 4
    # A damaged output is made again; complete ones are skipped.
    (out / "a.mkv").write_bytes(b"damaged")
    second = run_batch(tasks, job, LocalPool(job, workers=1), report=report, output_dir=out)
    assert (second.done, second.skipped, second.failed) == (1, 1, 1)
    assert probe(out / "a.mkv").frame_count == 6
    assert len(_rows(report)) == 6 and not _leftovers(out)


def test_workers_that_cannot_load_the_job_stop_the_batch(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    make_video(src / "a.mp4", 3)
    job = InterpolateJob(InterpolateConfig(factor=2), LearnedSpec(tmp_path / "missing.safetensors", LearnedConfig.fast()))
    with pytest.raises(LoadError, match="could not load"):
        run_batch(walk(src, tmp_path / "out", suffixes=job.inputs, suffix=".mp4"), job, LocalPool(job, workers=1), report=tmp_path / "r.jsonl", output_dir=tmp_path / "out")


def _text_files(tmp_path: Path, count: int) -> list:
    src = tmp_path / "in"
    src.mkdir()
    for i in range(count):
        (src / f"f{i}.txt").write_text(str(i))
    return walk(src, tmp_path / "out", suffixes={".txt"}, suffix=".txt")


@pytest.mark.parametrize("deaths, status", [(1, "done"), (2, "failed")])
def test_a_file_whose_worker_dies_is_retried_once(tmp_path, deaths, status):
    job = DyingJob(deaths=deaths)
    tasks = _text_files(tmp_path, 1)
    summary = run_batch(tasks, job, LocalPool(job, workers=1), report=tmp_path / "r.jsonl", output_dir=tmp_path / "out")
    (row,) = _rows(tmp_path / "r.jsonl")
    assert row["status"] == status and getattr(summary, status) == 1
    if status == "done":
        assert row["attempts"] == 2 and (tmp_path / "out" / "f0.txt").read_text() == "0"
    else:
        assert "died twice" in row["reason"] and not (tmp_path / "out" / "f0.txt").exists()


def test_a_dead_ray_actor_is_replaced_and_its_file_retried(tmp_path):
    pytest.importorskip("ray")
    from kinema.pipelines.batch.ray_pool import RayPool

    job = DyingJob(deaths=1)
    summary = run_batch(_text_files(tmp_path, 3), job, RayPool(job, workers=2), report=tmp_path / "r.jsonl", output_dir=tmp_path / "out")
    assert summary.done == 3
    assert sorted(p.read_text() for p in (tmp_path / "out").glob("*.txt")) == ["0", "1", "2"]


def test_workers_that_always_die_stop_the_batch(tmp_path):
    job = DyingJob(deaths=10)
    with pytest.raises(LoadError, match="keep dying"):
        run_batch(_text_files(tmp_path, 4), job, LocalPool(job, workers=1), report=tmp_path / "r.jsonl", output_dir=tmp_path / "out")


def _batch_command(src: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "kinema.cli", "batch", "interpolate", str(src), str(out), "--factor", "4",
            "--engine", "classical", "--quality", "fast", "--workers", "2", "--threads", "1", "-q"]  # fmt: skip


def _children(pid: int) -> list[int]:
    """Worker processes of ``pid`` (multiprocessing's spawned children, not its helpers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
                found.append(int(entry.name))
    return found


def _wait_for_first_output(out: Path, process: subprocess.Popen, tasks: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        report = out / "kinema-batch.jsonl"
        if report.exists() and report.read_text().count('"done"') >= 1:
            assert report.read_text().count("\n") < tasks, "the batch finished before it could be killed"
            return
        time.sleep(0.05)
    raise AssertionError("the batch made nothing")


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(8):
        make_video(src / f"clip{i}.mp4", 24, size=(96, 128), audio=i % 2 == 0)
    return src


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds worker processes through /proc")
def test_workers_die_with_a_killed_driver_and_finish_nothing_after_it(folder, tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen(_batch_command(folder, out), stderr=subprocess.PIPE, text=True)
    _wait_for_first_output(out, process, 8)
    workers = _children(process.pid)
    assert workers
    process.kill()  # the driver alone, as `kill -9 PID` does
    process.wait()
    killed = time.monotonic()
    outputs = {p.name for p in out.glob("*.mp4")}
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() - killed < 10:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "a worker outlived its driver"
    time.sleep(1)
    assert {p.name for p in out.glob("*.mp4")} == outputs  # nothing finished after the driver
    rerun = subprocess.run(_batch_command(folder, out), capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([f"clip{i}.mp4" for i in range(8)] + ["kinema-batch.jsonl"])


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds worker processes through /proc")
def test_sigkill_midway_then_rerun_leaves_every_output_complete_and_none_duplicated(folder, tmp_path):
    # 1. One worker killed: its file is retried on a fresh worker and the batch completes.
    out = tmp_path / "out"
    process = subprocess.Popen(_batch_command(folder, out), stderr=subprocess.PIPE, text=True)
    _wait_for_first_output(out, process, 8)
    workers = _children(process.pid)
    assert workers, "no worker process found"
    os.kill(workers[0], signal.SIGKILL)
    assert process.wait(timeout=180) == 0, process.stderr.read()
    rows = _rows(out / "kinema-batch.jsonl")
    assert sorted(Path(r["input"]).name for r in rows) == [f"clip{i}.mp4" for i in range(8)]
    assert {r["status"] for r in rows} == {"done"}

    # 2. The whole batch (driver and workers) killed, then run again.
    out2 = tmp_path / "out2"
    process = subprocess.Popen(_batch_command(folder, out2), stderr=subprocess.DEVNULL, start_new_session=True)
    _wait_for_first_output(out2, process, 8)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    finished = sorted(p.name for p in out2.glob("clip*.mp4"))  # (killed writers leave hidden temporaries)
    assert 1 <= len(finished) < 8
    for name in finished:  # what exists after the kill is whole
        assert probe(out2 / name).frame_count == 96
    rerun = subprocess.run(_batch_command(folder, out2), capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(finished)} already complete" in rerun.stderr
    for folder_out in (out, out2):
        outputs = sorted(p.name for p in folder_out.iterdir())
        assert outputs == sorted([f"clip{i}.mp4" for i in range(8)] + ["kinema-batch.jsonl"])  # no temporaries, no duplicates
        for i in range(8):
            info = probe(folder_out / f"clip{i}.mp4")
            assert info.frame_count == 96 and info.fps == 100
            assert (info.audio is not None) == (i % 2 == 0)


def test_ray_with_two_workers_makes_the_same_files_as_local_processes(tmp_path):
    pytest.importorskip("ray")
    from kinema.pipelines.batch.ray_pool import RayPool

    src = tmp_path / "in"
    src.mkdir()
    make_video(src / "long.mp4", 30, time_base=Fraction(1, 24), audio=True)
    for i in range(2):
        make_video(src / f"short{i}.mp4", 6 + i)
    (src / "list.jsonl").write_text("".join(json.dumps({"input": p}) + "\n" for p in ("long.mp4", "short0.mp4", "short1.mp4")))
    # The long clip is cut into parts, so parts and their join run on Ray too. Lossless
    # FFV1 makes "the same files" exact: libx264 in the PyAV wheel does not give the same
    # bytes twice for the same frames, even in one process with one thread.
    config = InterpolateConfig(factor=2, output=OutputOptions(video=VideoOptions(codec=VideoCodec.FFV1)))
    job = InterpolateJob(config, FAST, suffix=".mkv", chunk_frames=10)
    results, seen = {}, []
    for name, pool in (("local", LocalPool(job, workers=2)), ("ray", RayPool(job, workers=2))):
        out = tmp_path / name
        tasks = read_manifest(src / "list.jsonl", out, suffix=job.suffix)
        progress = (lambda done, total: seen.append((done, total))) if name == "local" else None
        summary = run_batch(tasks, job, pool, report=tmp_path / f"{name}.jsonl", output_dir=out, progress=progress)
        assert (summary.done, summary.failed) == (3, 0)
        results[name] = {p.name: _decoded(p) for p in out.glob("*.mkv")}
        assert not _leftovers(out)
    assert results["ray"].keys() == results["local"].keys() and len(results["ray"]) == 3
    for name, frames in results["ray"].items():
        assert frames == results["local"][name], name
    # The long clip's parts move the progress by a share of one file each.
    assert seen[-1] == (3, 3) and any(0 < done % 1 for done, _ in seen)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    parts = [r for r in _rows(tmp_path / "ray.jsonl") if r["input"].endswith("long.mp4")][0]
    assert parts["parts"] == 3
    # The joined long clip times and sounds like the clip made in one piece.
    whole = interpolate_video(src / "long.mp4", tmp_path / "whole.mkv", job.config, engine=FAST.build())
    joined = tmp_path / "ray" / "long.mkv"
    assert [f.pts for f in VideoReader(joined)] == [f.pts for f in VideoReader(tmp_path / "whole.mkv")]
    assert probe(joined).frame_count == whole.frames_out == 60
    assert audio_packets(joined) == audio_packets(tmp_path / "whole.mkv")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds worker processes through /proc")
def test_ctrl_c_stops_the_workers_at_once_and_leaves_nothing_half_written(folder, tmp_path):
    out = tmp_path / "out"
    # Ctrl-C in a terminal reaches the whole foreground process group.
    process = subprocess.Popen(_batch_command(folder, out), stderr=subprocess.PIPE, text=True, start_new_session=True)
    _wait_for_first_output(out, process, 8)
    workers = _children(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    started = time.monotonic()
    assert process.wait(timeout=60) == 130
    assert time.monotonic() - started < 10  # the files in progress were not finished first
    assert process.stderr.read().strip().splitlines()[-1] == "kinema: interrupted"
    assert workers and not any(Path(f"/proc/{pid}").exists() and b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes() for pid in workers)
    assert not _leftovers(out)
    for path in out.glob("clip*.mp4"):
        assert probe(path).frame_count == 96


def test_bare_cuda_goes_round_the_gpus():
    from kinema.pipelines.batch.runner import spread_device

    assert [spread_device("cuda", slot, 2) for slot in range(3)] == ["cuda:0", "cuda:1", "cuda:0"]
    assert spread_device("cuda", 3, 1) == "cuda" and spread_device("cuda:1", 0, 4) == "cuda:1" and spread_device("cpu", 1, 4) == "cpu"


def test_the_report_keeps_a_line_the_disk_refused_and_never_writes_half_of_one(tmp_path, monkeypatch):
    from kinema.pipelines.batch.runner import Report

    report = Report(tmp_path / "r.jsonl")
    report.write({"input": "a", "status": "done"})
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, data[:5]))  # a disk that fills mid-line
    report.write({"input": "b", "status": "done"})
    assert [json.loads(line)["input"] for line in (tmp_path / "r.jsonl").read_text().splitlines()] == ["a"]
    monkeypatch.setattr(os, "write", real)  # space again
    report.write({"input": "c", "status": "failed"})
    report.close()
    assert [json.loads(line)["input"] for line in (tmp_path / "r.jsonl").read_text().splitlines()] == ["a", "b", "c"]
