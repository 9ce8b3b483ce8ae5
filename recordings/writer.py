"""The dataset writer: the main thread buffers steps, a recorder thread writes whole episodes.

The main thread calls :meth:`DatasetWriter.add_step` (O(1): a few array copies into a
preallocated buffer, no lock, no disk) and :meth:`DatasetWriter.end_episode` (hands the
episode's arrays to the recorder thread through a queue). The recorder thread writes each
episode as one HDF5 group through a rollback journal (:mod:`recordings.journal`), then updates
``metadata.json`` atomically, so a ``kill -9`` at any moment leaves every episode whose write
finished readable, and the next writer (``append=True``) or ``recordings verify`` repairs the rest.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import gymnasium as gym
import h5py
import numpy as np

import sim
from episode.types import Actor
from recordings.episode import Episode, make_attrs, write_episode
from recordings.journal import JournaledFile
from recordings.layout import (
    TMP_PREFIX,
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
from recordings.schema import COMMAND_DIM, COMMAND_KEY, INFO_KEYS, NO_ACTOR
from recordings.store import create_dataset, dataset_size_mb
from recordings.verify import open_for_append
from sim.errors import UserError

log = logging.getLogger(__name__)

_STOP = object()
_VALID_ACTORS = frozenset(int(a) for a in Actor)
_BUFFERS = ("_obs", "_act", "_rewards", "_term", "_trunc", "_actor", "_h", "_success", "_command")
_POLL_S = 0.25  # how often an idle recorder thread checks that the main thread still lives


class RecordingError(UserError):
    """The recorder thread failed (disk full, file removed, ...); written episodes are safe."""


class DatasetWriter:
    """Records episodes to a Minari-compatible dataset from a background thread.

    Usage::

        with DatasetWriter(Path("recordings/door-human-v0")) as writer:
            writer.begin_episode(obs, seed=0, h=200, guide_kind="human")
            writer.add_step(action, reward, next_obs, terminated, truncated,
                            actor=Actor.GUIDE, h=200, success=info["success"])
            writer.end_episode()

    An episode ended before the env ended it (``end_episode`` or ``close`` with the last step
    neither terminated nor truncated) is stored with ``truncations[-1] = True``, as Minari's
    own ``DataCollector`` does; an episode with no steps is not stored.
    """

    def __init__(
        self,
        dataset: Path,
        *,
        append: bool = False,
        env_id: str = sim.ENV_ID,
        author: str | None = None,
        author_email: str | None = None,
    ) -> None:
        """Open (or create) ``dataset`` and start the recorder thread.

        Args:
            dataset: Dataset directory, e.g. ``recordings/door-human-v0``.
            append: Add to an existing dataset (after repairing crash leftovers) instead of
                refusing; a missing dataset is created either way.
            env_id: Gymnasium id of the env being recorded (its spec goes into the metadata).
            author: Recorded in ``metadata.json`` (Minari's ``author``).
            author_email: Minari's ``author_email`` (default: ``$JUMPSTART_AUTHOR_EMAIL``,
                else git's ``user.email``, else none).

        Raises:
            UserError: Bad name, an existing dataset without ``append``, a path that is not a
                dataset, another writer on it, or a dataset of another env.

        """
        self._paths = dataset_paths(dataset)
        existed = self._paths.dataset.exists()
        self._lock_fd: int | None = self._lock(self._paths, append)
        try:
            self._open(env_id, author, author_email, append)
        except BaseException:
            unlock(self._lock_fd)
            if not existed:  # a disk that filled up while creating it: leave nothing behind
                shutil.rmtree(self._paths.dataset, ignore_errors=True)
            raise
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._episodes_written = 0
        self._steps_written = 0
        self._episodes_lost = 0
        self._episodes_queued = 0
        self._settled = threading.Condition()  # notified as each queued episode is settled
        self._closed = False
        self._meta: dict[str, Any] | None = None  # the episode in progress
        self._t = 0
        self._thread = threading.Thread(
            target=self._run, name=f"recorder:{self._paths.name}", daemon=False
        )
        self._thread.start()

    # --- set-up --------------------------------------------------------------------------------
    @staticmethod
    def _lock(paths: DatasetPaths, append: bool) -> int:
        if paths.dataset.exists() and not paths.dataset.is_dir():
            raise UserError(f"{paths.dataset} exists and is not a directory")
        if paths.exists() and not append:
            raise UserError(f"dataset {paths.dataset} exists; pass --append to add to it")
        if paths.dataset.is_dir() and not paths.exists():
            others = [p.name for p in paths.dataset.iterdir() if not p.name.startswith(".")]
            data_used = paths.data.is_dir() and any(
                not p.name.startswith(TMP_PREFIX) for p in paths.data.iterdir()
            )
            if (others and others != ["data"]) or data_used:
                raise UserError(
                    f"{paths.dataset} exists and is not a dataset (it holds {', '.join(others)}); "
                    "choose another --out"
                )
        paths.dataset.mkdir(parents=True, exist_ok=True)
        fd = try_lock_writer(paths)
        if fd is None:
            raise UserError(
                f"dataset {paths.dataset} is being written by another writer (pid "
                f"{lock_holder(paths)}); wait for it to finish or record to another dataset"
            )
        if paths.exists() and not append:  # again, under the lock: another writer may have
            unlock(fd)  # created it between the check above and now
            raise UserError(f"dataset {paths.dataset} exists; pass --append to add to it")
        return fd

    def _open(
        self, env_id: str, author: str | None, author_email: str | None, append: bool
    ) -> None:
        if append and self._paths.exists():
            state = open_for_append(self._paths, env_id)
            for line in state.fixed:
                log.warning("%s: %s", self._paths.dataset, line)
        else:
            for tmp in stale_temporaries(self._paths):  # a writer killed while creating it
                tmp.unlink()
            spaces = _env_spaces(env_id)
            state = create_dataset(self._paths, spaces, env_id, author, author_email)
        self._obs_space: gym.spaces.Box = state.observation_space
        self._act_space: gym.spaces.Box = state.action_space
        self._next_id = self._first_id = state.total_episodes
        self._total_steps = self._first_steps = state.total_steps
        self._created = state.created
        self._metadata = read_metadata(self._paths)  # sound now: created, or repaired
        self._obs_shape = tuple(self._obs_space.shape)
        self._act_shape = tuple(self._act_space.shape)

    # --- main-thread API -----------------------------------------------------------------------
    @property
    def dataset(self) -> Path:
        """The dataset directory."""
        return self._paths.dataset

    @property
    def created(self) -> bool:
        """Whether this writer created the dataset (False: it appends to an existing one)."""
        return self._created

    @property
    def error(self) -> BaseException | None:
        """The recorder thread's error (e.g. disk full), or None; never swallowed."""
        return self._error

    @property
    def episodes_written(self) -> int:
        """Episodes this writer has written and flushed (safe on disk)."""
        return self._episodes_written

    @property
    def dataset_episodes(self) -> int:
        """Episodes the dataset holds on disk: those it had when opened plus those written."""
        return self._first_id + self._episodes_written

    @property
    def dataset_steps(self) -> int:
        """Steps the dataset holds on disk: those it had when opened plus those written."""
        return self._first_steps + self._steps_written

    @property
    def steps_written(self) -> int:
        """Steps in the episodes this writer has written."""
        return self._steps_written

    @property
    def in_episode(self) -> bool:
        """Whether an episode has begun and not yet ended."""
        return self._meta is not None

    def raise_if_failed(self) -> None:
        """Re-raise the recorder thread's error in the caller's thread.

        Raises:
            RecordingError: The recorder thread failed; its message says what and how many
                episodes are safe; the original error is its ``__cause__``.

        """
        err = self._error
        if err is not None:
            raise RecordingError(
                f"recording to {self._paths.dataset} failed: {type(err).__name__}: {err}; "
                f"{self._episodes_written} episodes written this session are safe, "
                f"{self._episodes_lost} could not be written"
            ) from err

    def begin_episode(
        self,
        obs: np.ndarray,
        *,
        seed: int | None,
        h: int,
        guide_kind: str,
        weight_version: int = 0,
    ) -> None:
        """Start an episode from its reset observation.

        Args:
            obs: The observation ``env.reset`` returned.
            seed: The reset seed (None if reset without one).
            h: The episode's guide horizon (guide steps before the explorer takes over).
            guide_kind: The guide's ``kind``: human, scripted, imitation, policy, user.
            weight_version: The explorer's weight version for this episode.

        """
        self._check_open()
        if self._meta is not None:
            raise RuntimeError("begin_episode: an episode is in progress; end_episode() first")
        obs = np.asarray(obs)
        if obs.shape != self._obs_shape:
            raise ValueError(f"begin_episode: obs shape {obs.shape}, expected {self._obs_shape}")
        if not isinstance(guide_kind, str) or not guide_kind:
            raise ValueError(
                f"begin_episode: guide_kind must be a non-empty str, got {guide_kind!r}"
            )
        if int(h) < 0:
            raise ValueError(f"begin_episode: h must be >= 0, got {h}")
        self._meta = {
            "seed": None if seed is None else int(seed),
            "h": int(h),
            "guide_kind": guide_kind,
            "weight_version": int(weight_version),
        }
        self._alloc(256)
        self._obs[0] = obs
        self._actor[0], self._h[0], self._success[0] = NO_ACTOR, int(h), False
        self._command[0] = np.nan
        self._has_command = False
        self._t = 0

    def add_step(
        self,
        action: np.ndarray,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
        truncated: bool,
        *,
        actor: int,
        h: int,
        success: bool,
        command: np.ndarray | None = None,
    ) -> None:
        """Buffer one step (O(1), never blocks, never touches the disk).

        Args:
            action: The (sanitized) action given to ``env.step``.
            reward: The reward it returned.
            next_obs: The observation it returned.
            terminated: Its ``terminated`` flag.
            truncated: Its ``truncated`` flag.
            actor: Who chose the action (:class:`recordings.schema.Actor`).
            h: The guide horizon in force.
            success: ``info["success"]``: the door is open.
            command: The step as a (6,) Command vector, if the runner has one (stored as
                ``infos/command`` when every step of the episode has one).

        """
        if self._meta is None:
            raise RuntimeError("add_step before begin_episode")
        if action.shape != self._act_shape or next_obs.shape != self._obs_shape:
            raise ValueError(
                f"add_step: action {action.shape} / next_obs {next_obs.shape}, "
                f"expected {self._act_shape} / {self._obs_shape}"
            )
        if actor not in _VALID_ACTORS:
            raise ValueError(f"add_step: actor must be one of {sorted(_VALID_ACTORS)}, got {actor}")
        t = self._t
        if t == len(self._rewards):
            self._grow()
        self._act[t] = action
        self._obs[t + 1] = next_obs
        self._rewards[t] = reward
        self._term[t] = terminated
        self._trunc[t] = truncated
        self._actor[t + 1] = actor
        self._h[t + 1] = h
        self._success[t + 1] = success
        if command is None:
            self._command[t + 1] = np.nan
        else:
            self._command[t + 1] = command
            self._has_command = True
        self._t = t + 1

    def end_episode(self) -> None:
        """Hand the episode to the recorder thread, which writes and flushes it.

        Raises:
            RecordingError: The recorder thread has failed (see :meth:`raise_if_failed`).

        """
        if self._meta is None:
            raise RuntimeError("end_episode without begin_episode")
        self._enqueue_current()
        self.raise_if_failed()

    def wait_committed(self, timeout: float | None = None) -> bool:
        """Block until every episode handed to the writer is committed (or failed).

        A checkpoint taken after this counts only what the dataset holds: a ``kill -9`` right
        after it loses no episode the checkpoint counts.

        Returns:
            True when all are settled, False if ``timeout`` seconds passed first.

        """
        with self._settled:
            return self._settled.wait_for(
                lambda: (
                    self._episodes_written + self._episodes_lost >= self._episodes_queued
                    or not self._thread.is_alive()
                ),
                timeout,
            )

    def discard_episode(self) -> None:
        """Drop the episode in progress without writing it (e.g. the user reset mid-way)."""
        self._meta = None
        self._t = 0

    def close(self, timeout: float | None = None) -> None:
        """Write the episode in progress (truncated), drain the queue, join the thread.

        Idempotent. Also called by ``with DatasetWriter(...)``.

        Args:
            timeout: Seconds to wait for the recorder thread (None: as long as it takes).

        Raises:
            RecordingError: The recorder thread failed, or is still writing after ``timeout``
                (it goes on in the background; call ``close`` again to wait more).

        """
        if not self._closed:
            self._closed = True
            if self._meta is not None:
                self._enqueue_current()
            self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RecordingError(
                f"the recorder of {self._paths.dataset} is still writing after {timeout} s "
                f"({self._episodes_written} episodes written so far)"
            )
        unlock(self._lock_fd)
        self._lock_fd = None
        if self._error is not None and self._created and self.dataset_episodes == 0:
            shutil.rmtree(self._paths.dataset, ignore_errors=True)  # created, failed, empty
        self.raise_if_failed()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        try:  # keep what was recorded, but never hide the error that got us here
            self.close()
        except RecordingError as e:
            if not isinstance(exc, RecordingError):  # else it is the same error, raised again
                log.error("%s", e)

    # --- buffers -------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the writer of {self._paths.dataset} is closed")

    def _alloc(self, steps: int) -> None:
        self._obs = np.empty((steps + 1, *self._obs_shape), dtype=self._obs_space.dtype)
        self._act = np.empty((steps, *self._act_shape), dtype=self._act_space.dtype)
        self._rewards = np.empty(steps, dtype=np.float64)
        self._term = np.empty(steps, dtype=bool)
        self._trunc = np.empty(steps, dtype=bool)
        self._actor = np.empty(steps + 1, dtype=INFO_KEYS["actor"])
        self._h = np.empty(steps + 1, dtype=INFO_KEYS["h"])
        self._success = np.empty(steps + 1, dtype=INFO_KEYS["success"])
        self._command = np.empty((steps + 1, COMMAND_DIM), dtype=np.float32)

    def _grow(self) -> None:
        old = [getattr(self, name) for name in _BUFFERS]
        self._alloc(2 * len(self._rewards))
        for name, arr in zip(_BUFFERS, old, strict=True):
            getattr(self, name)[: len(arr)] = arr

    def _enqueue_current(self) -> None:
        meta, t = self._meta, self._t
        self._meta, self._t = None, 0
        if meta is None or t == 0:
            return
        trunc = self._trunc[:t]
        if not (self._term[t - 1] or trunc[t - 1]):
            trunc[t - 1] = True  # ended by the caller: truncated, as Minari's DataCollector does
        infos = {
            "actor": self._actor[: t + 1],
            "h": self._h[: t + 1],
            "success": self._success[: t + 1],
        }
        if self._has_command and np.isfinite(self._command[1 : t + 1]).all():
            infos[COMMAND_KEY] = self._command[: t + 1]
        with self._settled:
            self._episodes_queued += 1
        self._queue.put(
            (
                meta,
                self._obs[: t + 1],
                self._act[:t],
                self._rewards[:t],
                self._term[:t],
                trunc,
                infos,
            )
        )

    # --- recorder thread -----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if threading.main_thread().is_alive() or self._closed:
                    continue
                self._closed = True  # the program ended without close(): finish as close() would
                self._enqueue_current()
                self._queue.put(_STOP)
                continue
            if item is _STOP:
                break
            if self._error is not None:
                self._episodes_lost += 1
                self._notify_settled()
                continue
            try:
                self._write(item)
            except BaseException as e:
                self._error = e
                self._episodes_lost += 1
                log.debug("recording to %s failed: %r", self._paths.dataset, e)  # raised later
            self._notify_settled()
        if not threading.main_thread().is_alive():
            unlock(self._lock_fd)
            self._lock_fd = None

    def _notify_settled(self) -> None:
        with self._settled:
            self._settled.notify_all()

    def _write(self, item: tuple[Any, ...]) -> None:
        meta, obs, act, rewards, term, trunc, infos = item
        ep = Episode(
            id=self._next_id,
            observations=obs,
            actions=act,
            rewards=rewards,
            terminations=term,
            truncations=trunc,
            infos=infos,
            attrs=make_attrs(self._next_id, rewards, infos["success"], meta),
        )
        jf = JournaledFile(self._paths.main)
        try:
            with h5py.File(jf, "a", track_order=True) as f:
                write_episode(f, ep)
            with io_lock(self._paths, exclusive=True):
                jf.commit()
                self._next_id += 1
                self._total_steps += len(rewards)
                self._episodes_written += 1
                self._steps_written += len(rewards)
                self._update_metadata()
        finally:
            jf.close()

    def _update_metadata(self) -> None:
        meta = self._metadata  # kept in memory: a metadata.json deleted meanwhile comes back
        meta["total_episodes"] = self._next_id
        meta["total_steps"] = self._total_steps
        meta["dataset_size"] = dataset_size_mb(self._paths)
        # not fsynced: the counts are derived data that repair rebuilds from the HDF5 file
        write_metadata(self._paths, meta, durable=False)


def _env_spaces(env_id: str) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    """The observation and action spaces of ``env_id`` (makes the env once)."""
    try:
        env = gym.make(env_id)
    except gym.error.Error as e:
        raise UserError(f"cannot record env {env_id!r}: {e}") from None
    try:
        return env.observation_space, env.action_space  # type: ignore[return-value]
    finally:
        env.close()
