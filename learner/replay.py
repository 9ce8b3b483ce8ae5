"""Replay buffers: a preallocated numpy ring of n-step transitions, and RLPD's 50/50 sampling.

The door's reward is sparse (-1 per step until the door is open): 1-step TD at an update-to-data
ratio of 1 does not carry it back to the handover. So episodes enter the buffer whole
(:meth:`ReplayBuffer.add_episode`, or :class:`EpisodeReplay` staging the runner's steps), and
each row stores, besides ``(s, a)``:

* the n-step target data: ``reward`` = sum_{k<m} gamma^k r_{t+k}, ``next_obs`` = s_{t+m} and
  ``discount`` = gamma^m (0 when the episode terminated within the m <= n steps), so the TD
  target is ``reward + discount * V(next_obs)`` (:func:`learner.returns.n_step_targets`);
* ``mc_return``: the episode's discounted return-to-go from t, a lower bound on Q(s_t, a_t)
  used as ``max(TD target, mc_return)`` (:func:`learner.returns.returns_to_go`).

A time-limit truncation is no termination: the n-step target still bootstraps from the last
observation (the door's 200-step limit is not part of the task's state). The main thread
stages steps without a lock; the learner thread samples (numpy fancy indexing under one short
lock, then ``torch.from_numpy`` without a copy).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import torch

from episode.types import Actor, Transition
from learner.features import RATE_ENTRIES, input_dim, previous_observations, with_rates
from learner.returns import n_step_targets, returns_to_go, tail_value
from sim.door import episode_success
from teleop.command_space import PERSON, CommandScale, from_person

DEMO_ACTORS = frozenset({Actor.GUIDE, Actor.HUMAN})
"""Whose steps of a successful episode are demonstrations for behaviour cloning."""
SELF_DEMO_ACTORS = frozenset(Actor)
"""With self-imitation (``SACConfig.bc_self``): every step of a successful episode."""

NO_RETURN = -np.inf
"""``mc_return`` of a row with no known return-to-go (a lone transition): no lower bound."""


@dataclass(frozen=True)
class Batch:
    """A batch of transitions as float32 CPU tensors (rows are transitions)."""

    obs: torch.Tensor
    """Observations, ``(n, obs_dim)``."""
    actions: torch.Tensor
    """Actions taken, ``(n, act_dim)``, in [-1, 1]."""
    rewards: torch.Tensor
    """n-step discounted reward sums ``sum_{k<m} gamma^k r_{t+k}``, ``(n,)``."""
    next_obs: torch.Tensor
    """The observation ``m`` steps later to bootstrap from, ``(n, obs_dim)``."""
    discounts: torch.Tensor
    """``gamma^m``, or 0 where the episode terminated within the m steps; ``(n,)``."""
    mc_returns: torch.Tensor
    """Discounted return-to-go of the episode from this step (``-inf``: unknown); ``(n,)``."""

    def __len__(self) -> int:
        return int(self.obs.shape[0])

    def to(self, device: torch.device) -> Batch:
        """The same batch on ``device`` (the learner's GPU, when it has one)."""
        return Batch(**{f.name: getattr(self, f.name).to(device, non_blocking=True)
                        for f in fields(self)})  # fmt: skip


@dataclass(frozen=True)
class _ArrayBatch:
    """The numpy arrays behind a ``Batch`` (shared by ``sample`` and ``sample_mixed``)."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    discounts: np.ndarray
    mc_returns: np.ndarray

    def to_torch(self) -> Batch:
        """Wrap the arrays as tensors without copying."""
        return Batch(**{f.name: torch.from_numpy(getattr(self, f.name)) for f in fields(self)})


_COLUMNS = tuple(f.name for f in fields(_ArrayBatch))


def _empty_arrays(n: int, obs_dim: int, act_dim: int) -> _ArrayBatch:
    return _ArrayBatch(
        obs=np.empty((n, obs_dim), np.float32),
        actions=np.empty((n, act_dim), np.float32),
        rewards=np.empty((n,), np.float32),
        next_obs=np.empty((n, obs_dim), np.float32),
        discounts=np.empty((n,), np.float32),
        mc_returns=np.empty((n,), np.float32),
    )


class ReplayBuffer:
    """A fixed-capacity ring buffer of n-step transitions; the oldest are overwritten when full.

    Thread-safe for one writer and any number of samplers: every public method takes one
    lock for a few microseconds (a block copy, or a fancy-indexed gather of ``n`` rows).

    Args:
        capacity: Rows kept.
        obs_dim: Observation size.
        act_dim: Action size (6 for a Command-space explorer, 28 for joint space).
        gamma: Discount of the n-step sums and returns-to-go.
        n_step: Steps summed before bootstrapping.
        rates: Store each observation with its rates since the previous one of the episode
            (``SACConfig.obs_rates``; :mod:`learner.features`): rows are the networks' input.
        rate_entries: With ``rates``: which entries' rates (``features.rate_entries``).

    """

    def __init__(
        self,
        capacity: int,
        obs_dim: int,
        act_dim: int,
        *,
        gamma: float = 0.99,
        n_step: int = 1,
        rates: bool = False,
        rate_entries: np.ndarray = RATE_ENTRIES,
    ) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        if obs_dim <= 0 or act_dim <= 0:
            raise ValueError(f"obs_dim and act_dim must be positive, got {obs_dim}, {act_dim}")
        if not 0.0 <= gamma <= 1.0 or n_step < 1:
            raise ValueError(f"need 0 <= gamma <= 1 and n_step >= 1, got {gamma}, {n_step}")
        self.capacity = int(capacity)
        self.obs_dim = int(obs_dim)
        self.act_dim = int(act_dim)
        self.gamma, self.n_step = float(gamma), int(n_step)
        self.rates = bool(rates)
        self._rate_entries = np.asarray(rate_entries)
        self.input_dim = input_dim(self.obs_dim, self.rates, self._rate_entries)
        """Width of the stored (and sampled) observations: the networks' input."""
        self._data = _empty_arrays(self.capacity, self.input_dim, self.act_dim)
        self._next = 0
        self._size = 0
        self._added = 0
        self._episodes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._size

    @property
    def total_added(self) -> int:
        """Transitions ever added, counting those already overwritten."""
        return self._added

    @property
    def episodes_added(self) -> int:
        """Whole episodes ever added with :meth:`add_episode`."""
        return self._episodes

    def add_episode(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        *,
        terminated: bool = False,
        open_at_end: bool = False,
    ) -> None:
        """Add one whole episode of T steps (rows in step order) with its n-step targets.

        Args:
            obs: ``(T, obs_dim)`` observations the actions were chosen from.
            actions: ``(T, act_dim)`` actions in the agent's space.
            rewards: ``(T,)`` rewards.
            next_obs: ``(T, obs_dim)`` observations after each step.
            terminated: The last step was a termination (not a time limit or a cut).
            open_at_end: The door was open after the last step (the return-to-go's tail is 0).

        """
        obs, actions, rewards, next_obs = self._checked(obs, actions, rewards, next_obs)
        if len(rewards) == 0:
            return
        sums, last, discounts = n_step_targets(rewards, terminated, self.gamma, self.n_step)
        tail = tail_value(terminated, open_at_end, self.gamma)
        if self.rates:  # obs[t - 1] comes before obs[t]; obs[t] before next_obs[t]
            before, entries = previous_observations(obs), self._rate_entries
            obs, next_obs = with_rates(obs, before, entries), with_rates(next_obs, obs, entries)
        rows = _ArrayBatch(
            obs=obs,
            actions=actions,
            rewards=sums.astype(np.float32),
            next_obs=next_obs[last],
            discounts=discounts.astype(np.float32),
            mc_returns=returns_to_go(rewards, self.gamma, tail).astype(np.float32),
        )
        self._write(rows)
        self._episodes += 1

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
    ) -> None:
        """Add one lone 1-step transition (no episode around it: no return-to-go bound)."""
        self.add_arrays(
            np.asarray(obs)[None],
            np.asarray(action)[None],
            np.asarray([reward]),
            np.asarray(next_obs)[None],
            np.asarray([terminated]),
        )

    def add_arrays(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminations: np.ndarray,
        previous: np.ndarray | None = None,
    ) -> None:
        """Add lone 1-step transitions (rows; no episode structure, so no n-step or MC data).

        ``previous`` (with ``rates``): the observation before each row's (None: rates 0).
        """
        obs, actions, rewards, next_obs = self._checked(obs, actions, rewards, next_obs)
        if self.rates:
            entries = self._rate_entries
            obs, next_obs = with_rates(obs, previous, entries), with_rates(next_obs, obs, entries)
        dones = np.asarray(terminations).reshape(len(rewards)).astype(np.float32)
        rows = _ArrayBatch(
            obs=obs,
            actions=actions,
            rewards=rewards,
            next_obs=next_obs,
            discounts=(self.gamma * (1.0 - dones)).astype(np.float32),
            mc_returns=np.full(len(rewards), NO_RETURN, np.float32),
        )
        self._write(rows)

    def _checked(
        self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_obs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        obs = np.asarray(obs, np.float32).reshape(-1, self.obs_dim)
        n = obs.shape[0]
        actions = np.asarray(actions, np.float32).reshape(n, self.act_dim)
        rewards = np.asarray(rewards, np.float32).reshape(n)
        next_obs = np.asarray(next_obs, np.float32).reshape(n, self.obs_dim)
        return obs, actions, rewards, next_obs

    def _write(self, rows: _ArrayBatch) -> None:
        """Append rows; keeps the newest ``capacity`` if there are more."""
        n = len(rows.rewards)
        cut = slice(max(0, n - self.capacity), n)
        with self._lock:
            m = cut.stop - cut.start
            idx = (self._next + np.arange(m)) % self.capacity
            for name in _COLUMNS:
                getattr(self._data, name)[idx] = getattr(rows, name)[cut]
            self._next = int((self._next + m) % self.capacity)
            self._size = min(self._size + m, self.capacity)
            self._added += n

    def sample(self, n: int, rng: np.random.Generator) -> Batch:
        """Draw ``n`` transitions uniformly with replacement."""
        return self._gather(n, rng).to_torch()

    def _gather(
        self, n: int, rng: np.random.Generator, out: _ArrayBatch | None = None, start: int = 0
    ) -> _ArrayBatch:
        """Gather ``n`` random rows into rows ``start:start + n`` of ``out`` (or new arrays)."""
        if n <= 0:
            raise ValueError(f"sample size must be positive, got {n}")
        if out is None:
            out = _empty_arrays(n, self.input_dim, self.act_dim)
        stop = start + n
        with self._lock:
            if self._size == 0:
                raise ValueError("cannot sample from an empty replay buffer")
            idx = rng.integers(0, self._size, size=n)
            for name in _COLUMNS:
                np.take(getattr(self._data, name), idx, axis=0, out=getattr(out, name)[start:stop])
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Copies of the stored rows, oldest first (for BC and tests)."""
        with self._lock:
            if self._size < self.capacity:
                order = np.arange(self._size)
            else:
                order = (self._next + np.arange(self.capacity)) % self.capacity
            return {name: getattr(self._data, name)[order] for name in _COLUMNS}


class EpisodeReplay:
    """The runner's replay (:class:`episode.types.Replay`): stages steps, commits episodes.

    Args:
        buffer: Where whole episodes go.
        space: Which action of a transition the agent learns: ``command`` (the 6-D Command
            vector the step carried, issued or labelled) or ``joint`` (the 28-D env action).
        demos: Receives the guide and human steps of successful episodes (None: no demos).
        demo_actors: Whose steps of a successful episode ``demos`` receives.
        command_scale: The agent's Command units (a faster explorer's); the steps carry their
            Commands in a person's units.

    """

    def __init__(
        self,
        buffer: ReplayBuffer,
        space: Literal["command", "joint"],
        demos: ReplayBuffer | None = None,
        demo_actors: frozenset[Actor] = DEMO_ACTORS,
        command_scale: CommandScale = PERSON,
    ) -> None:
        if space not in ("command", "joint"):
            raise ValueError(f"space must be 'command' or 'joint', got {space!r}")
        self.buffer, self.space, self.demos = buffer, space, demos
        self.demo_actors = demo_actors
        self.command_scale = command_scale
        self._steps: list[Transition] = []

    def add(self, transition: Transition) -> None:
        """Stage one step of the episode in progress (no lock, O(1))."""
        if self.space == "command" and transition.command is None:
            raise ValueError(
                "a Command-space learner got a step with no Command: give the runner a "
                "command_labeler for guides that act in 28-D"
            )
        self._steps.append(transition)

    def _action(self, tr: Transition) -> np.ndarray:
        """The step's action in the agent's space (``add`` checked the Command is there)."""
        if self.space == "command":
            assert tr.command is not None
            return from_person(tr.command, self.command_scale)
        return tr.action

    def discard_episode(self) -> None:
        """Drop the staged steps (an episode that will be played again)."""
        self._steps = []

    def end_episode(self) -> None:
        """Commit the staged steps as one episode (none staged: nothing happens)."""
        steps, self._steps = self._steps, []
        if not steps:
            return
        obs = np.stack([tr.obs for tr in steps])
        actions = np.stack([self._action(tr) for tr in steps])
        self.buffer.add_episode(
            obs,
            actions,
            np.array([tr.reward for tr in steps]),
            np.stack([tr.next_obs for tr in steps]),
            terminated=steps[-1].terminated,
            open_at_end=steps[-1].success,
        )
        if self.demos is not None and episode_success(sum(tr.success for tr in steps)):
            actors = np.array([int(tr.actor) for tr in steps])
            add_demo_steps(self.demos, obs, actions, actors, self.demo_actors)


def add_demo_steps(
    demos: ReplayBuffer,
    obs: np.ndarray,
    actions: np.ndarray,
    actors: np.ndarray,
    include: frozenset[Actor] = DEMO_ACTORS,
) -> int:
    """Add the steps by ``include`` of one successful episode to ``demos``; return how many."""
    keep = np.isin(actors, [int(a) for a in include])
    n = int(keep.sum())
    if n:
        zeros = np.zeros(n, np.float32)
        previous = previous_observations(obs)[keep]
        demos.add_arrays(obs[keep], actions[keep], zeros, obs[keep], zeros.astype(bool), previous)
    return n


def sample_mixed(
    online: ReplayBuffer,
    offline: ReplayBuffer | None,
    n: int,
    rng: np.random.Generator,
    offline_ratio: float = 0.5,
) -> Batch:
    """RLPD's symmetric sampling: half the batch from offline data, half from online data.

    ``int(n * offline_ratio)`` rows come from ``offline`` (RLPD's 0.5: half), the rest from
    ``online``. All rows come from ``online`` when ``offline`` is None or empty, and all from
    ``offline`` while ``online`` is still empty (a learner warm-started on recordings alone).
    """
    if offline is None or len(offline) == 0:
        return online.sample(n, rng)
    if len(online) == 0:
        return offline.sample(n, rng)
    if (online.input_dim, online.act_dim) != (offline.input_dim, offline.act_dim):
        raise ValueError(
            f"online buffer is {online.input_dim}/{online.act_dim}-D but offline is "
            f"{offline.input_dim}/{offline.act_dim}-D (obs/action)"
        )
    n_off = int(n * offline_ratio)
    out = _empty_arrays(n, online.input_dim, online.act_dim)
    if n_off > 0:
        offline._gather(n_off, rng, out, start=0)
    if n_off < n:
        online._gather(n - n_off, rng, out, start=n_off)
    return out.to_torch()
