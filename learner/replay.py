"""Replay buffers: a preallocated numpy ring, and RLPD's symmetric offline/online sampling.

The main thread adds one transition per env step (``add``: O(1), a short lock) while the
learner thread samples batches (``sample``: numpy fancy indexing under the same lock, then
``torch.from_numpy`` without a copy). Recordings are loaded in bulk with ``add_arrays``.

``dones`` are terminations only: a time-limit truncation still bootstraps from the next
observation (the door's 200-step limit is not part of the task's state).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Batch:
    """A batch of transitions as float32 CPU tensors (rows are transitions)."""

    obs: torch.Tensor
    """Observations, ``(n, obs_dim)``."""
    actions: torch.Tensor
    """Actions taken, ``(n, act_dim)``, in [-1, 1]."""
    rewards: torch.Tensor
    """Rewards, ``(n,)``."""
    next_obs: torch.Tensor
    """Observations after the step, ``(n, obs_dim)``."""
    dones: torch.Tensor
    """1.0 where the episode terminated (not truncated) at this step, else 0.0; ``(n,)``."""

    def __len__(self) -> int:
        return int(self.obs.shape[0])


@dataclass(frozen=True)
class _ArrayBatch:
    """The numpy arrays behind a ``Batch`` (shared by ``sample`` and ``sample_mixed``)."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    dones: np.ndarray

    def to_torch(self) -> Batch:
        """Wrap the arrays as tensors without copying."""
        return Batch(
            obs=torch.from_numpy(self.obs),
            actions=torch.from_numpy(self.actions),
            rewards=torch.from_numpy(self.rewards),
            next_obs=torch.from_numpy(self.next_obs),
            dones=torch.from_numpy(self.dones),
        )


def _empty_arrays(n: int, obs_dim: int, act_dim: int) -> _ArrayBatch:
    return _ArrayBatch(
        obs=np.empty((n, obs_dim), np.float32),
        actions=np.empty((n, act_dim), np.float32),
        rewards=np.empty((n,), np.float32),
        next_obs=np.empty((n, obs_dim), np.float32),
        dones=np.empty((n,), np.float32),
    )


class ReplayBuffer:
    """A fixed-capacity ring buffer of transitions; the oldest are overwritten when full.

    Thread-safe for one writer and any number of samplers: every public method takes one
    lock for a few microseconds (a row copy, or a fancy-indexed gather of ``n`` rows).
    """

    def __init__(self, capacity: int, obs_dim: int, act_dim: int) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        if obs_dim <= 0 or act_dim <= 0:
            raise ValueError(f"obs_dim and act_dim must be positive, got {obs_dim}, {act_dim}")
        self.capacity = int(capacity)
        self.obs_dim = int(obs_dim)
        self.act_dim = int(act_dim)
        self._data = _empty_arrays(self.capacity, self.obs_dim, self.act_dim)
        self._next = 0
        self._size = 0
        self._added = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._size

    @property
    def total_added(self) -> int:
        """Transitions ever added, counting those already overwritten."""
        return self._added

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
    ) -> None:
        """Append one transition (O(1)); overwrites the oldest one when full."""
        d = self._data
        with self._lock:
            i = self._next
            d.obs[i] = obs
            d.actions[i] = action
            d.rewards[i] = reward
            d.next_obs[i] = next_obs
            d.dones[i] = 1.0 if terminated else 0.0
            self._next = (i + 1) % self.capacity
            self._size = min(self._size + 1, self.capacity)
            self._added += 1

    def add_arrays(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        terminations: np.ndarray,
    ) -> None:
        """Append many transitions at once (rows); keeps the newest ``capacity`` if too many."""
        obs = np.asarray(obs, np.float32).reshape(-1, self.obs_dim)
        n = obs.shape[0]
        actions = np.asarray(actions, np.float32).reshape(n, self.act_dim)
        rewards = np.asarray(rewards, np.float32).reshape(n)
        next_obs = np.asarray(next_obs, np.float32).reshape(n, self.obs_dim)
        dones = np.asarray(terminations).reshape(n).astype(np.float32)
        if n > self.capacity:  # only the newest rows survive a wrap anyway
            obs, actions, rewards = (
                obs[-self.capacity :],
                actions[-self.capacity :],
                rewards[-self.capacity :],
            )
            next_obs, dones = next_obs[-self.capacity :], dones[-self.capacity :]
        m = obs.shape[0]
        with self._lock:
            idx = (self._next + np.arange(m)) % self.capacity
            d = self._data
            d.obs[idx], d.actions[idx], d.rewards[idx] = obs, actions, rewards
            d.next_obs[idx], d.dones[idx] = next_obs, dones
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
            out = _empty_arrays(n, self.obs_dim, self.act_dim)
        stop = start + n
        with self._lock:
            if self._size == 0:
                raise ValueError("cannot sample from an empty replay buffer")
            idx = rng.integers(0, self._size, size=n)
            d = self._data
            np.take(d.obs, idx, axis=0, out=out.obs[start:stop])
            np.take(d.actions, idx, axis=0, out=out.actions[start:stop])
            np.take(d.rewards, idx, out=out.rewards[start:stop])
            np.take(d.next_obs, idx, axis=0, out=out.next_obs[start:stop])
            np.take(d.dones, idx, out=out.dones[start:stop])
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Copies of the stored transitions, oldest first (for BC and checkpoints)."""
        with self._lock:
            if self._size < self.capacity:
                order = np.arange(self._size)
            else:
                order = (self._next + np.arange(self.capacity)) % self.capacity
            d = self._data
            return {
                "obs": d.obs[order],
                "actions": d.actions[order],
                "rewards": d.rewards[order],
                "next_obs": d.next_obs[order],
                "terminations": d.dones[order] > 0.5,
            }


def sample_mixed(
    online: ReplayBuffer,
    offline: ReplayBuffer | None,
    n: int,
    rng: np.random.Generator,
) -> Batch:
    """RLPD's symmetric sampling: half the batch from offline data, half from online data.

    All rows come from ``online`` when ``offline`` is None or empty, and all from ``offline``
    while ``online`` is still empty (a learner warm-started on recordings alone).
    """
    if offline is None or len(offline) == 0:
        return online.sample(n, rng)
    if len(online) == 0:
        return offline.sample(n, rng)
    if (online.obs_dim, online.act_dim) != (offline.obs_dim, offline.act_dim):
        raise ValueError(
            f"online buffer is {online.obs_dim}/{online.act_dim}-D but offline is "
            f"{offline.obs_dim}/{offline.act_dim}-D (obs/action)"
        )
    n_off = n // 2
    out = _empty_arrays(n, online.obs_dim, online.act_dim)
    if n_off > 0:
        offline._gather(n_off, rng, out, start=0)
    online._gather(n - n_off, rng, out, start=n_off)
    return out.to_torch()
