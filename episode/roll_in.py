"""JSRL's roll-in without spending guide steps: start an episode where a successful one passed.

JSRL lets the guide act for the first ``h`` steps so that the explorer starts from states the
guide reaches. The simulator can restore those states directly: :class:`RollInStates` keeps
the physical state after every step of successful episodes (the guide's, a person's
recordings), and an episode with horizon ``h`` can start from one of them at step ``h``
(:meth:`episode.runner.EpisodeRunner.reset` with ``start=``), the explorer acting for the
remaining ``EPISODE_STEPS - h`` steps. No guide step is taken, so none is counted.

The states are rebuilt by replaying a recorded episode's actions from its reset seed (MuJoCo
is deterministic), so recordings need no extra field; an episode that does not replay to its
recorded observations (another MuJoCo build, an episode that did not start from a reset) is
left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from sim.door import EnvState, get_state
from sim.registration import EPISODE_STEPS

REPLAY_TOLERANCE = 1e-5
"""Largest difference between a replayed and a recorded observation for the replay to count."""


@dataclass(frozen=True)
class SavedState:
    """The door after ``t`` steps of a successful episode."""

    seed: int
    """The source episode's reset seed (it placed the door)."""
    t: int
    """Steps the source episode had taken: an episode started here has ``t`` = ``h``."""
    state: EnvState
    """Physical state (:func:`sim.door.get_state`)."""
    obs: np.ndarray
    """The observation the source episode had at that step (what its explorer would see)."""


class RollInStates:
    """States after every step of held episodes; :meth:`pick` chooses one for a step."""

    def __init__(self) -> None:
        self._episodes: list[list[SavedState]] = []

    def __len__(self) -> int:
        """Episodes held."""
        return len(self._episodes)

    def add(self, states: list[SavedState]) -> None:
        """Keep one episode's states (index ``t``: after ``t`` steps; index 0 is the reset)."""
        if states:
            self._episodes.append(states)

    def pick(self, t: int, rng: np.random.Generator) -> SavedState | None:
        """A state after ``t`` steps of a random held episode (None: no episode got that far)."""
        have = [ep for ep in self._episodes if 0 <= t < len(ep)]
        if not have:
            return None
        return have[int(rng.integers(len(have)))][t]

    def add_replayed(
        self, env: gym.Env, seed: int, actions: np.ndarray, observations: np.ndarray
    ) -> bool:
        """Replay ``actions`` from ``reset(seed)`` and keep the states, if they reproduce.

        Args:
            env: A door env to replay in (its state is reset freely).
            seed: The episode's reset seed.
            actions: (T, 28) actions as the env was given them.
            observations: (T + 1, 39) recorded observations, the reset's first.

        Returns:
            Whether the episode replayed to its recorded observations and was kept.

        """
        obs, _ = env.reset(seed=seed)
        states = [SavedState(seed, 0, get_state(env), np.asarray(obs, dtype=np.float32))]
        if not _close(obs, observations[0]):
            return False
        last = min(len(actions), EPISODE_STEPS - 1)  # no episode starts at its last step
        for t in range(last):
            obs, *_ = env.step(actions[t])
            if not _close(obs, observations[t + 1]):
                return False
            states.append(SavedState(seed, t + 1, get_state(env), observations[t + 1].copy()))
        self.add(states)
        return True


def _close(obs: np.ndarray, recorded: np.ndarray) -> bool:
    return bool(np.max(np.abs(np.asarray(obs) - np.asarray(recorded))) <= REPLAY_TOLERANCE)


__all__ = ["REPLAY_TOLERANCE", "RollInStates", "SavedState"]
