"""The targets each replay row carries: n-step reward sums and the Monte-Carlo return-to-go.

Pure numpy, one episode at a time (``ReplayBuffer.add_episode`` calls them): the n-step TD
target is ``sum_{k<m} gamma^k r_{t+k} + gamma^m V(s_{t+m})`` (:func:`n_step_targets`), and the
episode's discounted return-to-go (:func:`returns_to_go`, with the lower-bound tail of
:func:`tail_value` for an episode the time limit cut) floors it.
"""

from __future__ import annotations

import numpy as np


def n_step_targets(
    rewards: np.ndarray, terminated: bool, gamma: float, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n-step reward sums, bootstrap indices and discounts for one episode of T steps.

    Args:
        rewards: ``(T,)`` rewards of the episode.
        terminated: The episode's last step was a termination (no bootstrap past it).
        gamma: Discount.
        n: Steps summed before bootstrapping (1 = plain TD).

    Returns:
        ``sums (T,)``, ``last (T,)`` (index of the step whose ``next_obs`` is bootstrapped
        from: ``min(t + n, T) - 1``) and ``discounts (T,)`` (``gamma^m``, 0 where the sum
        reached a terminal last step).

    """
    if n < 1:
        raise ValueError(f"n-step needs n >= 1, got {n}")
    r = np.asarray(rewards, dtype=np.float64)
    T = len(r)
    t = np.arange(T)
    last = np.minimum(t + n, T) - 1
    m = last - t + 1
    sums = np.zeros(T)
    for k in range(n):
        idx = t + k
        valid = idx < T
        sums[valid] += gamma**k * r[idx[valid]]
    discounts = np.power(gamma, m)
    if terminated and T:
        discounts[last == T - 1] = 0.0
    return sums, last, discounts


def returns_to_go(rewards: np.ndarray, gamma: float, tail: float = 0.0) -> np.ndarray:
    """Discounted return-to-go ``G_t = sum_{k>=t} gamma^(k-t) r_k + gamma^(T-t) tail``.

    Args:
        rewards: ``(T,)`` rewards of the episode.
        gamma: Discount.
        tail: Value assumed after the last step (0 for a termination or a door left open;
            :func:`tail_value` for an episode the time limit cut short).

    """
    r = np.asarray(rewards, dtype=np.float64)
    out = np.empty(len(r))
    g = float(tail)
    for i in range(len(r) - 1, -1, -1):
        g = r[i] + gamma * g
        out[i] = g
    return out


def tail_value(terminated: bool, open_at_end: bool, gamma: float) -> float:
    """A lower bound on the value after an episode's last step, for :func:`returns_to_go`.

    A termination ends the task (0). The door left open stays open (reward 0 from then on:
    0). Otherwise the worst case: the door never opens, -1 per step for ever,
    ``-1 / (1 - gamma)``, so ``G_t`` stays a true lower bound however the episode was cut.
    """
    if terminated or open_at_end:
        return 0.0
    return -1.0 / (1.0 - gamma) if gamma < 1.0 else -float("inf")


__all__ = ["n_step_targets", "returns_to_go", "tail_value"]
