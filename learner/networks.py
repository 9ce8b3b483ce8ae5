"""The SAC networks: a tanh-squashed Gaussian ``Actor`` and the batched ``EnsembleCritic``.

``EnsembleCritic`` holds ``n_critics`` Q-networks with LayerNorm (RLPD: it bounds Q-values far
from the data) as ONE batched network: weights of shape ``[n_critics, in, out]`` and
``torch.baddbmm``, no Python loop over critics. :func:`ensemble_q` is the same network on
explicit weights (the explorer runs it in numpy: ``learner.explorer.ensemble_q_numpy``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from learner.config import SACConfig
from learner.features import network_input_dim

LOG_STD_MIN = -5.0
"""Smallest log standard deviation of the actor's Gaussian (CleanRL's bounds)."""
LOG_STD_MAX = 2.0
"""Largest log standard deviation of the actor's Gaussian."""


class Actor(nn.Module):
    """Gaussian policy head: ``forward(obs) -> (mean, log_std)``; actions are ``tanh`` of a draw."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: int = 256) -> None:
        super().__init__()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.trunk = nn.Sequential(
            nn.Linear(obs_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.head = nn.Linear(hidden, 2 * act_dim)  # mean and log_std in one matmul

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the pre-tanh mean and the log standard deviation, each ``(..., act_dim)``."""
        mean, raw = self.head(self.trunk(obs)).chunk(2, dim=-1)
        # tanh maps raw into [-1, 1]; rescale to [LOG_STD_MIN, LOG_STD_MAX] (CleanRL, SpinningUp).
        half_span = 0.5 * (LOG_STD_MAX - LOG_STD_MIN)
        log_std = torch.add(LOG_STD_MIN + half_span, torch.tanh(raw), alpha=half_span)
        return mean, log_std


def make_actor(obs_dim: int, act_dim: int, config: SACConfig) -> Actor:
    """Build the actor network that ``SACAgent`` trains and ``Explorer`` runs.

    Its input is :func:`learner.features.network_input_dim` wide: the observation, and its rates
    with ``config.obs_rates``.
    """
    return Actor(network_input_dim(obs_dim, config), act_dim, config.hidden)


def _uniform_(t: torch.Tensor, fan_in: int, generator: torch.Generator | None = None) -> None:
    """PyTorch's default ``nn.Linear`` init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        t.uniform_(-bound, bound, generator=generator)


class EnsembleCritic(nn.Module):
    """``n`` Q-networks ``Q(s, a)`` as one batched network: ``forward`` returns ``(n, batch)``.

    Layer weights have shape ``[n, in, out]``; each layer is one ``torch.baddbmm`` over the
    members, so 2 or 10 critics cost the same number of kernel launches.
    """

    def __init__(self, in_dim: int, hidden: int, n: int, layer_norm: bool = True) -> None:
        super().__init__()
        self.n, self.hidden, self.layer_norm = n, hidden, layer_norm
        self.w1 = nn.Parameter(torch.empty(n, in_dim, hidden))
        self.b1 = nn.Parameter(torch.empty(n, 1, hidden))
        self.w2 = nn.Parameter(torch.empty(n, hidden, hidden))
        self.b2 = nn.Parameter(torch.empty(n, 1, hidden))
        self.w3 = nn.Parameter(torch.empty(n, 1, hidden))  # the 1-unit head as a row per member
        self.b3 = nn.Parameter(torch.empty(n, 1))
        for w, b, fan_in in (
            (self.w1, self.b1, in_dim),
            (self.w2, self.b2, hidden),
            (self.w3, self.b3, hidden),
        ):
            _uniform_(w, fan_in)
            _uniform_(b, fan_in)
        if layer_norm:  # per-member affine LayerNorm parameters
            self.g1 = nn.Parameter(torch.ones(n, 1, hidden))
            self.c1 = nn.Parameter(torch.zeros(n, 1, hidden))
            self.g2 = nn.Parameter(torch.ones(n, 1, hidden))
            self.c2 = nn.Parameter(torch.zeros(n, 1, hidden))
        self._names = tuple(name for name, _ in self.named_parameters())

    def forward(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        *,
        members: torch.Tensor | None = None,
        detach: bool = False,
    ) -> torch.Tensor:
        """Q-values ``(n_members, batch)``.

        Args:
            obs: Observations ``(batch, obs_dim)``.
            actions: Actions ``(batch, act_dim)``.
            members: Indices of the members to evaluate (default: all).
            detach: Use the weights as constants (no gradient reaches them), e.g. for the
                actor's loss, where only the action should receive a gradient.
        """
        p = {name: getattr(self, name) for name in self._names}
        if detach:
            p = {k: v.detach() for k, v in p.items()}
        if members is not None:
            p = {k: v[members] for k, v in p.items()}
        return ensemble_q(p, torch.cat((obs, actions), dim=-1), self.layer_norm)


def ensemble_q(p: dict[str, torch.Tensor], x: torch.Tensor, layer_norm: bool) -> torch.Tensor:
    """The batched critic on explicit weights ``p``: ``(batch, in)`` -> ``(members, batch)``."""
    m, hidden = p["w1"].shape[0], p["w1"].shape[2]
    h = torch.baddbmm(p["b1"], x.expand(m, *x.shape), p["w1"])
    if layer_norm:
        h = torch.addcmul(p["c1"], F.layer_norm(h, (hidden,)), p["g1"])
    h = torch.baddbmm(p["b2"], h.relu(), p["w2"])
    if layer_norm:
        h = torch.addcmul(p["c2"], F.layer_norm(h, (hidden,)), p["g2"])
    return (h.relu() * p["w3"]).sum(-1) + p["b3"]


__all__ = ["LOG_STD_MAX", "LOG_STD_MIN", "Actor", "EnsembleCritic", "ensemble_q", "make_actor"]
