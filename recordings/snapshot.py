"""``recordings snapshot``: a consistent copy of a dataset that a run may be writing.

The project's own reader takes the dataset's shared I/O lock, so it never sees a commit half
applied. Readers that know nothing of the lock (``h5py.File``, ``minari.load_dataset`` in a
notebook) can, while a writer commits an episode in place, read a page the commit is
rewriting and fail with an HDF5 error such as "incorrect metadata checksum" (a retry reads the
committed file). A snapshot is taken under the lock: it is a plain Minari dataset of every
episode committed when it was taken, which no writer touches again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from recordings.foreign import is_foreign
from recordings.layout import dataset_paths
from recordings.reader import reading
from recordings.verify import verify
from sim.errors import UserError


@dataclass(frozen=True)
class Snapshot:
    """What :func:`snapshot` copied."""

    dataset: Path
    """The new dataset directory."""
    episodes: int
    """Episodes in it."""
    steps: int
    """Steps in it."""


def snapshot(dataset: Path | str, out: Path | str) -> Snapshot:
    """Copy ``dataset`` to ``out`` (a new ``NAME-vN`` directory) as of its last commit.

    The copy is made under the dataset's shared I/O lock (a writer's next commit waits for it,
    a few milliseconds per megabyte), checked and given its own metadata (its ``dataset_id`` is
    ``out``'s name), then moved into place in one rename: ``out`` never holds half a copy.

    Raises:
        UserError: ``out`` exists, ``dataset`` is not one of this project's recordings, or the
            copy is not sound.

    """
    src, dst = dataset_paths(dataset), dataset_paths(out)
    if dst.dataset.exists():
        raise UserError(f"{dst.dataset} already exists: give the snapshot a new NAME-vN path")
    if is_foreign(src):
        raise UserError(f"{src.dataset} was written by Minari, not by a run: copy it with cp -r")
    dst.dataset.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".snapshot-", dir=dst.dataset.parent) as tmp:
        staged = dataset_paths(Path(tmp) / dst.name)
        staged.data.mkdir(parents=True)
        with reading(src):
            shutil.copyfile(src.main, staged.main)
            if src.metadata.exists():  # author, requirements, ...; verify updates the counts
                shutil.copyfile(src.metadata, staged.metadata)
        report = verify(staged.dataset, repair=True)  # this copy's dataset_id, and a check
        if not report.sound:
            raise UserError(f"the snapshot of {src.dataset} is not sound: {report.problems_line()}")
        for leftover in (staged.writer_lock, staged.io_lock):
            leftover.unlink(missing_ok=True)
        os.rename(staged.dataset, dst.dataset)
    return Snapshot(dst.dataset, report.episodes, report.steps)
