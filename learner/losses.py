"""The SAC math as pure functions, each tested alone (``tests/test_sac.py``).

``squashed_sample`` (a reparameterized tanh-Gaussian draw and its log-density), ``td_target``
(n-step, floored by the Monte-Carlo return, optionally without the entropy term, optionally
bootstrapping from IBRL's reference), ``critic_loss``, ``actor_loss``, ``bc_loss`` (with its
Q-filter and its fading ``bc_schedule``) and ``alpha_loss``. ``learner.sac.SACAgent.update``
puts them together.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)


def squashed_sample(
    mean: torch.Tensor, log_std: torch.Tensor, noise: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reparameterized draw ``a = tanh(mean + std * noise)`` and its log-density.

    ``log p(a) = log N(u; mean, std) - sum log(1 - tanh(u)^2)``, with the Jacobian term in
    its stable form ``log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u))``.

    Returns:
        The action ``(batch, act_dim)`` in (-1, 1) and its log-probability ``(batch,)``.
    """
    u = torch.addcmul(mean, log_std.exp(), noise)
    gaussian = 0.5 * noise.square() + log_std + _HALF_LOG_2PI  # minus the Gaussian log-density
    log_det = 2.0 * (_LOG_2 - u - F.softplus(-2.0 * u))
    return torch.tanh(u), -(gaussian + log_det).sum(-1)


def td_target(
    rewards: torch.Tensor,
    discounts: torch.Tensor,
    next_q: torch.Tensor,
    next_log_prob: torch.Tensor,
    alpha: torch.Tensor | float,
    *,
    backup_entropy: bool = True,
    mc_returns: torch.Tensor | None = None,
    reference_q: torch.Tensor | None = None,
) -> torch.Tensor:
    """n-step TD target, optionally floored by the Monte-Carlo return.

    ``target = R_n + discount * (min_i Q'_i(s', a') - alpha log pi(a'|s'))``, without the
    entropy term when ``backup_entropy`` is False, then ``max(target, mc_returns)`` when given.

    Args:
        rewards: n-step reward sums, ``(batch,)``.
        discounts: ``gamma^m``, 0 where the episode terminated (no bootstrap), ``(batch,)``.
        next_q: Target critics' values at ``(s', a')``, ``(members, batch)``.
        next_log_prob: ``log pi(a'|s')``, ``(batch,)``.
        alpha: Entropy temperature.
        backup_entropy: Include ``-alpha log pi`` in the bootstrapped value (soft Q).
        mc_returns: Discounted returns-to-go (``-inf`` where unknown), ``(batch,)``, or None.
        reference_q: Target critics' min value of the reference's action at ``s'``,
            ``(batch,)`` (IBRL: bootstrap from the better of the two proposals), or None.
    """
    value = next_q.amin(dim=0)
    if backup_entropy:
        value = value - alpha * next_log_prob
    if reference_q is not None:
        value = torch.maximum(value, reference_q)
    target = rewards + discounts * value
    return target if mc_returns is None else torch.maximum(target, mc_returns)


def critic_loss(q: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum over the ensemble of ``0.5 * mean squared TD error``; ``q`` is ``(n, batch)``.

    ``target`` is treated as a constant (detached) even if it carries a graph.
    """
    return 0.5 * (q - target.detach()).square().mean(dim=1).sum()


def actor_loss(
    q_pi: torch.Tensor,
    log_prob: torch.Tensor,
    alpha: torch.Tensor | float,
    reduce: Literal["min", "mean"] = "min",
) -> torch.Tensor:
    """``E[alpha log pi(a|s) - Q(s, a)]`` with ``a ~ pi``; ``q_pi`` is ``(n, batch)``.

    ``alpha`` is used as a constant (detached): only the actor learns from this loss.
    """
    q = q_pi.amin(dim=0) if reduce == "min" else q_pi.mean(dim=0)
    alpha = alpha.detach() if isinstance(alpha, torch.Tensor) else alpha
    return (alpha * log_prob - q).mean()


def bc_loss(
    mean: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean squared error of the actor's mode ``tanh(mean)`` against demonstrated actions.

    Args:
        mean: The actor's pre-squash means, ``(batch, act_dim)``.
        actions: Demonstrated actions in [-1, 1], ``(batch, act_dim)``.
        mask: 1.0 for the rows that count, 0.0 for the rest (a :func:`q_filter`), or None.
            The mean stays over the whole batch, so filtering weakens the term, as in Nair et al.
    """
    error = (torch.tanh(mean) - actions).square().sum(-1)
    return (error if mask is None else error * mask).mean()


def q_filter(q_demo: torch.Tensor, q_actor: torch.Tensor) -> torch.Tensor:
    """Nair et al.'s Q-filter: 1.0 where the demo action's value beats the actor's, else 0.0.

    Args:
        q_demo: Critics' values of the demonstrated actions, ``(members, batch)``.
        q_actor: Critics' values of the actor's modes at the same states, ``(members, batch)``.
    """
    return (q_demo.amin(dim=0) > q_actor.amin(dim=0)).float()


def bc_schedule(weight: float, decay_updates: int, updates: int) -> float:
    """The BC weight after ``updates`` updates: linear from ``weight`` to 0 (0 decay: constant)."""
    if decay_updates <= 0:
        return weight
    return weight * max(0.0, 1.0 - updates / decay_updates)


def alpha_loss(
    log_alpha: torch.Tensor, log_prob: torch.Tensor, target_entropy: float
) -> torch.Tensor:
    """Temperature loss ``-log(alpha) * E[log pi + target_entropy]`` (SB3 / softlearning form).

    Minimizing it raises alpha when the policy's entropy ``-E[log pi]`` is below the target and
    lowers it when above. ``log_prob`` is used as a constant: only ``log_alpha`` learns here.
    """
    return -(log_alpha * (log_prob.detach() + target_entropy)).mean()


__all__ = [
    "actor_loss",
    "alpha_loss",
    "bc_loss",
    "bc_schedule",
    "critic_loss",
    "q_filter",
    "squashed_sample",
    "td_target",
]
