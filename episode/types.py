"""The episode layer's vocabulary: who acted, one transition, one episode's result, protocols.

This is the bottom of the product (Gymnasium's ``core.py`` is the model): it stands on
:mod:`sim` only. Guides, the learner, the recordings and the app all speak these types.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sim.door import normalized_score

CommandLabeler = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None], np.ndarray]
"""``(obs, action, next_obs, the episode's previous action or None) -> Command vector``: the
Command that best explains a 28-D step (:class:`teleop.command_space.CommandLabeler`)."""


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
    """The door counted as open after this step (the env's per-step ``info["success"]``)."""
    command: np.ndarray | None = None
    """The step as a teleop ``Command`` vector (6-D, see :mod:`teleop.command_space`): the
    Command the actor issued, or the one that best explains a 28-D action (a label); None when
    the runner has neither (no labeller given)."""


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
    """D4RL's Adroit success: the door was open for >= 25 of the steps
    (:func:`sim.door.episode_success`), the one definition used everywhere."""
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
    open_steps: int = 0
    """Steps after which the door counted as open."""
    milestones: tuple[int | None, ...] = ()
    """Steps taken (1-based) when each of :data:`episode.milestones.MILESTONES` was first
    reached, None where never: where the episode changed phase (the curriculum's stages)."""
    deterministic: bool = False
    """The episode ran with the explorer's mode (a curriculum trial or an evaluation)."""

    @property
    def ever_opened(self) -> bool:
        """The door counted as open after at least one step (weaker than :attr:`success`)."""
        return self.first_success_step is not None

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
        command: np.ndarray | None = None,
    ) -> None:
        """Queue one step (never blocks)."""
        ...

    def end_episode(self) -> None:
        """Hand the buffered episode to the writer thread."""
        ...

    def discard_episode(self) -> None:
        """Drop the episode in progress without writing it."""
        ...

    def raise_if_failed(self) -> None:
        """Re-raise the writer thread's error, if any."""
        ...


class Replay(Protocol):
    """Where the runner puts transitions for learning (:class:`learner.replay.EpisodeReplay`).

    Episodes enter whole: ``add`` stages a step (O(1), no lock), ``end_episode`` commits the
    staged episode, so n-step targets and returns-to-go are computed on whole episodes.
    """

    def add(self, transition: Transition) -> None:
        """Stage one transition of the episode in progress."""
        ...

    def end_episode(self) -> None:
        """Commit the staged episode (an episode with no steps is ignored)."""
        ...

    def discard_episode(self) -> None:
        """Drop the staged episode."""
        ...


__all__ = ["Actor", "EpisodeResult", "Policy", "Recorder", "Replay", "Transition"]
