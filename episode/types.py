"""The episode layer's vocabulary: who acted, one transition, one episode's result, protocols.

This is the bottom of the product (Gymnasium's ``core.py`` is the model): it stands on
:mod:`sim` only. Guides, the learner, the recordings and the app all speak these types.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sim.door import normalized_score


class Actor(enum.IntEnum):
    """Who chose a step's action; stored per step as ``infos/actor`` (int8)."""

    GUIDE = 0
    """The guide, for steps ``t < h``."""
    EXPLORER = 1
    """The RL explorer, for steps ``t >= h``."""
    HUMAN = 2
    """A human intervention: the person took over this step."""


@dataclass(frozen=True)
class Transition:
    """One environment step as the runner saw it."""

    obs: np.ndarray
    """Observation the action was chosen from."""
    action: np.ndarray
    """The sanitized action the env received (float32, in [-1, 1])."""
    reward: float
    """Door-binary reward: 0 with the door open, else -1."""
    next_obs: np.ndarray
    """Observation after the step."""
    terminated: bool
    """The env ended the episode (never for the door, kept for generality)."""
    truncated: bool
    """The time limit ended the episode."""
    actor: Actor
    """Who chose the action: guide, explorer, or a human intervention."""
    t: int
    """Step index in the episode (0-based)."""
    h: int
    """The episode's guide horizon."""
    success: bool
    """The door counted as open after this step."""


@dataclass(frozen=True)
class EpisodeResult:
    """What one episode amounted to; curricula and metrics are driven by these only."""

    seed: int | None
    """Seed the env was reset with."""
    h: int
    """Guide horizon of the episode."""
    steps: int
    """Steps taken (200 for a full door episode)."""
    episode_return: float
    """Sum of rewards (minus the steps with the door shut)."""
    success: bool
    """The door was open at some step."""
    first_success_step: int | None
    """Steps taken when the door first counted as open (1-based), None if never."""
    n_guide: int
    """Steps the guide acted."""
    n_explorer: int
    """Steps the explorer acted."""
    n_human: int
    """Steps a human took over (interventions)."""
    guide_kind: str
    """The guide's ``kind`` (human, scripted, ...)."""
    weight_version: int
    """Explorer weight version used in the episode (0 = initial weights)."""
    open_at_end: bool = False
    """The door was open after the last step (the combined policy did not undo a success)."""

    @property
    def normalized_score(self) -> float:
        """Percent of the episode's steps with the door open (D4RL door-binary score)."""
        return normalized_score(self.episode_return)


class Policy(Protocol):
    """Anything with ``act(obs) -> action`` (the explorer, or a saved policy)."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Return an action for ``obs``."""
        ...


class Recorder(Protocol):
    """The part of :class:`recordings.writer.DatasetWriter` the runner uses."""

    def begin_episode(
        self, obs: np.ndarray, *, seed: int | None, h: int, guide_kind: str, weight_version: int
    ) -> None:
        """Start an episode from its first observation."""
        ...

    def add_step(
        self,
        action: np.ndarray,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
        truncated: bool,
        *,
        actor: Actor,
        h: int,
        success: bool,
    ) -> None:
        """Queue one step (never blocks)."""
        ...

    def end_episode(self) -> None:
        """Hand the buffered episode to the writer thread."""
        ...

    def raise_if_failed(self) -> None:
        """Re-raise the writer thread's error, if any."""
        ...


class Replay(Protocol):
    """The part of :class:`learner.replay.ReplayBuffer` the runner uses."""

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
    ) -> None:
        """Store one transition."""
        ...


__all__ = ["Actor", "EpisodeResult", "Policy", "Recorder", "Replay", "Transition"]
