"""``kinema view``: serve the local web app for the files named (:mod:`kinema.view`)."""

from __future__ import annotations

import secrets
import socket
import threading
import time
import webbrowser
from pathlib import Path
from typing import Annotated, Optional

import typer

from kinema.cli.app import app
from kinema.cli.options import DEFAULT_ENGINE, Device, Quality, Threads, use_threads
from kinema.cli.options import device as device_of

#: The port tried first; when it is taken (and --port was not given) any free one is used.
DEFAULT_PORT = 8765


def _listen(host: str, port: int | None) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in ([port] if port is not None else [DEFAULT_PORT, 0]):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if port is not None or candidate == 0:
                raise OSError(exc.errno, f"cannot listen on {host}:{candidate} ({exc.strerror})") from None
            continue
        sock.listen(64)
        return sock
    raise AssertionError("unreachable")


@app.command("view")
def view_cmd(
    paths: Annotated[Optional[list[Path]], typer.Argument(metavar="PATH...", help="Videos, GIFs, frame folders, snapshot pictures, preview sheets, vsae models (.safetensors). Two videos alone are compared.", show_default=False)] = None,
    video: Annotated[Optional[list[Path]], typer.Option("--video", metavar="VIDEO", help="The video a vsae model was fit on, once per model in order (a collection's videos, each).")] = None,
    compare: Annotated[Optional[tuple[Path, Path]], typer.Option("--compare", metavar="A B", help="Two videos to compare in sync (e.g. a source and kinema's output).", show_default=False)] = None,
    host: Annotated[str, typer.Option(help="Address to listen on; any but a loopback one needs the printed token.")] = "127.0.0.1",
    port: Annotated[Optional[int], typer.Option(min=0, max=65535, help=f"Port (default {DEFAULT_PORT}, or a free one if it is taken).", show_default=False)] = None,
    no_open: Annotated[bool, typer.Option("--no-open", help="Do not open a browser (scripts, remote use).")] = False,
    display_side: Annotated[int, typer.Option(min=64, max=4096, help="Longer side of the frames the page shows.")] = 960,
    device: Device = "cpu",
    threads: Threads = None,
) -> None:
    """Look at videos side by side, play snapshots, explore a vsae model's latent map: a local web page."""
    import uvicorn

    from kinema.cli.common import engine_spec, stderr
    from kinema.view.catalog import Catalog, Limits, VideoCountError
    from kinema.view.jobs import Jobs
    from kinema.view.server import LOOPBACK_NAMES, build_app, is_loopback, start_loading

    if not paths and compare is None:
        raise typer.BadParameter("name at least one file to view")
    use_threads(threads)
    limits = Limits(display_side=display_side)
    try:
        catalog = Catalog.build(paths or [], videos_for_models=video or [], compare=compare, limits=limits, device=device_of(device))
    except VideoCountError as exc:
        raise typer.BadParameter(str(exc)) from None
    loopback = is_loopback(host)
    token = None if loopback else secrets.token_urlsafe(24)
    sock = _listen(host, port)
    jobs = Jobs(max_pending=limits.max_pending)
    engine = engine_spec(DEFAULT_ENGINE, Quality.balanced)
    guarded = build_app(catalog, jobs, token=token, allowed_hosts=LOOPBACK_NAMES if loopback else None, engine=engine)
    start_loading(catalog, jobs)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}/" + (f"?token={token}" if token else "")
    print(f"kinema view: {url}  (Ctrl-C stops it)", flush=True)
    if not loopback:
        stderr.print(f"kinema view: listening on {host}, not a loopback address: anyone who has the address above can see the files named", highlight=False)
    server = uvicorn.Server(uvicorn.Config(guarded, log_level="warning", access_log=False, timeout_graceful_shutdown=2))
    if not no_open:

        def open_when_started() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                webbrowser.open(url)

        threading.Thread(target=open_when_started, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        jobs.close()
        sock.close()
