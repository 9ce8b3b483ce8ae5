"""The learner thread, its configuration, and the latest-only weight slot.

The main thread steps the env and adds transitions to the online ``ReplayBuffer``; this thread
samples (RLPD's 50/50 offline/online mix), updates the ``SACAgent`` and every
``publish_every`` updates publishes a CPU copy of the actor into a ``WeightSlot``. The
``Explorer`` picks the newest weights up at episode boundaries.

Two modes:

- paced (headless ``train``): the main thread reports how many env steps it has taken; the
  thread may run ``utd_ratio * (steps - warmup_steps)`` updates and then waits. The main thread
  calls ``wait_for_budget()`` to keep the update-to-data ratio exact (and reproducible).
- free-running (the app): once ``warmup_steps`` online transitions exist, train continuously.

Failures are never silent: an exception in the thread is stored with its formatted traceback
and re-raised in the main thread by ``raise_if_failed()`` and ``wait_for_budget()``.

Torch threads: ``torch.set_num_threads(config.torch_threads)`` runs inside the thread. PyTorch
documents this setting as process-wide (and MKL's own pool is shared by the process). With this
build's OpenMP backend we measured that a value set in the learner thread does not change the
main thread's ``torch.get_num_threads()``, but do not rely on either behaviour: the main thread
should do no heavy torch work while the learner runs (the ``Explorer`` acts in numpy for this
reason), and whatever else uses torch in the process may see the learner's setting.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
import torch

from learner.config import LearnerConfig
from learner.replay import Batch, ReplayBuffer, sample_mixed
from learner.sac import SACAgent


class WeightSlot:
    """Latest-only mailbox for actor weights: ``publish`` replaces, ``latest`` reads; one lock."""

    def __init__(self, start: int = 0) -> None:
        """A slot whose first publish is version ``start + 1`` (a resumed run goes on)."""
        self._lock = threading.Lock()
        self._version = int(start)
        self._state: dict | None = None

    def publish(self, actor_state: dict) -> int:
        """Store ``actor_state`` (never mutated afterwards by anyone) and return its version."""
        with self._lock:
            self._version += 1
            self._state = actor_state
            return self._version

    def latest(self) -> tuple[int, dict | None]:
        """The newest version and weights; ``(0, None)`` before the first publish."""
        with self._lock:
            return self._version, self._state

    @property
    def version(self) -> int:
        """The newest published version (0 = none yet)."""
        with self._lock:
            return self._version


@dataclass(frozen=True)
class LearnerStats:
    """A snapshot of the learner for logs and the HUD."""

    updates: int
    """Gradient updates done."""
    updates_per_s: float
    """Recent update rate (over the last ~second of work)."""
    version: int
    """Last published weight version (0 = none yet)."""
    losses: dict[str, float] = field(default_factory=dict)
    """Numbers from the last update (critic_loss, actor_loss, alpha, q_mean, entropy)."""
    online_size: int = 0
    """Transitions in the online buffer."""
    offline_size: int = 0
    """Transitions in the offline buffer (0 without one)."""
    error: str | None = None
    """The thread's exception and traceback, if it died."""
    env_steps: int = 0
    """Env steps reported by the main thread."""
    budget: int | None = None
    """Updates allowed so far (paced mode; None when free-running)."""
    running: bool = False
    """Whether the thread is alive."""


class LearnerError(RuntimeError):
    """The learner thread died; the message carries its traceback."""


class LearnerThread(threading.Thread):
    """Trains an ``SACAgent`` on replay data in the background (see the module docstring)."""

    def __init__(
        self,
        agent: SACAgent,
        online: ReplayBuffer,
        offline: ReplayBuffer | None,
        slot: WeightSlot,
        config: LearnerConfig,
        seed: int = 0,
        paced: bool = True,
        demos: ReplayBuffer | None = None,
    ) -> None:
        super().__init__(name="learner", daemon=True)
        self.agent, self.online, self.offline, self.slot = agent, online, offline, slot
        self.demos = demos
        """Demonstrations for the actor's BC term (successful guide and human episodes)."""
        self.config, self.paced = config, paced
        self.lock = threading.Lock()
        """Guards the agent's state: hold it while calling ``agent.state_dict()``."""
        self._rng = np.random.default_rng(seed)
        self._cond = threading.Condition()
        self._stop_flag = False
        self._env_steps = 0
        self._updates = 0
        self._published_at = 0
        self._version = 0
        self._losses: dict[str, float] = {}
        self._error: BaseException | None = None
        self._error_text: str | None = None
        self._rate = 0.0
        self._rate_mark = (time.perf_counter(), 0)

    # -- main-thread API ----------------------------------------------------------------------
    def report_env_steps(self, n_total: int) -> None:
        """Tell the learner how many env steps have been taken so far (paced mode's budget)."""
        with self._cond:
            self._env_steps = int(n_total)
            self._cond.notify_all()

    def wait_for_budget(self, timeout: float | None = None) -> bool:
        """Block until the updates allowed by the reported steps are done (paced mode).

        Returns:
            True when the budget is met, False if ``timeout`` seconds passed first.

        Raises:
            LearnerError: The thread died (with its traceback).
            RuntimeError: The thread is not running, so the budget can never be met.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                self.raise_if_failed()
                if self._updates >= self._budget() or not self._has_data():
                    # nothing to sample yet (episodes enter the buffer whole): do not wait
                    return True
                if not self.is_alive():
                    raise RuntimeError(
                        f"learner thread is not running ({self._updates} of {self._budget()} "
                        "updates done): start() it, and do not wait after stop()"
                    )
                wait = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
                if wait <= 0:
                    return False
                self._cond.wait(wait)

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to finish its update, publish, and exit; wait for it. Idempotent.

        Does not raise the thread's error (call ``raise_if_failed`` for that), so it is safe
        in ``finally`` blocks.
        """
        with self._cond:
            self._stop_flag = True
            self._cond.notify_all()
        if self.is_alive():
            self.join(timeout)

    @property
    def error(self) -> BaseException | None:
        """The exception that ended the thread, if any."""
        return self._error

    def raise_if_failed(self) -> None:
        """Re-raise the thread's exception in the caller, with the thread's traceback text."""
        if self._error is not None:
            raise LearnerError(
                f"learner thread failed: {type(self._error).__name__}: {self._error}\n"
                f"{self._error_text}"
            ) from self._error

    @property
    def updates(self) -> int:
        """Gradient updates done so far."""
        return self._updates

    def stats(self) -> LearnerStats:
        """A consistent snapshot of counters, last losses and buffer sizes."""
        with self._cond:
            return LearnerStats(
                updates=self._updates,
                updates_per_s=self._rate,
                version=self._version,
                losses=dict(self._losses),
                online_size=len(self.online),
                offline_size=0 if self.offline is None else len(self.offline),
                error=None if self._error is None else self._error_text,
                env_steps=self._env_steps,
                budget=self._budget() if self.paced else None,
                running=self.is_alive(),
            )

    # -- the thread ---------------------------------------------------------------------------
    def run(self) -> None:
        """Update until stopped; store any exception for the main thread."""
        try:
            torch.set_num_threads(self.config.torch_threads)
            while self._wait_until_allowed():
                n = self.agent.config.batch_size
                batch = sample_mixed(
                    self.online, self.offline, n, self._rng, self.config.offline_ratio
                )
                demos = self._demo_batch(n)
                with self.lock:
                    losses = self.agent.update(batch, demos)
                with self._cond:
                    self._updates += 1
                    self._losses = losses
                    self._cond.notify_all()
                if self._updates - self._published_at >= self.config.publish_every:
                    self._publish()
                self._measure_rate()
            if self._updates > self._published_at:
                self._publish()
        except BaseException as exc:
            with self._cond:
                self._error, self._error_text = exc, traceback.format_exc()
                self._cond.notify_all()

    def _demo_batch(self, n: int) -> Batch | None:
        """Demonstrations for the BC term while its weight is above 0 (else None)."""
        if self.demos is None or len(self.demos) == 0 or self.agent.bc_weight_now <= 0.0:
            return None
        return self.demos.sample(n, self._rng)

    def _wait_until_allowed(self) -> bool:
        """Block until an update is allowed; False when asked to stop."""
        with self._cond:
            while not self._stop_flag and not self._may_update():
                self._cond.wait(0.05)
            return not self._stop_flag

    def _has_data(self) -> bool:
        """Something to sample: online rows, or offline rows to learn from alone."""
        return len(self.online) > 0 or (self.offline is not None and len(self.offline) > 0)

    def _may_update(self) -> bool:
        if self.paced:
            return self._has_data() and self._updates < self._budget()
        have = len(self.online)
        if self.config.warmup_steps == 0:
            have += 0 if self.offline is None else len(self.offline)
        return have > 0 and len(self.online) >= self.config.warmup_steps

    def _budget(self) -> int:
        """Updates allowed by the reported env steps: ``utd * (steps - warmup)``."""
        steps = max(0, self._env_steps - self.config.warmup_steps)
        return math.floor(self.config.utd_ratio * steps + 1e-9)

    def _publish(self) -> None:
        version = self.slot.publish(self.agent.acting_state())
        with self._cond:
            self._version, self._published_at = version, self._updates

    def _measure_rate(self) -> None:
        """Refresh ``updates_per_s`` about once a second."""
        now = time.perf_counter()
        t0, n0 = self._rate_mark
        if now - t0 >= 1.0:
            self._rate = (self._updates - n0) / (now - t0)
            self._rate_mark = (now, self._updates)
