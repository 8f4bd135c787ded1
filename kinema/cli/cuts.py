"""``kinema cuts``: a video's shot transitions (cuts, fades, dissolves) with the learned detector."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from kinema.cli.app import app
from kinema.cli.common import progress_bar, stderr
from kinema.cli.options import Device, Overwrite, Quiet, Threads, use_threads
from kinema.cli.options import device as device_of


@app.command("cuts")
def cuts_cmd(
    source: Annotated[Path, typer.Argument(help="Input: video, GIF, or image-sequence folder / glob pattern.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the transitions as JSON on stdout.")] = False,
    sheet: Annotated[Optional[Path], typer.Option("--sheet", help="Also write a PNG contact sheet: the frames around each transition.")] = None,
    device: Device = "cpu",
    threads: Threads = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
) -> None:
    """Find the shot transitions of a video: hard cuts, fades and dissolves, as frame ranges."""
    from kinema.io.atomic import check_output
    from kinema.io.probe import open_reader
    from kinema.pipelines.transitions import detect, write_sheet

    if sheet is not None:
        if sheet.suffix.lower() != ".png":
            raise typer.BadParameter(f"--sheet {sheet}: the contact sheet is a .png file")
        check_output(sheet, overwrite=overwrite, inputs=(source,), directory=False)
    use_threads(threads)
    where = device_of(device)
    total = open_reader(source).info.frame_count  # a bad file is refused here, before the network loads
    with progress_bar("cuts", quiet=quiet or as_json) as bar:
        found = detect(source, device=where, progress=None if bar is None else (lambda done: bar(done, total)))
    if sheet is not None and found:
        write_sheet(source, found, sheet, overwrite=overwrite)
    if as_json:
        rows = [
            {"kind": t.kind, "first": t.first, "last": t.last, "start": float(t.start), "end": float(t.end), "confidence": t.confidence}
            for t in found
        ]
        typer.echo(json.dumps({"source": str(source), "transitions": rows}, indent=2))
    else:
        for t in found:
            span = f"frame {t.first}" if t.first == t.last else f"frames {t.first}-{t.last}"
            typer.echo(f"{t.kind:8s} {span:16s} {float(t.start):9.3f} s  (confidence {t.confidence:.2f})")
    if not quiet and not as_json:
        note = "" if sheet is None else f"; sheet {sheet}" if found else "; no sheet written (nothing to show)"
        stderr.print(f"{len(found)} transition{'s' * (len(found) != 1)} in {source}{note}", highlight=False)
