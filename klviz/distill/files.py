"""Atomic file writes: every file the trainer writes (checkpoints, metrics, data caches) goes
through :func:`atomic_write`, so a crash or a SIGKILL at any moment leaves either the old file or
the new one, never half of one, and no temporary file behind.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "write_csv", "write_json"]


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", *, newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on success rename it over ``path``.

    The bytes are flushed and fsync'ed before :func:`os.replace` (atomic on POSIX and Windows)
    and the directory entry is fsync'ed after it, so the rename survives a power cut. If the
    body raises, the temporary file is deleted and ``path`` is left as it was. Two writers (e.g.
    two DDP ranks filling a cache) each write their own temporary file, so neither sees half of
    the other's.

    >>> with atomic_write("out.json", "w") as fh:  # doctest: +SKIP
    ...     fh.write("{}")
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode={mode!r}: atomic_write writes whole files; use 'w' (text) or 'wb' (bytes)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, newline=newline) if mode == "w" else os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # the rename itself is durable only once the directory entry is on disk
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open directories
        return
    try:
        os.fsync(dfd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(dfd)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """``obj`` as indented JSON, written atomically."""
    with atomic_write(path, "w") as fh:
        json.dump(obj, fh, indent=1)


def write_csv(path: str | os.PathLike, rows: Sequence[dict[str, Any]]) -> None:
    """``rows`` (dicts with the keys of the first row) as CSV with a header, written atomically."""
    with atomic_write(path, "w", newline="") as fh:
        if rows:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
