"""Read recordings: episodes as numpy arrays, transitions filtered by actor, a summary.

Every function takes a ``DATASET`` directory and reads it safely while a writer appends to it
(the I/O lock keeps a commit and a read apart). A commit a crash interrupted is rolled back
first, as SQLite readers do with a hot journal (the episode being written is dropped; every
earlier one is intact); ``metadata.json`` counts are left for the next writer or ``verify``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from episode.types import Actor
from recordings.episode import Episode, group_problems, read_episode
from recordings.foreign import foreign_count, foreign_episodes, foreign_summary, is_foreign
from recordings.journal import journal_path, rollback
from recordings.layout import DatasetPaths, dataset_paths, io_lock, try_lock_writer, unlock
from recordings.schema import FORMAT_NAME, MAIN_FILE
from recordings.store import read_root_attrs, spaces_from_attrs
from recordings.summary import DatasetSummary, Tally
from sim.errors import UserError

log = logging.getLogger(__name__)

TRANSITION_KEYS: tuple[str, ...] = (
    "obs",
    "actions",
    "rewards",
    "next_obs",
    "terminations",
    "truncations",
    "actor",
    "h",
    "success",
    "episode",
    "t",
)
"""Keys of :func:`load_transitions`' result."""


@dataclass(frozen=True)
class _Opened:
    paths: DatasetPaths
    attrs: dict[str, Any]
    count: int


def _open(paths: DatasetPaths, file: h5py.File) -> _Opened:
    attrs = read_root_attrs(file)
    if attrs.get("format") != FORMAT_NAME:
        raise UserError(f"{paths.main} is not a Jump-Start Teleop recording (no format attribute)")
    ids = sorted(int(k.split("_", 1)[1]) for k in file if k.startswith("episode_"))
    if ids != list(range(len(ids))):
        raise UserError(f"{paths.dataset}: episode numbering has gaps; run recordings verify")
    return _Opened(paths, attrs, len(ids))


@contextlib.contextmanager
def reading(paths: DatasetPaths) -> Iterator[h5py.File]:
    """Open the main file read-only under the shared I/O lock (no commit lands meanwhile)."""
    if not paths.main.exists():  # before the lock, which would create its file
        where = "no such directory" if not paths.dataset.is_dir() else f"no data/{MAIN_FILE}"
        raise UserError(f"{paths.dataset} is not a dataset ({where})")
    if journal_path(paths.main).exists():
        _roll_back_hot_journal(paths)
    with io_lock(paths, exclusive=False):
        if journal_path(paths.main).exists():
            raise UserError(
                f"{paths.dataset} was interrupted mid-write; repair it with: "
                f"python launch.py recordings verify {paths.dataset}"
            )
        try:
            file = h5py.File(paths.main, "r")
        except OSError as e:
            raise UserError(
                f"{paths.main} is not a readable HDF5 file ({str(e).splitlines()[0]}); "
                "run recordings verify on it"
            ) from None
        with file:
            yield file


def _roll_back_hot_journal(paths: DatasetPaths) -> None:
    """Roll back a commit a crash interrupted, as SQLite readers do, if no writer is alive.

    A live writer holds the writer lock; its journal is then a commit in flight, which the
    shared I/O lock waits out. Without write access nothing is done (the caller then says to
    run ``recordings verify``).
    """
    try:
        fd = try_lock_writer(paths)
    except OSError:
        return
    if fd is None:
        return
    try:
        with io_lock(paths, exclusive=True):
            if rollback(paths.main):
                log.warning(
                    "%s: rolled back an episode a crash interrupted mid-write", paths.dataset
                )
    except OSError as e:
        log.warning("%s: could not roll back a crash's journal: %s", paths.dataset, e)
    finally:
        unlock(fd)


def _read(opened: _Opened, file: h5py.File, episode_id: int) -> Episode:
    if not 0 <= episode_id < opened.count:
        raise UserError(
            f"{opened.paths.dataset} has episodes 0..{opened.count - 1}, not {episode_id}"
        )
    obs_space, act_space = spaces_from_attrs(opened.attrs)
    name = f"episode_{episode_id}"
    problems = group_problems(file[name], name, obs_space.shape, act_space.shape, deep=False)
    if problems:
        raise UserError(f"{opened.paths.dataset}: {problems[0]}; run recordings verify")
    return read_episode(file, episode_id)


def episode_count(dataset: Path | str) -> int:
    """Number of episodes in ``dataset``."""
    paths = dataset_paths(dataset)
    if is_foreign(paths):
        return foreign_count(paths)
    with reading(paths) as f:
        return _open(paths, f).count


def read_one(dataset: Path | str, episode_id: int) -> Episode:
    """Read episode ``episode_id`` of ``dataset``."""
    paths = dataset_paths(dataset)
    if is_foreign(paths):
        return next(foreign_episodes(paths, [episode_id]))
    with reading(paths) as f:
        return _read(_open(paths, f), f, episode_id)


def iter_episodes(dataset: Path | str, ids: Iterable[int] | None = None) -> Iterator[Episode]:
    """Yield episodes of ``dataset`` (all that exist when iteration starts, or ``ids``).

    Each episode is read under its own short lock, so a writer appending to the dataset is
    held up by one episode's read at most, however slowly the caller consumes them.
    """
    paths = dataset_paths(dataset)
    if is_foreign(paths):
        yield from foreign_episodes(paths, ids)
        return
    if ids is None:
        ids = range(episode_count(paths.dataset))
    for episode_id in ids:
        with reading(paths) as f:
            episode = _read(_open(paths, f), f, int(episode_id))
        yield episode


def load_transitions(
    dataset: Path | str, actors: set[Actor] | None = None
) -> dict[str, np.ndarray]:
    """All transitions of ``dataset`` as flat arrays, optionally only those of some actors.

    Args:
        dataset: The dataset directory.
        actors: Keep only steps whose action one of these chose (None: every step); e.g.
            ``{Actor.GUIDE, Actor.HUMAN}`` for behaviour cloning on demonstrations.

    Returns:
        ``obs`` (N, obs_dim), ``actions`` (N, act_dim), ``rewards`` (N,), ``next_obs``
        (N, obs_dim), ``terminations`` (N,), ``truncations`` (N,), ``actor`` (N,) int8,
        ``h`` (N,), ``success`` (N,) (door open after the step), ``episode`` (N,) and ``t``
        (N,) (where each step came from). N may be 0.

    """
    keep = None if actors is None else np.array(sorted(int(a) for a in actors), dtype=np.int8)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in TRANSITION_KEYS}
    paths = dataset_paths(dataset)
    if is_foreign(paths):
        from sim.door import ACT_DIM, OBS_DIM

        for ep in foreign_episodes(paths):
            _append(parts, ep, keep)
        if not parts["obs"]:
            return _empty((OBS_DIM,), (ACT_DIM,), np.dtype(np.float64), np.dtype(np.float32))
        return {k: np.concatenate(v) for k, v in parts.items()}
    with reading(paths) as f:
        opened = _open(paths, f)
        obs_space, act_space = spaces_from_attrs(opened.attrs)
        for i in range(opened.count):
            _append(parts, _read(opened, f, i), keep)
    if not parts["obs"]:
        return _empty(obs_space.shape, act_space.shape, obs_space.dtype, act_space.dtype)
    return {k: np.concatenate(v) for k, v in parts.items()}


def _append(parts: dict[str, list[np.ndarray]], ep: Episode, keep: np.ndarray | None) -> None:
    mask = slice(None) if keep is None else np.isin(ep.actor, keep)
    steps = np.arange(len(ep))
    columns = {
        "obs": ep.observations[:-1],
        "actions": ep.actions,
        "rewards": ep.rewards,
        "next_obs": ep.observations[1:],
        "terminations": ep.terminations,
        "truncations": ep.truncations,
        "actor": ep.actor,
        "h": ep.step_h,
        "success": ep.step_success,
        "episode": np.full(len(ep), ep.id, dtype=np.int64),
        "t": steps,
    }
    for key, value in columns.items():
        parts[key].append(value[mask])


def _empty(
    obs_shape: tuple[int, ...], act_shape: tuple[int, ...], obs_dtype: Any, act_dtype: Any
) -> dict[str, np.ndarray]:
    dtypes = {
        "rewards": np.float64,
        "terminations": bool,
        "truncations": bool,
        "actor": np.int8,
        "h": np.int32,
        "success": bool,
        "episode": np.int64,
        "t": np.int64,
    }
    out = {k: np.zeros(0, dtype=v) for k, v in dtypes.items()}
    out["obs"] = out["next_obs"] = np.zeros((0, *obs_shape), dtype=obs_dtype)
    out["actions"] = np.zeros((0, *act_shape), dtype=act_dtype)
    return {k: out[k] for k in TRANSITION_KEYS}


def summarize(dataset: Path | str) -> DatasetSummary:
    """Summarize ``dataset`` from its attributes, rewards and actors (no observations read).

    A dataset Minari wrote (not this project) is read through Minari (:mod:`recordings.foreign`).

    Raises:
        UserError: Not a dataset, or an episode with a wrong structure or shapes.

    """
    paths = dataset_paths(dataset)
    if is_foreign(paths):
        return foreign_summary(paths)
    with reading(paths) as f:
        opened = _open(paths, f)
        obs_space, act_space = spaces_from_attrs(opened.attrs)
        tally = Tally(act_space)
        for i in range(opened.count):
            g = f[f"episode_{i}"]
            problems = group_problems(g, g.name[1:], obs_space.shape, act_space.shape, deep=False)
            if problems:
                raise UserError(f"{paths.dataset}: {problems[0]}; run recordings verify")
            tally.add(g["rewards"][()], g["infos/success"][1:], g["actions"][()],
                      g["infos/actor"][1:], dict(g.attrs))  # fmt: skip
    return tally.summary(paths, str(opened.attrs.get("env_id", "?")))
