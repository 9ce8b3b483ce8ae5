"""Where a training episode starts: a reset, a roll-in state at ``h``, or a failure to retry.

Two uses of the simulator's ability to restore a state (:func:`sim.door.restore`), both off by
default and both for ``train`` only (the evaluation always starts from a reset):

* ``--curriculum.roll-in``: a guided episode (``0 < h < 200``) starts from the state after
  ``h`` steps of a successful recorded episode (:mod:`episode.roll_in`): JSRL's roll-in
  without spending guide steps.
* ``--curriculum.retry-failures P``: a share ``P`` of the explorer-alone episodes (``h = 0``)
  starts from a state of one of the failed explorer-alone episodes among the newest 100, between
  ``--curriculum.retry-from`` and ``--curriculum.retry-until`` steps in, so the explorer
  practises what its own failures need: a lever that slipped, a door that swung back shut.
  The explorer's evaluation fails exactly there (the door unlatched, then not pulled again),
  and an episode from a reset reaches such states too rarely to learn the way back.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import gymnasium as gym
import numpy as np

from episode.roll_in import RollInStates, SavedState
from episode.types import EpisodeResult
from learner.config import CurriculumConfig
from sim.door import EnvState
from sim.registration import EPISODE_STEPS

log = logging.getLogger(__name__)

FAILURE_EPISODES = 50
"""Failed explorer-alone episodes kept to retry from (the newest)."""
RECENT_EPISODES = 100
"""Only failures among the newest this many episodes are retried: the explorer's current
mistakes, not those of the weaker explorer it was (as it improves, retries become rarer)."""


class EpisodeStarts:
    """Plans each episode's start and keeps the states of failed explorer-alone episodes.

    Args:
        cfg: The curriculum settings (``roll_in``, ``retry_failures``, ``retry_from``,
            ``retry_until``).
        roll_in: States of successful recorded episodes (None: no roll-in).

    """

    def __init__(self, cfg: CurriculumConfig, roll_in: RollInStates | None) -> None:
        self.cfg, self.roll_in = cfg, roll_in
        self.failures = RollInStates(max_episodes=FAILURE_EPISODES)
        """States of the newest failed explorer-alone episodes from a reset."""
        self.retries = 0
        """Episodes started from a failure's state."""
        self._tape: list[SavedState] | None = None
        self._seed = 0
        self._episodes = 0
        self._failed_at: deque[int] = deque(maxlen=FAILURE_EPISODES)

    def plan(self, h: int, trial: bool, seed: int) -> SavedState | None:
        """Where the episode with horizon ``h`` (and run seed ``seed``) starts; None: a reset.

        The draw uses the episode's seed, so a resumed run draws the same.
        """
        rng = np.random.default_rng([seed, 23])
        if self.roll_in is not None and 0 < h < EPISODE_STEPS:
            return self.roll_in.pick(h, rng)
        share = self.cfg.retry_failures
        while self._failed_at and self._failed_at[0] <= self._episodes - RECENT_EPISODES:
            self._failed_at.popleft()
            self.failures.drop_oldest()
        if h != 0 or trial or share <= 0 or not len(self.failures) or rng.random() >= share:
            return None
        start = self.failures.pick_between(self.cfg.retry_from, self.cfg.retry_until, rng)
        self.retries += start is not None
        return start

    def begin(self, h: int, trial: bool, start: SavedState | None, seed: int | None) -> None:
        """An episode began: tape its states when it may become a failure to retry."""
        taped = self.cfg.retry_failures > 0 and h == 0 and not trial and start is None
        self._tape, self._seed = ([] if taped else None), int(seed or 0)

    def observe(self, t: int, state: EnvState, obs: np.ndarray) -> None:
        """The state after ``t`` steps of the episode (0: the reset), in order."""
        if self._tape is not None:
            if t != len(self._tape):
                raise ValueError(
                    f"observe: expected the state after {len(self._tape)} steps, got {t}"
                )
            self._tape.append(SavedState(self._seed, t, state, np.array(obs, copy=True)))

    @property
    def taping(self) -> bool:
        """The running episode's states are wanted (:meth:`observe` after each step)."""
        return self._tape is not None

    def end(self, result: EpisodeResult) -> None:
        """A failed whole explorer-alone episode becomes a failure to retry from."""
        tape, self._tape = self._tape, None
        self._episodes += 1
        if tape and not result.success and len(tape) == EPISODE_STEPS + 1:
            self.failures.add(tape[:EPISODE_STEPS])  # no start at the last step
            self._failed_at.append(self._episodes)


def roll_in_from_datasets(env: gym.Env, datasets: Iterable[str | Path]) -> RollInStates:
    """The successful, reset-seeded episodes of recorded datasets, replayed in ``env``."""
    from recordings.reader import iter_episodes

    held = RollInStates()
    for dataset in datasets:
        kept = skipped = 0
        for episode in iter_episodes(dataset):
            if not episode.success or episode.seed is None:
                continue
            ok = held.add_replayed(env, episode.seed, episode.actions, episode.observations)
            kept, skipped = kept + ok, skipped + (not ok)
        if skipped:
            log.warning(
                "%s: %d successful episodes do not replay to their recorded observations "
                "(another MuJoCo build, or not started from a reset): no roll-in from them",
                dataset, skipped,
            )  # fmt: skip
        log.info("roll-in: %d successful episodes of %s", kept, dataset)
    return held


__all__ = ["FAILURE_EPISODES", "RECENT_EPISODES", "EpisodeStarts", "roll_in_from_datasets"]
