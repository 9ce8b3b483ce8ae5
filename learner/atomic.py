"""Atomic file writes: a temporary name beside the file, then ``os.replace``.

A crash mid-write never leaves a torn file, and a failed write (disk full, read-only) leaves
no temporary behind. Checkpoints, ``config.json``, the metrics CSVs and the plots use it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], object], *, sync: bool = False) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then move it into place.

    Args:
        path: The file to (re)place.
        write: Writes the whole content to the path it is given.
        sync: fsync the temporary file before the rename (durable across power loss).

    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        if sync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


__all__ = ["atomic_write"]
