"""Outputs appear whole or not at all.

Every writer produces its result under a hidden temporary name beside the target (same
folder, so the final ``os.replace`` is an atomic rename on one filesystem) and renames it
only when the last byte is written. A crash, an exception or Ctrl-C leaves the target
untouched and removes the temporary.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import threading
import uuid
from pathlib import Path

from kinema.types import Frame, KinemaError, OutputExistsError

#: Names kinema writes into a frames folder (see :class:`kinema.io.images.ImageSequenceWriter`).
_FRAME_NAME = re.compile(r"^frame_\d{6}\.png$")
_FOLDER_EXTRAS = frozenset({"kinema.json", "audio.mov", "audio.mka"})
#: A temporary's name: the pid of the process writing it (absent in kinema 0.1's), then a
#: random tag.
TEMPORARY = re.compile(r"^\.(?P<stem>.*)\.kinema-(?:(?P<pid>\d+)-)?[0-9a-f]{8}\.part(?P<suffix>.*)$")


def _is_kinema_folder(folder: Path) -> bool:
    """A frames folder as kinema writes it: its ``kinema.json`` and only kinema's names."""
    try:
        names = {entry.name for entry in os.scandir(folder)}
        sidecar = json.loads((folder / "kinema.json").read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(sidecar, dict) or sidecar.get("format") != "kinema image sequence":
        return False
    return all(name in _FOLDER_EXTRAS or _FRAME_NAME.match(name) for name in names) and all(
        (folder / name).is_file() and not (folder / name).is_symlink() for name in names
    )


def replace_refusal(target: Path, *, directory: bool) -> str | None:
    """Why an existing ``target`` may not be replaced by a new output (None: it may).

    Replacing never deletes what kinema did not write: a file output never replaces a
    folder or a device, and a frames folder replaces only a frames folder kinema wrote.
    """
    target = Path(target)
    if not os.path.lexists(target):
        return None
    if directory:
        if target.is_symlink() or not target.is_dir():
            return f"output {target} exists and is not a folder; a frames folder does not replace it"
        if not _is_kinema_folder(target):
            return (
                f"output {target} is a folder kinema did not write (it holds more than kinema's frames "
                "and kinema.json); not replaced: remove it yourself or choose another output"
            )
        return None
    if target.is_dir():
        return f"output {target} is a folder; a file output never replaces a folder"
    if os.path.exists(target) and not target.is_file():
        return f"output {target} is not a regular file (a device or pipe); not replaced"
    return None


def is_directory_output(output: Path) -> bool:
    """Outputs without a suffix are frames folders (see :func:`kinema.io.output.output_kind`)."""
    return Path(output).suffix == ""


def check_output(output: Path, *, overwrite: bool, inputs: tuple[Path, ...] = (), directory: bool | None = None) -> None:
    """Refuse to write over an input, over an existing output unless ``overwrite``, and
    over anything :func:`replace_refusal` protects. ``directory``: whether the output is
    a folder (default: it has no suffix)."""
    target = output.resolve()
    for src in inputs:
        src_resolved = src.resolve()
        if target == src_resolved or (src_resolved.is_dir() and src_resolved in target.parents):
            raise OutputExistsError(f"output {output} would overwrite the input {src}")
        if target.is_dir() and target in src_resolved.parents:
            raise OutputExistsError(f"output {output} contains the input {src}")
    _refuse_existing(output, overwrite=overwrite, directory=is_directory_output(output) if directory is None else directory)


def _refuse_existing(target: Path, *, overwrite: bool, directory: bool) -> None:
    """Raise if ``target`` exists and may not be replaced (see :func:`replace_refusal`)."""
    if not os.path.lexists(target):
        return
    if not overwrite:
        raise OutputExistsError(f"output {target} exists (pass --overwrite to replace it)")
    why = replace_refusal(target, directory=directory)
    if why is not None:
        raise OutputExistsError(why)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a process of another user counts: its temporary is kept)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def remove_stale_temporaries(target: Path) -> int:
    """Remove the temporaries beside ``target`` that a killed kinema left for it.

    Only those whose writing process is gone: another kinema writing the same output at
    this moment keeps its temporary. Returns how many were removed.
    """
    target = Path(target)
    removed = 0
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return 0
    prefix = f".{target.stem}.kinema-"
    for entry in entries:
        if not entry.name.startswith(prefix):  # cheap: a batch's folder may hold many files
            continue
        match = TEMPORARY.match(entry.name)
        if not match or match["stem"] != target.stem or match["suffix"] != target.suffix:
            continue
        if match["pid"] is not None and (int(match["pid"]) == os.getpid() or _alive(int(match["pid"]))):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed


#: Temporaries this process has made and not yet committed or discarded (see
#: :func:`discard_unfinished`).
_UNFINISHED: set[AtomicOutput] = set()
_UNFINISHED_LOCK = threading.Lock()


def discard_unfinished() -> int:
    """Remove every temporary this process has not committed; how many there were.

    The last line of defence after Ctrl-C or SIGTERM: the signal can arrive between the
    moment a temporary is made and the ``try`` that would abort it, and then no writer
    knows to remove it.
    """
    with _UNFINISHED_LOCK:
        unfinished = list(_UNFINISHED)
    for out in unfinished:
        out.discard()
    return len(unfinished)


class AtomicOutput:
    """A temporary path beside ``target`` that becomes ``target`` on :meth:`commit`.

    Works for a file or a directory (``directory=True``). The temporary keeps the target's
    suffix because muxers choose the container from it.
    """

    def __init__(self, target: Path, *, directory: bool = False, overwrite: bool = False):
        self.target = Path(target)
        self.overwrite = overwrite
        self.directory = directory
        parent = self.target.parent
        if not parent.is_dir():
            raise KinemaError(f"output folder {parent} does not exist")
        _refuse_existing(self.target, overwrite=overwrite, directory=directory)
        remove_stale_temporaries(self.target)
        tag = uuid.uuid4().hex[:8]
        self.path = parent / f".{self.target.stem}.kinema-{os.getpid()}-{tag}.part{self.target.suffix}"
        # Registered before it exists, so no moment has a temporary nobody would remove.
        with _UNFINISHED_LOCK:
            _UNFINISHED.add(self)
        try:
            if directory:
                self.path.mkdir()
            else:
                # Created now, so an unwritable folder fails before any work is done.
                self.path.touch(exist_ok=False)
        except OSError as exc:
            self._finish()
            raise KinemaError(f"cannot write in {parent}: {exc.strerror or exc}") from None

    def _finish(self) -> bool:
        """Take this output off the unfinished ones; whether it was still there."""
        with _UNFINISHED_LOCK:
            unfinished = self in _UNFINISHED
            _UNFINISHED.discard(self)
        return unfinished

    def commit(self) -> Path:
        """Move the finished temporary onto the target (replacing it if allowed).

        Without ``overwrite`` the move fails if the target appeared meanwhile (another
        kinema writing the same output): files are linked into place, which never
        replaces, and folders are renamed, which never replaces a non-empty folder.
        """
        if os.path.lexists(self.target) and not self.overwrite:
            raise OutputExistsError(f"output {self.target} appeared while writing; not replaced")
        # What is there now, not what was there at the start.
        _refuse_existing(self.target, overwrite=self.overwrite, directory=self.directory)
        try:
            if not self.overwrite and not self.directory:
                try:
                    os.link(self.path, self.target)
                except FileExistsError:
                    raise OutputExistsError(f"output {self.target} appeared while writing; not replaced") from None
                except OSError:  # a file system without hard links
                    os.replace(self.path, self.target)
                else:
                    self.path.unlink()
            elif self.directory and os.path.lexists(self.target):
                # Directories cannot be replaced atomically: move the old one aside first
                # so the target name is never missing for longer than two renames.
                trash = self.target.parent / f".{self.target.name}.kinema-old-{uuid.uuid4().hex[:8]}"
                os.replace(self.target, trash)
                os.replace(self.path, self.target)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.replace(self.path, self.target)
        except OSError as exc:
            if isinstance(exc, (FileExistsError, IsADirectoryError, NotADirectoryError)) or exc.errno == errno.ENOTEMPTY:
                raise OutputExistsError(f"output {self.target} appeared while writing; not replaced") from None
            raise
        self._finish()
        return self.target

    def discard(self) -> None:
        if not self._finish():
            return
        if self.path.is_dir():
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            self.path.unlink(missing_ok=True)


class AtomicWriter:
    """What every writer offers: ``write`` frames, then ``close`` (output appears) or
    ``abort`` (nothing appears). As a context manager it closes on success and aborts
    on any exception.
    """

    def write(self, frame: Frame) -> None:
        raise NotImplementedError

    def close(self) -> Path:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
