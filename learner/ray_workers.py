"""Rollout workers on Ray Core: ``train``, ``collect`` and ``eval`` with ``--workers N > 1``.

Imported only when ``--workers N > 1`` (so ``import ray`` never happens otherwise). Each
worker is a Ray actor with its own door env, guide and explorer, built by the builders the
single-process session uses, and playing episodes through the one
:class:`~episode.runner.EpisodeRunner`. The driver keeps everything else: the curriculum (so
``h``), the counters, the learner thread, evaluation, checkpoints, plots and the one dataset
writer.

Each episode a worker is given is an :class:`EpisodeTask`: its index in the run (its seed),
the curriculum's ``h`` now, whether it is a deterministic trial, and the newest weights (one
``ray.put`` per version, fetched by a worker only when newer than its own). So every worker
plays the current stage and weights from its next episode on; at most one episode per worker
is in flight, which bounds the staleness (the weight-version lag is shown every
:data:`REPORT_EVERY` episodes and at the end). The worker returns the episode's transitions and
result (:class:`~episode.tape.PlayedEpisode`); the driver commits the episodes in task order
through :meth:`~learner.session.LearningSession.commit_played`, so episode ``k`` of the
dataset has the run's seed ``k`` as in one process, and ``--resume`` after a ``kill -9`` of the
driver neither repeats nor skips one. A worker killed mid-episode is restarted by Ray
(``max_restarts``) and its episode is played again on the replacement: the run goes on.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import ActorDiedError, ActorUnavailableError, RayTaskError

import sim
from episode.guide import Guide
from episode.runner import EpisodeRunner
from episode.tape import EpisodeTape, PlayedEpisode
from episode.types import Policy
from learner.evaluate import UnusedGuide
from sim.errors import UserError
from teleop.command_space import CommandLabeler

log = logging.getLogger(__name__)

MAX_RESTARTS = 10
"""Times Ray restarts one worker that died (``kill -9``, a lost node) before the run stops."""
UNAVAILABLE_WAIT_S = 0.5
"""Pause before giving an episode again to a worker Ray reports unavailable (restarting)."""
REPORT_EVERY = 20
"""Committed episodes between two staleness lines (weight-version lag, restarts)."""
WORKER_SEED = 7_919
"""Worker ``i`` seeds its explorer's sampling with ``run seed + WORKER_SEED * (i + 1)``."""

ExplorerBuilder = Callable[[Any, int], Policy]
"""``build(env, seed) -> explorer`` (``session_parts.build_explorer`` bound to the config)."""


@dataclass(frozen=True)
class WorkerSpec:
    """What every worker builds once, at its start (and again after a restart)."""

    build_guide: Callable[[Any], Guide] | None
    """Builds the run's guide for the worker's env (None: no guide, h = 0 throughout)."""
    build_explorer: ExplorerBuilder | None
    """Builds the explorer (None: the guide acts every step, ``collect``)."""
    seed: int = 0
    """The run's seed (each worker's explorer samples with its own seed from it)."""


@dataclass(frozen=True)
class EpisodeTask:
    """One episode a worker is given: where it is in the run, ``h`` and the weights."""

    index: int
    """The episode's number in the run (it fixes the seed and the commit order)."""
    seed: int
    """Env reset seed."""
    h: int
    """Guide horizon: the curriculum's when the episode was given."""
    deterministic: bool = False
    """The explorer acts with its mode (a curriculum trial, an evaluation)."""
    version: int = 0
    """Weight version of :attr:`weights` (0: the worker keeps what it has)."""
    weights: list[Any] = field(default_factory=list)
    """``[ObjectRef]`` of the actor's weights (nested, so Ray passes the reference and the
    worker fetches the weights only when :attr:`version` is newer than its own)."""


class RolloutWorker:
    """A Ray actor's body: one env, guide and explorer, and the one episode runner."""

    def __init__(self, spec: WorkerSpec, index: int) -> None:
        self.env = sim.make_door()
        guide = spec.build_guide(self.env) if spec.build_guide is not None else UnusedGuide()
        seed = spec.seed + WORKER_SEED * (index + 1)
        builder = spec.build_explorer
        self.explorer = builder(self.env, seed) if builder is not None else None
        self.tape = EpisodeTape()
        self.runner = EpisodeRunner(
            self.env,
            guide,
            self.explorer,
            replay=self.tape,
            command_labeler=CommandLabeler.for_env(self.env),
        )

    def pid(self) -> int:
        """The worker's process id (tests kill it)."""
        return os.getpid()

    def play(self, task: EpisodeTask) -> PlayedEpisode:
        """Take the task's weights if newer, play the episode, return it whole."""
        explorer: Any = self.explorer
        if explorer is not None and task.weights and task.version > explorer.version:
            explorer.load(task.version, ray.get(task.weights[0]))
        result = self.runner.run_episode(task.seed, task.h, deterministic=task.deterministic)
        return self.tape.take(result)


@dataclass
class Staleness:
    """How far behind the driver the workers' episodes were (shown, not just bounded)."""

    lags: list[int] = field(default_factory=list)
    """Per committed episode: the driver's newest weight version minus the episode's."""
    max_in_flight: int = 0
    """Most episodes given out and not yet committed at once (at most the workers)."""
    restarts: int = 0
    """Episodes played again because their worker died."""

    def line(self, workers: int, last: int = REPORT_EVERY) -> str:
        """One line: workers, episodes in flight, weight lag of the last episodes, restarts."""
        recent = self.lags[-last:] if last > 0 else []
        if not recent:
            return f"{workers} Ray workers; no episode played"
        return (
            f"{workers} Ray workers, at most {self.max_in_flight} episodes in flight; weight "
            f"lag over the last {len(recent)} episodes: mean {statistics.fmean(recent):.1f}, "
            f"max {max(recent)} versions; {self.restarts} episodes replayed after a worker died"
        )


class WorkerPool:
    """``n`` rollout workers on a Ray cluster (a local one unless ``address`` is given).

    Args:
        n: Workers (one CPU each; a local cluster gets at least ``n`` CPUs).
        spec: What each worker builds.
        address: A running cluster's address (None: start a local one, or use the one this
            process already started).
        log_to_driver: Show the workers' output here.

    """

    def __init__(
        self, n: int, spec: WorkerSpec, address: str | None = None, *, log_to_driver: bool = True
    ) -> None:
        self.owns_ray = not ray.is_initialized()
        if self.owns_ray:
            start_ray(address, max(n, os.cpu_count() or 1), log_to_driver)
        actor: Any = ray.remote(num_cpus=1, max_restarts=MAX_RESTARTS)(RolloutWorker)
        self.workers: list[Any] = [actor.remote(spec, i) for i in range(n)]
        self.staleness = Staleness()
        self._deaths = 0

    def pids(self) -> list[int]:
        """Every worker's process id."""
        return [int(pid) for pid in ray.get([w.pid.remote() for w in self.workers])]

    def play_in_order(
        self,
        first: int,
        more: Callable[[int], bool],
        task: Callable[[int], EpisodeTask],
        commit: Callable[[PlayedEpisode], None],
    ) -> None:
        """Keep every worker busy; commit the episodes in index order, each exactly once.

        Args:
            first: Index of the first episode to give out.
            more: ``more(k)``: give out episode ``k`` (asked when a worker is free).
            task: ``task(k)``: episode ``k`` with the newest ``h`` and weights.
            commit: Called with each played episode, in index order.

        """
        pending: dict[Any, tuple[int, int]] = {}
        played: dict[int, PlayedEpisode] = {}
        n = len(self.workers)
        idle, nxt, expected = list(range(n)), first, first
        while True:
            while idle and nxt - expected < n and more(nxt):  # at most n given out, uncommitted
                w = idle.pop(0)
                pending[self.workers[w].play.remote(task(nxt))] = (w, nxt)
                nxt += 1
                self.staleness.max_in_flight = max(self.staleness.max_in_flight, nxt - expected)
            if not pending:
                return
            ready, _ = ray.wait(list(pending), num_returns=1)
            w, k = pending.pop(ready[0])
            episode = self._get(ready[0], w, k)
            if episode is None:  # the worker died: its episode again, on its replacement
                pending[self.workers[w].play.remote(task(k))] = (w, k)
                continue
            played[k] = episode
            idle.append(w)
            while expected in played:
                commit(played.pop(expected))
                expected += 1

    def _get(self, ref: Any, worker: int, k: int) -> PlayedEpisode | None:
        """The played episode, or None when its worker died (Ray restarts it).

        Raises:
            Exception: What the episode raised in the worker (its guide, its recorder), as
                it would have here; the worker's traceback is logged first unless it is a
                :class:`~sim.errors.UserError` (one line).

        """
        try:
            return ray.get(ref)
        except RayTaskError as e:
            if not isinstance(e.cause, UserError):
                log.error("Ray worker %d failed in episode %d: %s", worker, k, e)
            raise e.cause from None
        except ActorUnavailableError:  # restarting, or a network blip: try again soon
            time.sleep(UNAVAILABLE_WAIT_S)
        except ActorDiedError as e:
            self._deaths += 1
            if self._deaths > MAX_RESTARTS * len(self.workers):
                raise UserError(f"Ray worker {worker} died too often: {first_line(e)}") from None
            log.warning("Ray worker %d died in episode %d; it is played again", worker, k)
        self.staleness.restarts += 1
        return None

    def close(self) -> None:
        """Stop the workers (and the local cluster this pool started)."""
        for w in self.workers:
            ray.kill(w, no_restart=True)
        self.workers = []
        if self.owns_ray:
            ray.shutdown()


def start_ray(address: str | None, cpus: int, log_to_driver: bool) -> None:
    """Connect to the cluster at ``address``, or start a local one of ``cpus`` CPUs.

    Raises:
        UserError: Ray could not start or connect (one line; Ray's own log says more).

    """
    try:
        ray.init(address=address, num_cpus=None if address else cpus, include_dashboard=False,
                 log_to_driver=log_to_driver, logging_level=logging.WARNING)  # fmt: skip
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
        raise UserError(f"could not start or reach {where}: {first_line(e)}") from None


def first_line(error: BaseException) -> str:
    """The first non-empty line of an error's text."""
    lines = [ln for ln in str(error).splitlines() if ln.strip()]
    return lines[0][:200] if lines else type(error).__name__


class WeightShipper:
    """``ray.put`` of the newest weights, once per version (``slot.latest()``)."""

    def __init__(self, latest: Callable[[], tuple[int, dict | None]]) -> None:
        self._latest = latest
        self._version = 0
        self._ref: Any = None

    def newest(self) -> tuple[int, list[Any]]:
        """The newest version and ``[ObjectRef]`` of its weights (``(0, [])`` before any)."""
        version, state = self._latest()
        if state is not None and version != self._version:
            self._version, self._ref = version, ray.put(state)
        return self._version, [] if self._ref is None else [self._ref]


__all__ = [
    "MAX_RESTARTS",
    "EpisodeTask",
    "RolloutWorker",
    "Staleness",
    "WeightShipper",
    "WorkerPool",
    "WorkerSpec",
]
