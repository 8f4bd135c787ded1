"""Outputs appear whole or not at all.

Every writer produces its result under a hidden temporary name beside the target (same
folder, so the final ``os.replace`` is an atomic rename on one filesystem) and renames it
only when the last byte is written. A crash, an exception or Ctrl-C leaves the target
untouched and removes the temporary.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from kinema.types import Frame, KinemaError, OutputExistsError


def check_output(output: Path, *, overwrite: bool, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse to write over an input, or over an existing output unless ``overwrite``."""
    target = output.resolve()
    for src in inputs:
        src_resolved = src.resolve()
        if target == src_resolved or (src_resolved.is_dir() and src_resolved in target.parents):
            raise OutputExistsError(f"output {output} would overwrite the input {src}")
        if target.is_dir() and target in src_resolved.parents:
            raise OutputExistsError(f"output {output} contains the input {src}")
    if output.exists() and not overwrite:
        raise OutputExistsError(f"output {output} exists (pass --overwrite to replace it)")


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
        tag = uuid.uuid4().hex[:8]
        self.path = parent / f".{self.target.stem}.kinema-{tag}.part{self.target.suffix}"
        if directory:
            self.path.mkdir()
        self._done = False

    def commit(self) -> Path:
        """Move the finished temporary onto the target (replacing it if allowed)."""
        if self.target.exists():
            if not self.overwrite:
                raise OutputExistsError(f"output {self.target} appeared while writing; not replaced")
            if self.target.is_dir() and not self.target.is_symlink():
                # Directories cannot be replaced atomically: move the old one aside first
                # so the target name is never missing for longer than two renames.
                trash = self.target.parent / f".{self.target.name}.kinema-old-{uuid.uuid4().hex[:8]}"
                os.replace(self.target, trash)
                os.replace(self.path, self.target)
                shutil.rmtree(trash, ignore_errors=True)
                self._done = True
                return self.target
        os.replace(self.path, self.target)
        self._done = True
        return self.target

    def discard(self) -> None:
        if self._done:
            return
        self._done = True
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
