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
from collections.abc import Callable, Iterable
from pathlib import Path

import gymnasium as gym
import numpy as np

from episode.roll_in import RollInStates, SavedState
from episode.types import EpisodeResult
from learner.config import CurriculumConfig, TrainConfig
from learner.run_dir import GUIDE_DATASET
from sim.door import get_state, make_door
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
        self.failures: deque[tuple[int, list[SavedState]]] = deque(maxlen=FAILURE_EPISODES)
        """(episode number, states after each step) of the newest failed explorer-alone
        episodes from a reset."""
        self.retries = 0
        """Episodes started from a failure's state."""
        self._tape: list[SavedState] | None = None
        self._seed = 0
        self._episodes = 0

    def plan(self, h: int, trial: bool, seed: int) -> SavedState | None:
        """Where the episode with horizon ``h`` (and run seed ``seed``) starts; None: a reset.

        The draw uses the episode's seed, so a resumed run draws the same.
        """
        rng = np.random.default_rng([seed, 23])
        if self.roll_in is not None and 0 < h < EPISODE_STEPS:
            return self.roll_in.pick(h, rng)
        while self.failures and self.failures[0][0] <= self._episodes - RECENT_EPISODES:
            self.failures.popleft()
        share = self.cfg.retry_failures
        if h != 0 or trial or share <= 0 or not self.failures or rng.random() >= share:
            return None
        _, states = self.failures[int(rng.integers(len(self.failures)))]
        self.retries += 1
        return states[int(rng.integers(self.cfg.retry_from, self.cfg.retry_until + 1))]

    def begin(
        self,
        env: gym.Env,
        obs: np.ndarray,
        h: int,
        trial: bool,
        start: SavedState | None,
        seed: int | None,
    ) -> None:
        """An episode began (``obs`` its first observation): tape it if it may be retried."""
        taped = self.cfg.retry_failures > 0 and h == 0 and not trial and start is None
        self._tape, self._seed = ([] if taped else None), int(seed or 0)
        self.observe(env, obs)

    def observe(self, env: gym.Env, obs: np.ndarray) -> None:
        """After each step: keep the door's state and ``obs`` when the episode is taped."""
        if self._tape is not None:
            t = len(self._tape)
            self._tape.append(SavedState(self._seed, t, get_state(env), np.array(obs, copy=True)))

    def end(self, result: EpisodeResult) -> None:
        """A failed whole explorer-alone episode becomes a failure to retry from."""
        tape, self._tape = self._tape, None
        self._episodes += 1
        if tape and not result.success and len(tape) == EPISODE_STEPS + 1:
            self.failures.append((self._episodes, tape))


def roll_in_states(
    cfg: TrainConfig, progress: Callable[[str], None] | None = None
) -> RollInStates | None:
    """The roll-in states of ``--curriculum.roll-in`` (None when it is off or finds none).

    Built from the successful episodes of the run's guide dataset and ``--offline-data``,
    replayed in a fresh door env (the same on a resumed run: the replay is deterministic).
    """
    if not cfg.curriculum.roll_in:
        return None
    if progress is not None:
        progress("replaying the successful guide episodes for the roll-in")
    guide_dataset = Path(cfg.run_dir) / GUIDE_DATASET
    datasets = [d for d in (guide_dataset, *cfg.offline_data) if Path(d).exists()]
    env = make_door()
    try:
        states = roll_in_from_datasets(env, datasets)
    finally:
        env.close()
    if not len(states):
        log.warning("--curriculum.roll-in: no successful episode replays; the guide rolls in")
        return None
    return states


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


__all__ = [
    "FAILURE_EPISODES",
    "RECENT_EPISODES",
    "EpisodeStarts",
    "roll_in_from_datasets",
    "roll_in_states",
]
