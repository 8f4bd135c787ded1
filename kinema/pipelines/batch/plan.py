"""Which files a batch makes: inputs found in a folder tree or a manifest, their outputs,
and which of those outputs are already done.

Outputs mirror the input tree under the output folder with the job's suffix
(``in/a/b.mov`` → ``out/a/b.mp4``). Every kinema writer renames its output into place
only when it is complete, so an output that exists was finished; it is still opened
(:func:`is_complete`) so a file damaged later, or put there by something else, is made again.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from kinema.io.atomic import TEMPORARY
from kinema.io.images import IMAGE_SUFFIXES
from kinema.io.probe import probe
from kinema.types import BadInputError, KinemaError

_STILL_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class Task:
    source: Path
    output: Path


def _check_folders(inputs: Path, output_dir: Path) -> None:
    a, b = inputs.resolve(), output_dir.resolve()
    if a == b or a in b.parents or (a.is_dir() and b in a.parents):
        raise BadInputError(f"the output folder {output_dir} and the inputs {inputs} must not contain each other")


def walk(
    input_dir: Path,
    output_dir: Path,
    *,
    suffixes: Iterable[str],
    suffix: str,
    include: str | None = None,
    sequences: bool = False,
) -> list[Task]:
    """Every file under ``input_dir`` whose suffix is in ``suffixes`` (or whose path
    relative to it matches the glob ``include``), hidden files and folders left out,
    in sorted order. With ``sequences``, a folder holding images (two or more, and no
    video) is one input, an image sequence (``shots/a/*.png`` → ``OUT/shots/a.mp4``), and
    is not walked further."""
    # Absolute paths: workers (a Ray actor on another node) need not share our directory.
    input_dir, output_dir = Path(input_dir).resolve(), Path(output_dir).resolve()
    if not input_dir.is_dir():
        raise BadInputError(f"{input_dir}: not a folder")
    _check_folders(input_dir, output_dir)
    wanted = {s.lower() for s in suffixes}
    tasks = []
    for root, dirs, files in os.walk(input_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        here = Path(root)
        images = [n for n in files if Path(n).suffix.lower() in IMAGE_SUFFIXES and not n.startswith(".")]
        # Two images or more and no video: a still beside videos (a poster) is no sequence.
        if sequences and len(images) >= 2 and not any(Path(n).suffix.lower() in wanted for n in files):
            rel = here.relative_to(input_dir) if here != input_dir else Path(input_dir.name)
            if not include or fnmatch.fnmatch(rel.as_posix(), include):
                tasks.append(Task(here, output_dir / (rel.as_posix() + suffix)))
            dirs[:] = []
            continue
        for name in sorted(files):
            path = here / name
            rel = path.relative_to(input_dir)
            chosen = fnmatch.fnmatch(rel.as_posix(), include) if include else path.suffix.lower() in wanted
            if chosen and not name.startswith("."):
                tasks.append(Task(path, output_dir / rel.with_suffix(suffix)))
    return sorted(tasks, key=lambda t: t.source)


def read_manifest(manifest: Path, output_dir: Path, *, suffix: str) -> list[Task]:
    """Tasks from a CSV (a header with ``input`` and optionally ``output``) or JSONL file
    (objects with the same keys). Relative inputs are relative to the manifest's folder,
    relative outputs to ``output_dir``; a missing output is the input's path relative to
    the manifest's folder (or its name, for an input outside it), with ``suffix``."""
    manifest, output_dir = Path(manifest).resolve(), Path(output_dir).resolve()
    if not manifest.is_file():
        raise BadInputError(f"{manifest}: no such manifest")
    text = manifest.read_text()
    try:
        if manifest.suffix.lower() == ".jsonl":
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        elif manifest.suffix.lower() == ".csv":
            rows = list(csv.DictReader(text.splitlines()))
        else:
            raise BadInputError(f"{manifest}: a manifest is a .csv or .jsonl file")
    except (json.JSONDecodeError, csv.Error) as exc:
        raise BadInputError(f"{manifest}: unreadable manifest ({exc})") from None
    base = manifest.parent.resolve()
    tasks = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not row.get("input"):
            raise BadInputError(f"{manifest}: entry {number} has no 'input'")
        source = (base / row["input"]).resolve()
        if row.get("output"):
            output = output_dir / row["output"]
        else:
            resolved = source.resolve()
            rel = resolved.relative_to(base) if base in resolved.parents else Path(resolved.name)
            output = output_dir / rel.with_suffix(suffix)
        _check_folders(source, output_dir)
        tasks.append(Task(source, output))
    return tasks


def duplicates(tasks: list[Task]) -> dict[Path, list[Path]]:
    """Outputs that more than one input would write (e.g. ``a.mov`` and ``a.mkv``)."""
    seen: dict[Path, list[Path]] = {}
    for task in tasks:
        seen.setdefault(task.output.resolve(), []).append(task.source)
    return {out: sources for out, sources in seen.items() if len(sources) > 1}


def is_complete(path: Path) -> bool:
    """``path`` exists and opens as what kinema writes: a video, GIF or frame folder with
    at least one frame, or a picture."""
    path = Path(path)
    if not path.exists():
        return False
    try:
        if path.is_file() and path.suffix.lower() in _STILL_SUFFIXES:
            with Image.open(path) as image:
                image.load()
            return True
        return probe(path).frame_count > 0
    except (KinemaError, OSError, ValueError):
        return False


def clean_partials(output_dir: Path) -> int:
    """Remove what killed writers left under ``output_dir`` (their hidden temporaries);
    returns how many. Only call while no writer is running there."""
    removed = 0
    for root, dirs, files in os.walk(output_dir):
        for name in [*files, *dirs]:
            if TEMPORARY.match(name):
                path = Path(root) / name
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
                removed += 1
        dirs[:] = [d for d in dirs if not TEMPORARY.match(d)]
    return removed
