"""Where a dataset's files sit, Minari's ``metadata.json``, and the locks around them.

A ``DATASET`` on the command line is a directory such as ``recordings/door-human-v0``: its
last component is the Minari dataset id (``name-vN``), its parent the datasets root
(``MINARI_DATASETS_PATH``). The files are where Minari puts them::

    DATASET/data/main_data.hdf5         episodes (see recordings/README.md)
    DATASET/data/metadata.json          Minari's dataset metadata
    DATASET/data/main_data.hdf5-journal only while an episode is being committed (or after a crash)
    DATASET/.writer.lock                flock: one writer at a time
    DATASET/.io.lock                    flock: readers never see a commit half-applied
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from recordings.schema import MAIN_FILE, METADATA_FILE
from sim.errors import UserError

try:
    import fcntl
except ImportError:  # pragma: no cover  (Windows: no advisory locks, one writer by convention)
    fcntl = None  # type: ignore[assignment]

NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*-v\d+")
"""A Minari dataset id without namespace: ``name-vN``."""

TMP_PREFIX = ".tmp-"
"""Prefix of temporary files written next to their target and renamed over it."""


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_current_umask()
"""Mode of the files we create (``mkstemp`` would make them private to the owner)."""


def make_temp(target: Path) -> tuple[int, Path]:
    """Create a temporary file next to ``target`` (same directory, so ``os.replace`` is atomic)."""
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX + target.name + ".", dir=target.parent)
    os.fchmod(fd, FILE_MODE)
    return fd, Path(tmp)


@dataclass(frozen=True)
class DatasetPaths:
    """Every path that belongs to one dataset directory."""

    dataset: Path
    """The dataset directory, e.g. ``recordings/door-human-v0``."""

    @property
    def name(self) -> str:
        """The Minari dataset id (the directory's name)."""
        return self.dataset.name

    @property
    def root(self) -> Path:
        """The datasets root: what ``MINARI_DATASETS_PATH`` must point at."""
        return self.dataset.parent

    @property
    def data(self) -> Path:
        """``DATASET/data``."""
        return self.dataset / "data"

    @property
    def main(self) -> Path:
        """``DATASET/data/main_data.hdf5``."""
        return self.data / MAIN_FILE

    @property
    def metadata(self) -> Path:
        """``DATASET/data/metadata.json``."""
        return self.data / METADATA_FILE

    @property
    def writer_lock(self) -> Path:
        """Held (flock, exclusive) by the one writer for its whole life."""
        return self.dataset / ".writer.lock"

    @property
    def io_lock(self) -> Path:
        """Exclusive while a commit is applied, shared while a reader reads."""
        return self.dataset / ".io.lock"

    def exists(self) -> bool:
        """Whether a dataset (or what is left of one) is here."""
        return self.main.exists() or self.metadata.exists()


def dataset_paths(dataset: Path | str) -> DatasetPaths:
    """Validate a ``DATASET`` argument's name and return its paths.

    Raises:
        UserError: The last path component is not a Minari id ``name-vN``.

    """
    path = Path(dataset).expanduser()
    if path.name in ("", ".", "..") or not NAME_RE.fullmatch(path.name):
        raise UserError(
            f"dataset name {path.name!r} (from {str(dataset)!r}) must look like NAME-vN, "
            "e.g. recordings/door-human-v0: the last part of the path is the Minari dataset id"
        )
    return DatasetPaths(path)


def serialize_space(space: spaces.Space) -> str:
    """Serialize a Box the way ``minari.serialization.serialize_space`` does."""
    if not isinstance(space, spaces.Box):
        raise UserError(f"recordings support Box spaces only, got {space}")
    return json.dumps(
        {
            "type": "Box",
            "dtype": str(space.dtype),
            "shape": list(space.shape),
            "low": space.low.tolist(),
            "high": space.high.tolist(),
        }
    )


def deserialize_space(text: str) -> spaces.Box:
    """Inverse of :func:`serialize_space` (Box only)."""
    d = json.loads(text)
    if d.get("type") != "Box":
        raise ValueError(f"unsupported space type {d.get('type')!r}")
    dtype = np.dtype(d["dtype"])
    low = np.asarray(d["low"], dtype=dtype).reshape(d["shape"])
    high = np.asarray(d["high"], dtype=dtype).reshape(d["shape"])
    return spaces.Box(low=low, high=high, shape=tuple(d["shape"]), dtype=dtype)


def read_metadata(paths: DatasetPaths) -> dict[str, Any]:
    """Read ``metadata.json``.

    Raises:
        UserError: It is missing or not a JSON object.

    """
    try:
        meta = json.loads(paths.metadata.read_text())
    except FileNotFoundError:
        raise UserError(f"{paths.metadata} is missing") from None
    except (OSError, ValueError) as e:
        raise UserError(f"{paths.metadata} is not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise UserError(f"{paths.metadata} is not a JSON object")
    return meta


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``path`` through a temporary file and ``os.replace``: old or new, never half."""
    fd, tmp = make_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_metadata(paths: DatasetPaths, meta: dict[str, Any], *, durable: bool = True) -> None:
    """Write ``metadata.json`` atomically."""
    write_atomic(paths.metadata, json.dumps(meta, indent=1).encode(), durable=durable)


def stale_temporaries(paths: DatasetPaths) -> list[Path]:
    """Temporary files a killed writer left in ``DATASET/data``."""
    if not paths.data.is_dir():
        return []
    return sorted(p for p in paths.data.iterdir() if p.name.startswith(TMP_PREFIX))


def try_lock_writer(paths: DatasetPaths) -> int | None:
    """Take the writer lock without waiting; return its fd, or None if another holds it."""
    fd = os.open(paths.writer_lock, os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def lock_holder(paths: DatasetPaths) -> str:
    """The pid written by the writer holding the lock, for messages."""
    try:
        return paths.writer_lock.read_text().strip() or "?"
    except OSError:
        return "?"


def unlock(fd: int | None) -> None:
    """Release a lock taken by :func:`try_lock_writer` (closing the fd releases flock)."""
    if fd is not None:
        os.close(fd)


@contextlib.contextmanager
def io_lock(paths: DatasetPaths, *, exclusive: bool) -> Iterator[None]:
    """Hold the I/O lock: exclusive around a commit, shared around a read.

    Where the lock file cannot be created (a read-only copy of a dataset), reads go unlocked:
    no writer can be committing there either.
    """
    try:
        fd = os.open(paths.io_lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)
