"""A rollback journal under HDF5, so a ``kill -9`` mid-write never corrupts a recording.

HDF5 updates a file in place (superblock, B-tree nodes, heaps) while it appends an episode; a
process killed half-way can leave a file no library opens. :class:`JournaledFile` is the file
object h5py writes through (its ``fileobj`` driver): every write lands in an in-memory page
overlay, and :meth:`JournaledFile.commit` makes the change durable the way SQLite's rollback
journal does:

1. copy the *original* bytes of every committed page about to change, and the committed
   length, to ``<file>-journal``; fsync it;
2. write the new pages into the file, truncate it to its new length; fsync;
3. delete the journal (the commit point).

A crash before 3 leaves a journal; :func:`rollback` (run by the next writer and by ``verify``)
copies the original bytes back and truncates the file to the committed length, which restores
the file exactly as it was after the last commit. A crash while the journal itself is being
written leaves the file untouched (step 2 has not begun), and a torn journal is detected by
its checksums.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

PAGE = 4096
"""Overlay and journal granularity in bytes."""

_MAGIC = b"JSTJRNL1"
_HEADER = struct.Struct("<8sQI")  # magic, committed length, crc32 of the first two
_RECORD = struct.Struct("<QII")  # offset, length, crc32 of (offset, length, data)


def journal_path(path: Path) -> Path:
    """Return the journal file that belongs to ``path``."""
    return path.with_name(path.name + "-journal")


class JournaledFile(io.RawIOBase):
    """A read/write file object whose changes reach the disk only through :meth:`commit`.

    Reads see the pending writes. Nothing touches the real file before :meth:`commit`; until
    then the file on disk stays exactly as it was committed. Not thread-safe: one thread uses
    it (the recorder thread).
    """

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self._path = Path(path)
        self._journal = journal_path(self._path)
        self._durable = durable
        self._fd = os.open(self._path, os.O_RDWR)
        self._base = os.fstat(self._fd).st_size
        self._disk_limit = self._base
        self._size = self._base
        self._pages: dict[int, bytearray] = {}
        self._pos = 0

    # --- io.RawIOBase ---------------------------------------------------------------------
    def readable(self) -> bool:
        """Always readable."""
        return True

    def writable(self) -> bool:
        """Always writable."""
        return True

    def seekable(self) -> bool:
        """Always seekable."""
        return True

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        """Move the position (``SEEK_END`` is the logical size, pending writes included)."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def tell(self) -> int:
        """Return the position."""
        return self._pos

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """Read from the overlay where written, else from the committed file."""
        view = memoryview(buffer).cast("B")
        end = min(self._pos + len(view), self._size)
        done = 0
        while self._pos + done < end:
            pos = self._pos + done
            page, start = divmod(pos, PAGE)
            n = min(PAGE - start, end - pos)
            view[done : done + n] = self._page(page)[start : start + n]
            done += n
        self._pos += done
        return done

    def write(self, data: bytes | memoryview | bytearray) -> int:  # type: ignore[override]
        """Write into the overlay (the disk is untouched until :meth:`commit`)."""
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            pos = self._pos + done
            page, start = divmod(pos, PAGE)
            n = min(PAGE - start, len(view) - done)
            buf = self._pages.get(page)
            if buf is None:
                buf = self._pages[page] = bytearray(self._page(page))
            buf[start : start + n] = view[done : done + n]
            done += n
        self._pos += done
        self._size = max(self._size, self._pos)
        return done

    def truncate(self, size: int | None = None) -> int:
        """Set the logical size; bytes past it read as zeros if the file grows again."""
        size = self._pos if size is None else int(size)
        if size < self._size:
            for page in [p for p in self._pages if p * PAGE >= size]:
                del self._pages[page]
            keep, start = divmod(size, PAGE)
            if start and keep in self._pages:
                self._pages[keep][start:] = bytes(PAGE - start)
            self._disk_limit = min(self._disk_limit, size)
        self._size = size
        return size

    def flush(self) -> None:
        """Nothing to do: durability comes from :meth:`commit`."""

    def close(self) -> None:
        """Close the file descriptor; pending (uncommitted) writes are dropped."""
        if not self.closed:
            os.close(self._fd)
        super().close()

    # --- transactions -----------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Whether there are writes not yet committed."""
        return bool(self._pages) or self._size != self._base

    def commit(self) -> None:
        """Make every pending write durable, atomically with respect to a crash."""
        if not self.dirty:
            return
        try:
            self._write_journal()
        except BaseException:
            self._journal.unlink(missing_ok=True)  # the file itself was not touched
            raise
        try:
            self._apply()
        except BaseException:
            rollback(self._path, durable=self._durable)
            raise
        # The commit point. The directory is not fsynced after it: a power cut may bring the
        # journal back, which rolls this one commit back: consistent, one episode lost.
        self._journal.unlink()
        self._base = self._disk_limit = self._size
        self._pages.clear()

    def discard(self) -> None:
        """Drop every pending write."""
        self._pages.clear()
        self._size = self._disk_limit = self._base

    def _page(self, page: int) -> bytes | bytearray:
        buf = self._pages.get(page)
        if buf is not None:
            return buf
        offset = page * PAGE
        n = max(0, min(PAGE, self._disk_limit - offset))
        data = os.pread(self._fd, n, offset) if n else b""
        return data + bytes(PAGE - len(data))

    def _changed_committed_pages(self) -> list[int]:
        committed = -(-self._base // PAGE)
        lost_from = self._size // PAGE if self._size < self._base else committed
        pages = {p for p in self._pages if p < committed}
        pages.update(range(lost_from, committed))
        return sorted(pages)

    def _write_journal(self) -> None:
        parts = [_header(self._base)]
        for page in self._changed_committed_pages():
            offset = page * PAGE
            data = os.pread(self._fd, min(PAGE, self._base - offset), offset)
            parts.append(_record(offset, data))
        fd = os.open(self._journal, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            _write_all(fd, b"".join(parts))
            if self._durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if self._durable:
            _fsync_dir(self._path.parent)

    def _apply(self) -> None:
        for page in sorted(self._pages):
            offset = page * PAGE
            n = min(PAGE, self._size - offset)
            if n > 0:
                _pwrite_all(self._fd, memoryview(self._pages[page])[:n], offset)
        os.ftruncate(self._fd, self._size)
        if self._durable:
            os.fsync(self._fd)


def rollback(path: Path, *, durable: bool = True) -> bool:
    """Undo a commit that a crash interrupted; return whether there was anything to undo.

    Safe to run again if it is itself interrupted. A journal whose header is torn means the
    crash came before the file was touched, so only the journal is removed.
    """
    journal = journal_path(Path(path))
    if not journal.exists():
        return False
    raw = journal.read_bytes()
    base = _parse_header(raw)
    if base is not None and Path(path).exists():
        fd = os.open(path, os.O_RDWR)
        try:
            for offset, data in _parse_records(raw):
                _pwrite_all(fd, data, offset)
            os.ftruncate(fd, base)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    journal.unlink()
    if durable:
        _fsync_dir(journal.parent)
    return True


def _header(base: int) -> bytes:
    head = struct.pack("<8sQ", _MAGIC, base)
    return _HEADER.pack(_MAGIC, base, zlib.crc32(head))


def _parse_header(raw: bytes) -> int | None:
    if len(raw) < _HEADER.size:
        return None
    magic, base, crc = _HEADER.unpack_from(raw)
    if magic != _MAGIC or crc != zlib.crc32(struct.pack("<8sQ", magic, base)):
        return None
    return base


def _record(offset: int, data: bytes) -> bytes:
    head = struct.pack("<QI", offset, len(data))
    return _RECORD.pack(offset, len(data), zlib.crc32(data, zlib.crc32(head))) + data


def _parse_records(raw: bytes) -> list[tuple[int, bytes]]:
    records = []
    pos = _HEADER.size
    while pos + _RECORD.size <= len(raw):
        offset, n, crc = _RECORD.unpack_from(raw, pos)
        data = raw[pos + _RECORD.size : pos + _RECORD.size + n]
        head = struct.pack("<QI", offset, n)
        if len(data) != n or crc != zlib.crc32(data, zlib.crc32(head)):
            break  # torn tail: the file was not touched yet (journal is synced first)
        records.append((offset, data))
        pos += _RECORD.size + n
    return records


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _pwrite_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
