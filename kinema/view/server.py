"""The HTTP side of ``kinema view``: the page, its assets and the JSON API under ``/api/``.

Security, as for any local server (docs/view.md says it for users):

* The page and its assets come from the package (a fixed list of names: no request path
  reaches the filesystem); items are named by id (:mod:`kinema.view.catalog`).
* Bound to a loopback address, the server answers only requests whose ``Host`` is a
  loopback name, so a web page cannot reach it through DNS rebinding. Bound elsewhere, a
  token is required on every request: ``Authorization: Token …``, the ``token`` query
  parameter (the page's first load: it is then kept in a same-site cookie) or the cookie.
* A request that changes something is a POST with a JSON body, which a page on another
  site cannot send without the browser asking first (and this server never says yes);
  an ``Origin`` other than the server's own is refused. Bodies are bounded
  (:attr:`Limits.max_body`), and so are queued jobs.
* Every response forbids framing and loading anything from elsewhere (CSP).
"""

from __future__ import annotations

import json
import secrets
from importlib import resources
from ipaddress import ip_address

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from kinema.types import KinemaError
from kinema.view.catalog import Catalog, Pair, State, VideoItem, png
from kinema.view.items import ModelItem, SnapshotItem
from kinema.view.jobs import Busy, Jobs

#: The page's files, served from the package by these names only.
ASSETS = {**{f"{name}.js": "text/javascript" for name in ("app", "common", "compare", "snapshot", "map")}, "style.css": "text/css"}
COOKIE = "kinema_view_token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8765
        return value[1 : value.find("]")]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class Guard:
    """ASGI middleware: host, token, origin, content type and body size, before any route."""

    def __init__(self, app, *, token: str | None, allowed_hosts: tuple[str, ...] | None, max_body: int):
        self.app, self.token, self.allowed_hosts, self.max_body = app, token, allowed_hosts, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [(k.encode(), v.encode()) for k, v in HEADERS.items()]
            await send(message)

        request = Request(scope)
        refusal = self.refusal(request)
        if refusal is None and request.method == "POST":
            body, refusal = await self._read_body(request, receive)
            if refusal is None:
                sent = False

                async def receive():  # the body, read once here, handed on whole
                    nonlocal sent
                    if sent:
                        return {"type": "http.disconnect"}
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}

        if refusal is not None:
            return await refusal(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)

    def refusal(self, request: Request) -> Response | None:
        host = _host_name(request.headers.get("host", ""))
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            return _error(400, f"unexpected Host {host!r}: open the address kinema view printed")
        if self.token is not None:
            given = request.headers.get("authorization", "").partition(" ")[2] or request.query_params.get("token") or request.cookies.get(COOKIE) or ""
            if not secrets.compare_digest(given.encode(), self.token.encode()):
                return _error(403, "a valid token is needed: open the address kinema view printed")
        if request.method not in ("GET", "HEAD", "POST"):
            return _error(405, f"{request.method} is not used here")
        if request.method == "POST":
            origin = request.headers.get("origin")
            # The page's own origin is exactly this host and port; any other site's is not.
            if origin is not None and origin.split("://", 1)[-1].rstrip("/").lower() != request.headers.get("host", "").lower():
                return _error(403, "requests from other sites are refused")
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
                return _error(415, "send JSON (Content-Type: application/json)")
        return None

    async def _read_body(self, request: Request, receive) -> tuple[bytes, Response | None]:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return b"", _error(413, f"request body over {self.max_body} bytes")
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > self.max_body:
                return b"", _error(413, f"request body over {self.max_body} bytes")
            if not message.get("more_body", False):
                return bytes(body), None


def build_app(catalog: Catalog, jobs: Jobs, *, token: str | None = None, allowed_hosts: tuple[str, ...] | None = LOOPBACK_NAMES, engine=None) -> Starlette:
    """The app serving ``catalog``. ``allowed_hosts`` None accepts any ``Host`` (only with a
    token); ``engine`` expands snapshots (built on the first expansion)."""
    limits = catalog.limits
    built = {}

    def item_of(request: Request, kind: type | tuple | None = None):
        item = catalog.items.get(request.path_params["item"])
        if item is None or (kind is not None and not isinstance(item, kind)):
            return None
        return item

    def ready(item) -> Response | None:
        if item.state is not State.READY:
            return _error(409, f"{item.name} is {item.state.value}" + (f": {item.message}" if item.message else ""))
        return None

    async def body(request: Request) -> dict | Response:
        try:
            data = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "the body is not JSON")
        return data if isinstance(data, dict) else _error(400, "the body must be a JSON object")

    def submit(label: str, work) -> Response:
        try:
            job = jobs.submit(label, work)
        except Busy as exc:
            return _error(429, str(exc))
        return JSONResponse(job.describe(), status_code=202)

    def index(request: Request) -> Response:
        if token is not None and request.query_params.get("token"):
            # Keep the token out of the address bar and the history: a cookie from now on.
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response
        return Response(resources.files("kinema.view").joinpath("static/index.html").read_bytes(), media_type="text/html")

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return _error(404, "no such asset")
        return Response(resources.files("kinema.view").joinpath(f"static/{name}").read_bytes(), media_type=ASSETS[name])

    def items(request: Request) -> Response:
        return JSONResponse(catalog.describe() | {"jobs": [j.describe() for j in jobs.all() if not j.bounded]})

    def item(request: Request) -> Response:
        found = item_of(request)
        return _error(404, "no such item") if found is None else JSONResponse(found.describe())

    def frame(request: Request) -> Response:
        found = item_of(request, (VideoItem, ModelItem))
        if found is None:
            return _error(404, "no such item")
        if (wait := ready(found)) is not None:
            return wait
        index = request.path_params["index"]
        held = len(found.frames) if isinstance(found, VideoItem) else len(found.codes)
        if not 0 <= index < held:
            return _error(404, f"{found.name} has frames 0 to {held - 1} here")
        data = png(found.frames[index]) if isinstance(found, VideoItem) else found.frame(index)
        return Response(data, media_type="image/png")

    def pair(request: Request) -> Response:
        found: Pair | None = catalog.pairs.get(request.path_params["pair"])
        return _error(404, "no such pair") if found is None else JSONResponse(found.describe())

    def still(request: Request) -> Response:
        found = item_of(request, SnapshotItem)
        return _error(404, "no such snapshot") if found is None else Response(found.still(), media_type="image/png")

    async def expand(request: Request) -> Response:
        found = item_of(request, SnapshotItem)
        if found is None:
            return _error(404, "no such snapshot")

        def work(report):
            if "engine" not in built:
                built["engine"] = engine.build(found.device)
            return found.expand(built["engine"], limits.expand_factor, report), None, "", ""

        return submit(f"expand {found.name}", work)

    def tile_frame(request: Request) -> Response:
        found = item_of(request, SnapshotItem)
        tile, index = request.path_params["tile"], request.path_params["index"]
        if found is None or not found.tiles or not 0 <= tile < len(found.tiles) or not 0 <= index < len(found.tiles[tile]):
            return _error(404, "no such frame (expand the snapshot first)")
        return Response(png(found.tiles[tile][index]), media_type="image/png")

    def latent_map(request: Request) -> Response:
        found = item_of(request, ModelItem)
        if found is None:
            return _error(404, "no such model")
        return ready(found) or JSONResponse(found.map())

    async def model_and_body(request: Request) -> tuple[ModelItem, dict] | Response:
        """The ready model a POST names and its JSON body, or the refusal."""
        found = item_of(request, ModelItem)
        if found is None:
            return _error(404, "no such model")
        if (wait := ready(found)) is not None:
            return wait
        data = await body(request)
        return data if isinstance(data, Response) else (found, data)

    async def summary(request: Request) -> Response:
        asked = await model_and_body(request)
        if isinstance(asked, Response):
            return asked
        found, data = asked
        picked = data.get("frames")
        if not isinstance(picked, list) or not picked or not all(isinstance(i, int) and not isinstance(i, bool) for i in picked):
            return _error(400, "frames: a non-empty list of frame numbers")
        if not all(0 <= i < len(found.codes) for i in picked):
            return _error(400, f"frames must be between 0 and {len(found.codes) - 1}")

        def work(report):
            result, image = found.summary(picked, report)
            return result, image, "image/png", f"{found.path.stem}-summary.png"

        return submit(f"summary of {len(set(picked))} frames", work)

    async def path(request: Request) -> Response:
        asked = await model_and_body(request)
        if isinstance(asked, Response):
            return asked
        found, data = asked
        points, seconds, fps, loop = data.get("points"), data.get("seconds", 2), data.get("fps", 25), data.get("loop", False)
        number = (int, float)
        if not isinstance(points, list) or not 1 <= len(points) <= 10_000 or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, number) and not isinstance(v, bool) and abs(v) < 1e9 for v in p) for p in points
        ):
            return _error(400, "points: a list of [x, y] map positions (1 to 10000)")
        if not isinstance(seconds, number) or not 0 < seconds <= limits.max_seconds:
            return _error(400, f"seconds: more than 0, at most {limits.max_seconds:g}")
        if not isinstance(fps, int) or isinstance(fps, bool) or not 1 <= fps <= limits.max_fps:
            return _error(400, f"fps: a whole number from 1 to {limits.max_fps}")
        if not isinstance(loop, bool):
            return _error(400, "loop: true or false")

        def work(report):
            result, video = found.follow(points, seconds=float(seconds), fps=fps, loop=loop, report=report)
            return result, video, "video/webm", f"{found.path.stem}-{'loop' if loop else 'path'}.webm"

        return submit(f"{'loop' if loop else 'path'} of {seconds:g} s", work)

    def job(request: Request) -> Response:
        found = jobs.get(request.path_params["job"])
        return _error(404, "no such job") if found is None else JSONResponse(found.describe())

    def job_file(request: Request) -> Response:
        found = jobs.get(request.path_params["job"])
        if found is None or found.data is None:
            return _error(404, "no such file (the job is unknown, unfinished or made none)")
        disposition = "attachment" if request.query_params.get("download") else "inline"
        return Response(found.data, media_type=found.media_type, headers={"content-disposition": f'{disposition}; filename="{found.filename}"'})

    routes = [
        Route("/", index),
        Route("/static/{name}", asset),
        Route("/api/items", items),
        Route("/api/items/{item}", item),
        Route("/api/items/{item}/frames/{index:int}", frame),
        Route("/api/items/{item}/still", still),
        Route("/api/items/{item}/expand", expand, methods=["POST"]),
        Route("/api/items/{item}/tiles/{tile:int}/frames/{index:int}", tile_frame),
        Route("/api/items/{item}/map", latent_map),
        Route("/api/items/{item}/summary", summary, methods=["POST"]),
        Route("/api/items/{item}/path", path, methods=["POST"]),
        Route("/api/pairs/{pair}", pair),
        Route("/api/jobs/{job}", job),
        Route("/api/jobs/{job}/file", job_file),
    ]

    async def not_found(request: Request, exc) -> Response:
        return _error(getattr(exc, "status_code", 404), getattr(exc, "detail", None) or "not found")

    async def bad_input(request: Request, exc: KinemaError) -> Response:
        return _error(400, str(exc))

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found, KinemaError: bad_input})
    return Guard(app, token=token, allowed_hosts=allowed_hosts, max_body=limits.max_body)


def start_loading(catalog: Catalog, jobs: Jobs) -> None:
    """Queue the loading of every item (not counted against the requests' bound)."""
    for label, work in catalog.loads():
        jobs.submit(label, lambda report, work=work: (work(report) or {}, None, "", ""), bounded=False)

