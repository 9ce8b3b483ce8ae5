"""The app's DAgger trainer: imitation guides trained in the background, newest one published.

The thread, its stop and its error handling are :class:`learner.worker.BackgroundWorker`'s (the
learner thread's rules: an error is kept with its traceback and re-raised in the caller).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from guides.imitation.data import read_demos
from guides.imitation.fit import evaluate_guide, train_imitation
from guides.imitation.guide import ImitationConfig, ImitationGuide
from learner.worker import BackgroundWorker
from sim.door import ACT_DIM, OBS_DIM
from teleop.command_space import COMMAND_DIM


@dataclass
class TrainerStats:
    """What :class:`ImitationTrainer` shows on the HUD."""

    version: int = 0
    """Guides published so far (0: none yet)."""
    samples: int = 0
    """(obs, action) pairs in the training data (demos + interventions)."""
    intervention_samples: int = 0
    """Of them, steps added by :meth:`ImitationTrainer.add_interventions`."""
    training: bool = False
    """A training round is running (or queued)."""
    last_train_seconds: float = float("nan")
    """Wall time of the last training round (evaluation included)."""
    success_rate: float | None = None
    """The newest guide's self-evaluated success rate (None: not measured)."""
    error: str | None = None
    """The worker's error, if it died."""


@dataclass
class _Data:
    obs: list[np.ndarray] = field(default_factory=list)
    actions: list[np.ndarray] = field(default_factory=list)
    episodes: int = 0
    interventions: int = 0

    def count(self) -> int:
        return sum(len(o) for o in self.obs)


class ImitationTrainer:
    """Trains imitation guides in a background thread from demos and the human's corrections.

    The app adds demonstrations (:meth:`add_dataset` or :meth:`add_demos`), calls
    :meth:`retrain`, and polls :meth:`latest` at episode boundaries; when the human takes over
    from the imitation guide, the app passes those steps to :meth:`add_interventions` and calls
    :meth:`retrain` again, so the guide learns the corrections (DAgger's aggregation). A round
    started while one runs is queued (one pending round at most). Errors in the worker are kept
    and re-raised in the caller by :meth:`raise_if_failed`.

    Args:
        config: Training and self-evaluation settings (``eval_episodes=0`` skips evaluation);
            it clones Commands (the default: every step the app records carries one) unless
            ``space`` is joint; the ``actions`` given to the ``add_*`` methods are of that
            kind (6 or 28 per step).
        nice: CPU niceness added to the worker thread (Linux; elsewhere ignored), so a window
            and a learner sharing the CPU come first.

    """

    def __init__(self, config: ImitationConfig | None = None, nice: int = 0) -> None:
        if nice < 0:
            raise ValueError(f"ImitationTrainer nice must be >= 0, got {nice}")
        cfg = config or ImitationConfig(eval_episodes=3)
        self.space: Literal["command", "joint"] = "joint" if cfg.space == "joint" else "command"
        """What it clones: Command vectors (``auto`` and ``command``) or 28-D actions."""
        self.config = dataclasses.replace(cfg, space=self.space)
        self.nice = nice
        self._lock = threading.Lock()
        self._data = _Data()
        self._guide: ImitationGuide | None = None
        self._stats = TrainerStats()
        self._worker = BackgroundWorker("imitation trainer", self._round, nice=nice)

    # -- data -----------------------------------------------------------------------------------
    def add_demos(self, obs: np.ndarray, actions: np.ndarray, episodes: int = 1) -> int:
        """Add demonstration pairs (copied); returns the number of pairs held now."""
        return self._add(obs, actions, episodes, intervention=False)

    def add_dataset(self, dataset: Path | str) -> int:
        """Add the demonstrations of ``dataset`` (selected as ``config`` says); returns pairs."""
        obs, actions, episodes, _ = read_demos(dataset, self.config)
        return self._add(obs, actions, episodes, intervention=False)

    def add_interventions(self, obs: np.ndarray, actions: np.ndarray) -> int:
        """Aggregate the human's corrective steps (DAgger); returns the pairs held now."""
        return self._add(obs, actions, 0, intervention=True)

    def _add(self, obs: np.ndarray, actions: np.ndarray, episodes: int, intervention: bool) -> int:
        obs = np.array(obs, dtype=np.float32, copy=True).reshape(-1, OBS_DIM)
        dim = COMMAND_DIM if self.space == "command" else ACT_DIM
        actions = np.array(actions, dtype=np.float32, copy=True)
        if actions.size and actions.shape[-1] != dim:
            raise ValueError(
                f"this trainer clones {self.space} actions ({dim} per step), got "
                f"{actions.shape[-1]}: give it the steps' Commands, or ImitationConfig(space="
                f"{'joint' if dim == COMMAND_DIM else 'command'!r})"
            )
        actions = actions.reshape(-1, dim)
        if len(obs) != len(actions):
            raise ValueError(f"{len(obs)} observations but {len(actions)} actions")
        with self._lock:
            if len(obs):
                self._data.obs.append(obs)
                self._data.actions.append(actions)
            self._data.episodes += episodes
            self._data.interventions += len(obs) if intervention else 0
            self._stats.samples = self._data.count()
            self._stats.intervention_samples = self._data.interventions
            return self._stats.samples

    # -- training -------------------------------------------------------------------------------
    def retrain(self) -> bool:
        """Train on all data held now, in the background; False if no data yet.

        A call while a round runs queues one more round (on the data held then).

        Raises:
            learner.worker.WorkerError: The worker died earlier.

        """
        self.raise_if_failed()
        with self._lock:
            if self._data.count() == 0:
                return False
        self._worker.request()
        return True

    def _snapshot(self) -> tuple[np.ndarray, np.ndarray, int]:
        with self._lock:
            return (
                np.concatenate(self._data.obs),
                np.concatenate(self._data.actions),
                self._data.episodes,
            )

    def _round(self) -> None:
        """One training round on the data held now (the worker's work)."""
        obs, actions, episodes = self._snapshot()
        t0 = time.perf_counter()
        guide = train_imitation(obs, actions, self.config, episodes=episodes,
                                should_stop=lambda: self._worker.stopping)  # fmt: skip
        if self._worker.stopping:
            return  # stopped mid-round (the app closes): a half-trained guide is not published
        if self.config.eval_episodes > 0:
            ev = evaluate_guide(guide, self.config.eval_episodes, self.config.eval_seed)
            guide = guide.with_evaluation(ev)
        with self._lock:
            self._guide = guide
            self._stats.version += 1
            self._stats.last_train_seconds = time.perf_counter() - t0
            self._stats.success_rate = guide.success_rate

    def latest(self) -> tuple[int, ImitationGuide | None]:
        """The newest guide and its version (0, None before the first round ends)."""
        with self._lock:
            return self._stats.version, self._guide

    def stats(self) -> TrainerStats:
        """A copy of the trainer's counters."""
        with self._lock:
            stats = dataclasses.replace(self._stats)
        stats.training = self._worker.busy
        stats.error = self._worker.error_line
        return stats

    @property
    def error(self) -> BaseException | None:
        """The worker's error, or None."""
        return self._worker.error

    def raise_if_failed(self) -> None:
        """Re-raise the worker's error in the caller's thread (a ``WorkerError``)."""
        self._worker.raise_if_failed()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no round runs (True) or ``timeout`` passes (False); re-raise errors."""
        return self._worker.wait(timeout)

    def stop(self, timeout: float | None = None) -> None:
        """Ask the worker to stop after its current round and wait for it."""
        self._worker.stop(timeout)
