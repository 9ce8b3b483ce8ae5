"""Check a dataset and repair what a crash can leave behind.

Repairable (``repair=True``; each repair is reported):
  * a rollback journal: a commit a crash interrupted; rolled back, so the file is exactly as
    after the last complete episode;
  * temporary files a killed writer left;
  * a last episode group that lacks datasets or attributes (only another tool's interrupted
    write can leave one: ours go through the journal); removed;
  * ``metadata.json`` missing, unreadable, or with stale counts, a stale ``dataset_id`` (the
    directory was renamed) or spaces that disagree with the HDF5 file; rewritten.

Not repairable (reported as problems; nothing is touched): a name that is not ``name-vN``, a
path that is not a dataset, an HDF5 file that is truncated, corrupt or not ours, episodes with
wrong shapes or values, gaps in the episode numbering.
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import h5py

from recordings.episode import group_problems
from recordings.journal import JournaledFile, journal_path, rollback
from recordings.layout import (
    DatasetPaths,
    dataset_paths,
    io_lock,
    lock_holder,
    read_metadata,
    stale_temporaries,
    try_lock_writer,
    unlock,
    write_metadata,
)
from recordings.schema import FORMAT_NAME, MAIN_FILE, SCHEMA_VERSION
from recordings.store import (
    DatasetState,
    build_metadata,
    dataset_size_mb,
    read_root_attrs,
    spaces_equal,
    spaces_from_attrs,
)
from sim.errors import UserError

_EPISODE_RE = re.compile(r"episode_(\d+)")
_MAX_LISTED = 4


@dataclass
class VerifyReport:
    """The outcome of :func:`check`."""

    dataset: Path
    """The dataset directory."""
    episodes: int = 0
    """Sound episodes."""
    steps: int = 0
    """Steps in the sound episodes."""
    env_id: str = ""
    """The recorded env's Gymnasium id."""
    observation_space: Any = None
    """The observation space (a Box)."""
    action_space: Any = None
    """The action space (a Box)."""
    fixed: list[str] = field(default_factory=list)
    """What was repaired."""
    problems: list[str] = field(default_factory=list)
    """What is wrong and was not repaired."""
    notes: list[str] = field(default_factory=list)
    """What else a user should know (e.g. checked read-only)."""

    @property
    def sound(self) -> bool:
        """Whether nothing is wrong (after the repairs)."""
        return not self.problems

    def problems_line(self) -> str:
        """The problems on one line (the first few, then a count)."""
        shown = "; ".join(self.problems[:_MAX_LISTED])
        more = len(self.problems) - _MAX_LISTED
        return shown + (f"; and {more} more" if more > 0 else "")


def verify(dataset: Path | str, *, repair: bool = True) -> VerifyReport:
    """Check ``dataset`` (repairing crash leftovers unless ``repair`` is False).

    Raises:
        UserError: Not a dataset, a bad name, or another writer holds the dataset.

    """
    paths = dataset_paths(dataset)
    _require_dataset_dir(paths)
    try:
        fd = try_lock_writer(paths)
    except OSError as e:  # a read-only copy (a mounted archive): check it, repair nothing
        if e.errno not in (errno.EROFS, errno.EACCES):
            raise
        report = check(paths, repair=False)
        report.notes.append(f"{paths.dataset} is read-only ({e.strerror}): checked, not repaired")
        return report
    if fd is None:
        raise UserError(
            f"dataset {paths.dataset} is being written by process {lock_holder(paths)}; "
            "verify it when that writer has finished"
        )
    try:
        return check(paths, repair=repair)
    finally:
        unlock(fd)


def _require_dataset_dir(paths: DatasetPaths) -> None:
    if not paths.dataset.exists():
        raise UserError(f"no dataset at {paths.dataset}: the directory does not exist")
    if not paths.dataset.is_dir():
        raise UserError(f"{paths.dataset} is not a dataset directory (it is a file)")
    if not paths.main.exists():
        if paths.metadata.exists():
            raise UserError(f"{paths.main} is missing: only metadata.json is left, no episodes")
        raise UserError(f"{paths.dataset} is not a dataset: it has no data/{MAIN_FILE}")


def check(paths: DatasetPaths, *, repair: bool) -> VerifyReport:
    """Check (and repair) a dataset whose writer lock the caller holds.

    Raises:
        UserError: The directory is not a dataset, or its HDF5 file is unreadable or foreign.

    """
    _require_dataset_dir(paths)
    report = VerifyReport(paths.dataset)
    _crash_leftovers(paths, report, repair)
    if journal_path(paths.main).exists():
        return report  # not rolled back: the file may be half-updated; nothing more to read
    attrs, names = _open_main(paths)
    report.env_id = str(attrs.get("env_id", ""))
    report.observation_space, report.action_space = _spaces(paths, attrs)
    ids = _episode_ids(names, report)
    _check_episodes(paths, ids, report, repair)
    _check_metadata(paths, attrs, report, repair)
    return report


def _crash_leftovers(paths: DatasetPaths, report: VerifyReport, repair: bool) -> None:
    if journal_path(paths.main).exists():
        if repair:
            with io_lock(paths, exclusive=True):
                rollback(paths.main)
            report.fixed.append(
                "rolled back the episode a crash interrupted mid-write "
                "(the file is as after the last complete episode)"
            )
        else:
            report.problems.append(
                f"a crash interrupted a write ({journal_path(paths.main).name} is present); "
                "run verify without --no-repair to roll it back"
            )
    for tmp in stale_temporaries(paths):
        if repair:
            tmp.unlink(missing_ok=True)
            report.fixed.append(f"removed {tmp.name}, a temporary file a killed writer left")
        else:
            report.problems.append(f"temporary file {tmp.name} left by a killed writer")


def _open_main(paths: DatasetPaths) -> tuple[dict[str, Any], list[str]]:
    try:
        with h5py.File(paths.main, "r") as f:
            attrs, names = read_root_attrs(f), list(f.keys())
    except OSError as e:
        reason = str(e).splitlines()[0]
        raise UserError(
            f"{paths.main} is not a readable HDF5 file (truncated or corrupt: {reason}); "
            "it cannot be repaired: restore it from a copy"
        ) from None
    if attrs.get("format") != FORMAT_NAME:
        raise UserError(
            f"{paths.main} is not a Jump-Start Teleop recording (its root has no "
            f"format={FORMAT_NAME!r} attribute); recordings are made by collect, train or the app"
        )
    version = int(attrs.get("schema_version", 0))
    if version > SCHEMA_VERSION:
        raise UserError(
            f"{paths.main} has schema version {version}, newer than this program's "
            f"{SCHEMA_VERSION}; update Jump-Start Teleop to read it"
        )
    return attrs, names


def _spaces(paths: DatasetPaths, attrs: dict[str, Any]) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    try:
        return spaces_from_attrs(attrs)
    except (KeyError, TypeError, ValueError) as e:
        raise UserError(f"{paths.main} has unreadable space attributes ({e!r})") from None


def _episode_ids(names: list[str], report: VerifyReport) -> list[int]:
    ids = []
    for name in names:
        m = _EPISODE_RE.fullmatch(name)
        if m is None:
            report.problems.append(f"unexpected entry {name!r} in {MAIN_FILE}")
        else:
            ids.append(int(m.group(1)))
    ids.sort()
    missing = sorted(set(range(len(ids))) - set(ids))
    if missing:
        report.problems.append(
            f"episode numbering has gaps: {len(missing)} missing, first episode_{missing[0]}"
        )
    return ids


def _check_episodes(
    paths: DatasetPaths, ids: list[int], report: VerifyReport, repair: bool
) -> None:
    obs_shape = tuple(report.observation_space.shape)
    act_shape = tuple(report.action_space.shape)
    with h5py.File(paths.main, "r") as f:
        found = {
            i: group_problems(f[f"episode_{i}"], f"episode_{i}", obs_shape, act_shape) for i in ids
        }
        steps = {i: int(f[f"episode_{i}/rewards"].shape[0]) for i in ids if not found[i]}
    last = ids[-1] if ids else None
    if last is not None and _half_written(found[last]):
        if repair:
            _remove_group(paths, f"episode_{last}")
            report.fixed.append(f"removed episode_{last}: half-written ({found.pop(last)[0]})")
        else:
            report.problems.append(f"episode_{last} is half-written ({found[last][0]})")
            found.pop(last)
    for problems in found.values():
        report.problems.extend(problems)
    report.episodes = len(steps)
    report.steps = sum(steps.values())


def _half_written(problems: list[str]) -> bool:
    return len(problems) == 1 and " lacks " in problems[0]


def _remove_group(paths: DatasetPaths, name: str) -> None:
    jf = JournaledFile(paths.main)
    try:
        with h5py.File(jf, "a", track_order=True) as f:
            del f[name]
        with io_lock(paths, exclusive=True):
            jf.commit()
    finally:
        jf.close()


def _check_metadata(
    paths: DatasetPaths, attrs: dict[str, Any], report: VerifyReport, repair: bool
) -> None:
    size = dataset_size_mb(paths)
    want = build_metadata(attrs, paths.name, report.episodes, report.steps, size)
    try:
        meta = read_metadata(paths)
    except UserError as e:
        wrong = [str(e)]
        meta = {}
    else:
        wrong = _metadata_differences(meta, want)
    if not wrong:
        return
    if report.problems:  # unsound episodes: counting them would hide the problem; keep as is
        report.problems.extend(f"metadata.json: {w}" for w in wrong)
        return
    if not repair:
        report.problems.extend(f"metadata.json: {w}" for w in wrong)
        return
    merged = {**meta, **{k: want[k] for k in _KEYS_FROM_FILE}, "dataset_size": size}
    for key, value in want.items():
        merged.setdefault(key, value)
    with io_lock(paths, exclusive=True):
        write_metadata(paths, merged)
    report.fixed.append("rewrote metadata.json: " + "; ".join(wrong))


_KEYS_FROM_FILE = (
    "dataset_id",
    "total_episodes",
    "total_steps",
    "data_format",
    "observation_space",
    "action_space",
    "minari_version",
)


def _metadata_differences(meta: dict[str, Any], want: dict[str, Any]) -> list[str]:
    wrong = []
    for key in _KEYS_FROM_FILE:
        have = meta.get(key)
        if key in ("observation_space", "action_space"):
            same = isinstance(have, str) and spaces_equal(have, want[key])
        else:
            same = have == want[key]
        if not same:
            shown = "missing" if key not in meta else f"{have!r}"[:60]
            wrong.append(f"{key} was {shown}, the data says {want[key]!r}"[:140])
    if "env_spec" in want and "env_spec" not in meta:
        wrong.append("env_spec was missing")
    return wrong


def open_for_append(paths: DatasetPaths, env_id: str) -> DatasetState:
    """Repair crash leftovers, check the dataset, and return its state for appending.

    Raises:
        UserError: The dataset is unsound (see ``recordings verify``) or records another env.

    """
    report = check(paths, repair=True)
    if report.problems:
        raise UserError(f"cannot append to {paths.dataset}: {report.problems_line()}")
    if report.env_id != env_id:
        raise UserError(
            f"cannot append to {paths.dataset}: it records env {report.env_id!r}, not {env_id!r}"
        )
    return DatasetState(
        report.observation_space,
        report.action_space,
        report.episodes,
        report.steps,
        created=False,
        fixed=report.fixed,
    )
