"""kinema view's API through Starlette's test client: what each route answers, and what
it refuses (unknown ids, paths, huge bodies, other sites, a missing or wrong token)."""

import io
import json
import time

import av
import pytest
from PIL import Image
from starlette.testclient import TestClient

from kinema.types import BadInputError
from kinema.view.catalog import Catalog, Limits
from kinema.view.jobs import Jobs
from kinema.view.server import build_app
from tests.view.conftest import ENGINE, loaded

LOCAL = "http://127.0.0.1:8765"


@pytest.fixture()
def client(everything):
    jobs = Jobs(max_pending=everything.limits.max_pending)
    with TestClient(build_app(everything, jobs, engine=ENGINE), base_url=LOCAL) as c:
        yield c
    jobs.close()


def finished(client, job: dict) -> dict:
    for _ in range(600):
        job = client.get(f"/api/jobs/{job['id']}").json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job} did not finish")


def test_the_items_are_listed_with_their_kinds_and_the_pair(client, media):
    listing = client.get("/api/items").json()
    kinds = {item["name"]: item["kind"] for item in listing["items"]}
    assert kinds == {"a.mp4": "video", "b.mp4": "video", "snap.png": "snapshot", "sheet.png": "snapshot", "orbit.safetensors": "model"}
    assert all(item["state"] == "ready" for item in listing["items"])
    (pair,) = listing["pairs"]
    assert {pair["a"], pair["b"]} == {"i0", "i1"} and pair["same_timing"]


def test_a_frame_is_the_decoded_frame_and_the_pair_scores_every_frame(client):
    video = client.get("/api/items/i0").json()
    assert video["frames"] == video["held"] == 12 and len(video["times"]) == 12
    assert video["times"][1] == [0.04, 0.04]
    response = client.get("/api/items/i0/frames/3")
    assert response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (64, 48)
    psnr = client.get("/api/pairs/p0").json()["psnr"]
    assert len(psnr) == 12
    assert all(v is None or v > 40 for v in psnr[:6])  # the same frames (identical: infinite, sent as null)
    assert all(10 < v < 30 for v in psnr[6:])  # the brighter band


def test_the_map_has_a_point_per_frame_and_a_summary_is_a_picture_with_its_medoid(client):
    points = client.get("/api/items/i4/map").json()["points"]
    assert len(points) == 24 and {"x", "y", "cluster", "t"} <= set(points[0])
    job = finished(client, client.post("/api/items/i4/summary", json={"frames": [3, 4, 5]}).json())
    assert job["state"] == "done" and job["result"]["medoid"] in (3, 4, 5), job
    picture = Image.open(io.BytesIO(client.get(job["url"]).content))
    assert picture.size == (64, 48)
    assert job["result"]["nearest_psnr"] > 15


def test_a_path_makes_a_webm_of_the_asked_length_through_the_frames_it_passes(client):
    points = client.get("/api/items/i4/map").json()["points"]
    path = [[points[i]["x"], points[i]["y"]] for i in (0, 6, 12)]
    job = client.post("/api/items/i4/path", json={"points": path, "seconds": 0.4, "fps": 10, "loop": False}).json()
    job = finished(client, job)
    assert job["state"] == "done", job
    assert job["result"]["nearest"][0] == 0 and job["result"]["nearest"][-1] == 12
    data = client.get(job["url"] + "?download=1")
    assert data.headers["content-type"] == "video/webm" and "attachment" in data.headers["content-disposition"]
    with av.open(io.BytesIO(data.content)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 4 and (frames[0].width, frames[0].height) == (64, 48)


def test_a_snapshot_expands_into_every_tiles_frames(client):
    assert client.get("/api/items/i3/still").headers["content-type"] == "image/png"
    job = finished(client, client.post("/api/items/i3/expand", json={}).json())
    assert job["state"] == "done", job
    sheet = client.get("/api/items/i3").json()
    assert sheet["count"] == 4 and sheet["expanded"]["frames"] == (5 - 1) * 2 + 1
    tile = Image.open(io.BytesIO(client.get("/api/items/i3/tiles/3/frames/8").content))
    assert tile.size == tuple(sheet["tile"])
    assert client.get("/api/items/i3/tiles/4/frames/0").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/api/items/i9", "/api/items/../../etc/passwd", "/api/items/..%2F..%2Fetc%2Fpasswd", "/api/items/i0/frames/12", "/api/items/i0/frames/-1",
     "/api/items/i0/map", "/api/pairs/p9", "/api/jobs/0-0000", "/api/jobs/0-0000/file", "/static/../catalog.py", "/static/..%2Fcatalog.py",
     "/static/index.html", "/etc/passwd"],
)  # fmt: skip
def test_unknown_ids_and_paths_are_refused(client, path):
    response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert "root:" not in response.text and "import" not in response.text


def test_bad_bodies_are_refused_before_any_work(client):
    assert client.post("/api/items/i4/summary", json={"frames": []}).status_code == 400
    assert client.post("/api/items/i4/summary", json={"frames": [0, 24]}).status_code == 400
    assert client.post("/api/items/i4/summary", json={"frames": ["0"]}).status_code == 400
    assert client.post("/api/items/i4/summary", content=b"{not json", headers={"content-type": "application/json"}).status_code == 400
    assert client.post("/api/items/i4/path", json={"points": [[0, 0]], "seconds": 999}).status_code == 400
    assert client.post("/api/items/i4/path", json={"points": [[0, 0]], "fps": 2.5}).status_code == 400
    assert client.post("/api/items/i4/path", json={"points": "../x"}).status_code == 400
    assert client.post("/api/items/i0/summary", json={"frames": [0]}).status_code == 404
    assert client.get("/api/jobs").status_code == 404  # no listing of other people's jobs


def test_a_huge_body_is_refused_unread(client):
    huge = json.dumps({"frames": list(range(200_000))}).encode()
    assert len(huge) > Limits().max_body
    response = client.post("/api/items/i4/summary", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(64):
            yield b" " * 8192

    response = client.post("/api/items/i4/summary", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_requests_another_site_could_send_are_refused(client):
    # A form or a plain fetch from another page: no JSON content type, or another origin.
    assert client.post("/api/items/i4/summary", content=b'{"frames": [1]}', headers={"content-type": "text/plain"}).status_code == 415
    assert client.post("/api/items/i4/summary", json={"frames": [1]}, headers={"origin": "http://evil.example"}).status_code == 403
    # another server on this machine (another port) is another site too
    assert client.post("/api/items/i4/summary", json={"frames": [1]}, headers={"origin": "http://127.0.0.1:9999"}).status_code == 403
    job = client.post("/api/items/i4/summary", json={"frames": [1]}, headers={"origin": LOCAL}).json()  # the page itself
    assert finished(client, job)["state"] == "done"
    # DNS rebinding: the server is on loopback, the page thinks it talks to evil.example.
    assert client.get("/api/items", headers={"host": "evil.example:8765"}).status_code == 400
    assert client.get("/api/items", headers={"host": "localhost:8765"}).status_code == 200
    assert client.delete("/api/items").status_code == 405


def test_queued_jobs_are_bounded(everything):
    jobs = Jobs(max_pending=1)
    release = []
    jobs.submit("blocker", lambda report: (release.append(1), time.sleep(0.3), ({}, None, "", ""))[-1], bounded=True)
    with TestClient(build_app(everything, jobs, engine=ENGINE), base_url=LOCAL) as client:
        assert client.post("/api/items/i4/summary", json={"frames": [1]}).status_code == 429
    jobs.close()


def test_off_loopback_every_request_needs_the_token(everything):
    jobs = Jobs()
    app = build_app(everything, jobs, token="s3cret", allowed_hosts=None, engine=ENGINE)
    with TestClient(app, base_url="http://192.0.2.7:8765") as client:
        for headers in ({}, {"authorization": "Token wrong"}, {"cookie": "kinema_view_token=wrong"}):
            for path in ("/", "/api/items", "/api/items/i0/frames/0", "/static/app.js"):
                response = client.get(path, headers=headers)
                assert response.status_code == 403, (path, headers)
                assert "a.mp4" not in response.text
        assert client.get("/?token=wrong").status_code == 403
        assert client.get("/api/items", headers={"authorization": "Token s3cret"}).status_code == 200
        first = client.get("/?token=s3cret", follow_redirects=False)
        assert first.status_code == 303 and "kinema_view_token=s3cret" in first.headers["set-cookie"]
        assert client.get("/api/items").status_code == 200  # the cookie from now on
    jobs.close()


def test_every_response_forbids_loading_from_elsewhere(client):
    page = client.get("/")
    assert page.status_code == 200 and "<main" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace('xmlns="http', "")  # nothing from the internet


def test_a_video_longer_than_its_budget_is_held_in_part_and_says_so(media):
    frame_bytes = 64 * 48 * 3
    catalog = loaded(Catalog.build([media["a"]], limits=Limits(frame_budget=5 * frame_bytes)))
    (video,) = catalog.items.values()
    assert len(video.frames) == 5 and "first 5 of 12" in video.message


def test_videos_of_different_timing_are_compared_without_psnr(media, tmp_path):
    from tests.media import make_video

    other = make_video(tmp_path / "c.mp4", 10, size=(48, 64))
    catalog = loaded(Catalog.build([media["a"], other]))
    (pair,) = catalog.pairs.values()
    assert pair.psnr is None and "frame count" in pair.note
    assert all(len(item.frames) for item in catalog.items.values())


def test_gifs_and_frame_folders_are_videos_too(tmp_path):
    from tests.media import make_gif, make_png_sequence

    gif = make_gif(tmp_path / "anim.gif", [40, 80, 40], transparent=True)
    folder = make_png_sequence(tmp_path / "frames", 4)
    catalog = loaded(Catalog.build([gif, folder]))
    animation, frames = catalog.items.values()
    assert [t for _, t in animation.times] == pytest.approx([0.04, 0.08, 0.04])  # each frame's own delay
    assert animation.frames[0].shape == (24, 32, 3) and len(frames.frames) == 4
    (pair,) = catalog.pairs.values()  # two videos alone are compared, whatever they are
    assert pair.psnr is None


def test_a_collection_model_takes_its_videos_in_order_and_maps_each_frames_video(media, tmp_path):
    from kinema.models.video_ae import VideoAEConfig
    from kinema.pipelines.vsae import FitVideoConfig, fit_video
    from kinema.train.video_ae import FitConfig
    from kinema.types import ModelMismatchError

    videos = [media["a"], media["video"]]
    model = fit_video(videos, tmp_path / "both.safetensors", FitVideoConfig(max_side=64, model=VideoAEConfig.tiny(), fit=FitConfig(epochs=2, batch=6))).output
    with pytest.raises(BadInputError, match="2 video"):
        Catalog.build([model], videos_for_models=videos[:1])
    with pytest.raises(ModelMismatchError):
        Catalog.build([model], videos_for_models=videos[::-1])
    catalog = loaded(Catalog.build([model, media["snap"]], videos_for_models=videos))
    (item, _) = catalog.items.values()
    data = item.map()
    assert data["videos"] == ["a.mp4", "orbit.mp4"]
    assert [p["video"] for p in data["points"]] == [0] * 12 + [1] * 24
    assert data["points"][12]["t"] == 0  # each video's time from its own start
