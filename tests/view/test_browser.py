"""kinema view in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright, against the app served on loopback. Each page loads with no console error and
does what it is for; screenshots are saved in each test's temp folder.

Without Chromium these tests skip, unless ``KINEMA_REQUIRE_BROWSER`` is set (CI sets it,
after installing the package), so that a missing browser fails there instead of hiding.
"""

import os
import shutil
import socket
import threading
import time

import pytest

from kinema.view.jobs import Jobs
from kinema.view.server import build_app
from tests.view.conftest import ENGINE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("KINEMA_REQUIRE_BROWSER"):
    pytest.skip("no chromium here (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

# As the machine's own probe starts it: no sandbox (root in CI), and nothing that tries
# to reach the network.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def server(everything):
    import uvicorn

    jobs = Jobs(max_pending=4)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    app = build_app(everything, jobs, engine=ENGINE)
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    srv.should_exit = True
    thread.join(5)
    jobs.close()
    sock.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, tmp_path):
    """A fresh page that records console errors; fails the test if any happened, or if
    the page showed an error it caught."""
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
    yield page
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    alerts = page.locator('[role="alert"]').all_inner_texts()  # what the page caught and showed
    context.close()
    assert not errors and not alerts, (errors, alerts)


def test_the_items_page_lists_every_item(page, server):
    page.goto(server + "/#/")
    for name in ("a.mp4", "b.mp4", "snap.png", "sheet.png", "orbit.safetensors"):
        sync_api.expect(page.locator("main").get_by_role("link", name=name, exact=True)).to_be_visible()


# The canvas against the frames as the server sends them: for each column, whether it
# shows video a's frame, b's, or |a − b| (difference view), exactly.
COLUMNS = """async (index) => {
  const c = document.getElementById('view'), shown = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const frame = async (id) => { const img = new Image(); img.src = `/api/items/${id}/frames/${index}`; await img.decode();
    const o = document.createElement('canvas'); o.width = img.width; o.height = img.height;
    const x = o.getContext('2d'); x.drawImage(img, 0, 0); return x.getImageData(0, 0, img.width, img.height).data; };
  const [a, b] = [await frame('i0'), await frame('i1')];
  const out = [];
  for (let col = 0; col < c.width; col++) {
    let isA = true, isB = true, isDiff = true;
    for (let row = 0; row < c.height; row++) for (let k = 0; k < 3; k++) {
      const i = 4 * (row * c.width + col) + k;
      isA &&= shown[i] === a[i]; isB &&= shown[i] === b[i]; isDiff &&= shown[i] === Math.abs(a[i] - b[i]);
    }
    out.push(isA && isB ? 'ab' : isA ? 'a' : isB ? 'b' : isDiff ? 'd' : '?');
  }
  return out.join(',');
}"""


def test_compare_steps_frames_and_the_slider_moves_the_split(page, server, tmp_path):
    page.goto(server + "/#/compare/p0")
    canvas = page.locator("#view[data-ready]")
    sync_api.expect(canvas).to_have_attribute("data-frames", "0,0")
    sync_api.expect(page.locator("#psnr-plot polyline")).to_be_attached()
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    sync_api.expect(canvas).to_have_attribute("data-frames", "9,9")
    page.keyboard.press("ArrowLeft")
    sync_api.expect(canvas).to_have_attribute("data-frames", "8,8")  # b has its bright band here
    page.select_option("#mode", "wipe")
    page.wait_for_function("() => document.getElementById('view').width === 64")
    for split, cut in (("0.5", 32), ("0.25", 16)):
        page.locator("#split").fill(split)
        page.wait_for_timeout(150)
        columns = page.evaluate(COLUMNS, 8).split(",")
        # a left of the divider, b right of it (columns where they agree count for both)
        assert all("a" in c for c in columns[:cut]) and all("b" in c for c in columns[cut + 1 :]), (split, columns)
        assert columns[cut] == "?"  # the white divider
    page.screenshot(path=str(tmp_path / "compare-wipe.png"))
    page.select_option("#mode", "diff")
    page.wait_for_timeout(150)
    assert set(page.evaluate(COLUMNS, 8).split(",")) == {"d"}


def test_a_snapshot_plays_its_expansion_on_hover(page, server):
    page.goto(server + "/#/snapshot/i3")
    sync_api.expect(page.locator("#still")).to_be_visible()
    page.locator("#still").hover()
    playing = page.locator("#playing")
    sync_api.expect(playing).to_be_visible(timeout=30_000)
    page.wait_for_function("() => Number(document.getElementById('playing').dataset.frame) > 2", timeout=30_000)
    page.mouse.move(0, 0)
    sync_api.expect(playing).to_be_hidden()


def test_the_map_shows_a_frame_on_hover_a_summary_for_a_box_and_a_video_for_a_path(page, server, tmp_path):
    page.goto(server + "/#/map/i4")
    dots = page.locator("#map circle")
    sync_api.expect(dots).to_have_count(24)
    centres = [(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2) for b in (dots.nth(i).bounding_box() for i in range(24))]
    # The orbit comes back to its start: hover the dot that lies farthest from any other.
    alone = max(range(24), key=lambda i: min((centres[i][0] - x) ** 2 + (centres[i][1] - y) ** 2 for j, (x, y) in enumerate(centres) if j != i))
    page.mouse.move(*centres[alone])
    sync_api.expect(page.locator("#hover-frame")).to_have_attribute("data-index", str(alone))
    page.wait_for_function("() => document.getElementById('hover-frame').complete && document.getElementById('hover-frame').naturalWidth === 64")
    page.locator("#frame-picker").focus()  # the keyboard's way: a slider over the frames
    page.keyboard.press("ArrowRight")
    sync_api.expect(page.locator("#hover-frame")).to_have_attribute("data-index", str(alone + 1))

    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=5)
    page.mouse.up()
    summary = page.locator("#summary")
    sync_api.expect(summary).to_be_visible(timeout=30_000)
    sync_api.expect(summary).to_have_attribute("data-frames", "24")
    page.wait_for_function("() => document.getElementById('summary').naturalWidth === 64")

    page.locator('input[name="tool"][value="lasso"]').check()  # a quadrilateral around the left part
    corners = [(0.02, 0.02), (0.45, 0.05), (0.4, 0.98), (0.03, 0.95)]
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in corners]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for point in xy[1:]:
        page.mouse.move(*point, steps=4)
    page.mouse.up()

    def inside(x, y):  # even–odd rule, as a person would count the dots
        hit = False
        for (xi, yi), (xj, yj) in zip(xy, xy[-1:] + xy[:-1]):
            if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                hit = not hit
        return hit

    expected = sum(inside(x, y) for x, y in centres)
    assert 0 < expected < 24
    sync_api.expect(summary).to_have_attribute("data-frames", str(expected), timeout=30_000)

    page.locator('input[name="tool"][value="path"]').check()
    page.mouse.move(*centres[0])
    page.mouse.down()
    for i in (4, 8):
        page.mouse.move(*centres[i], steps=8)
    page.mouse.up()
    page.locator("#seconds").fill("1")
    page.locator("#make-video").click()
    video = page.locator("#path-video")
    sync_api.expect(video).to_be_visible(timeout=60_000)
    page.wait_for_function("() => document.getElementById('path-video').readyState >= 2 && document.getElementById('path-video').duration > 0.9", timeout=30_000)
    assert page.evaluate("document.getElementById('path-video').videoWidth") == 64
    page.screenshot(path=str(tmp_path / "map.png"))
