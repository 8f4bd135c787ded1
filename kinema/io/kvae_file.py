"""``.kvae`` files: a video sent as a per-video autoencoder plus a few small frames.

Layout (all integers little-endian)::

    magic    8 bytes   b"KVAE\\r\\n\\x1a\\n" (a line-ending or 7-bit transfer that mangled
                       the file shows up here, as in PNG's signature)
    version  uint16    FORMAT_VERSION
    length   uint32    bytes of the header
    header   JSON      UTF-8; its "sections" lists [name, bytes] in file order
    sections           the bytes of each section, back to back
    digest   32 bytes  sha256 of everything before it

What the sections hold is the writer's business (:mod:`kinema.pipelines.vsae.transmit`);
this module only guarantees that what is read back is exactly what was written, and that
a foreign, newer, truncated or damaged file is refused with a message saying which.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

from kinema.io.atomic import AtomicOutput, check_output
from kinema.types import BadInputError

MAGIC = b"KVAE\r\n\x1a\n"
FORMAT_VERSION = 1
SUFFIX = ".kvae"
_PREFIX = struct.Struct("<8sHI")
_DIGEST = 32


@dataclass(frozen=True)
class KvaeContents:
    header: dict
    sections: dict[str, bytes]
    #: Size of the whole file, in bytes.
    size: int


def write_kvae(path: Path, header: dict, sections: dict[str, bytes], *, overwrite: bool = False, inputs: tuple[Path, ...] = ()) -> int:
    """Write ``header`` (JSON-able; "sections" is filled in here) and ``sections`` to
    ``path`` atomically; returns the file's size in bytes."""
    path = Path(path)
    if path.suffix != SUFFIX:
        raise BadInputError(f"{path}: a packed video is written as {SUFFIX}")
    check_output(path, overwrite=overwrite, inputs=inputs)
    head = json.dumps({**header, "sections": [[name, len(data)] for name, data in sections.items()]}, sort_keys=True).encode()
    body = b"".join((_PREFIX.pack(MAGIC, FORMAT_VERSION, len(head)), head, *sections.values()))
    blob = body + hashlib.sha256(body).digest()
    out = AtomicOutput(path, overwrite=overwrite)
    try:
        out.path.write_bytes(blob)
        out.commit()
    finally:
        out.discard()
    return len(blob)


def read_kvae(path: Path) -> KvaeContents:
    """The header and sections of a ``.kvae`` file, verified; :class:`BadInputError` with
    the reason for anything else."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    blob = path.read_bytes()
    if len(blob) < _PREFIX.size:
        if MAGIC.startswith(blob[: len(MAGIC)]) and blob:
            raise BadInputError(f"{path}: truncated ({len(blob)} bytes: not even the header survived)")
        raise BadInputError(f"{path}: not a kinema packed video (.kvae, written by 'kinema vsae pack')")
    magic, version, length = _PREFIX.unpack_from(blob)
    if magic != MAGIC:
        raise BadInputError(f"{path}: not a kinema packed video (.kvae, written by 'kinema vsae pack')")
    if version > FORMAT_VERSION:
        raise BadInputError(f"{path}: .kvae format version {version} is newer than this kinema reads ({FORMAT_VERSION}); update kinema")
    if len(blob) < _PREFIX.size + length + _DIGEST:
        raise BadInputError(f"{path}: truncated ({len(blob):,} bytes; its header alone should take {_PREFIX.size + length:,})")
    try:
        header = json.loads(blob[_PREFIX.size : _PREFIX.size + length].decode())
        names = [(str(name), int(size)) for name, size in header["sections"]]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        names = None
    # The length the header declares tells a truncated file from a damaged one; a
    # header too damaged to declare it falls through to the checksum.
    if names is not None:
        expected = _PREFIX.size + length + sum(size for _, size in names) + _DIGEST
        if len(blob) < expected:
            raise BadInputError(f"{path}: truncated ({len(blob):,} of {expected:,} bytes)")
        if len(blob) > expected:
            raise BadInputError(f"{path}: damaged ({len(blob) - expected:,} bytes more than its header declares)")
    body, digest = blob[:-_DIGEST], blob[-_DIGEST:]
    if hashlib.sha256(body).digest() != digest:
        raise BadInputError(f"{path}: checksum mismatch (the file is damaged)")
    if names is None:  # written with a valid checksum, yet unreadable: not our writer's
        raise BadInputError(f"{path}: unreadable .kvae header")
    sections, offset = {}, _PREFIX.size + length
    for name, size in names:
        sections[name] = blob[offset : offset + size]
        offset += size
    return KvaeContents(header=header, sections=sections, size=len(blob))
