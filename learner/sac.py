"""Soft Actor-Critic with the RLPD ingredients that make demonstrations count on sparse tasks.

Read top to bottom, like CleanRL's ``sac_continuous_action.py``:

1. ``SACConfig``: every hyper-parameter, one docstring each.
2. The networks: ``Actor`` (a tanh-squashed Gaussian) and ``EnsembleCritic`` (``n_critics``
   Q-networks with LayerNorm, evaluated as ONE batched network: weights of shape
   ``[n_critics, in, out]`` and ``torch.baddbmm``, no Python loop over critics).
3. The math as pure functions, each tested alone: ``squashed_sample``, ``td_target``,
   ``critic_loss``, ``actor_loss``, ``alpha_loss``.
4. ``SACAgent.update``: one gradient step on the critics, then on the actor and the entropy
   temperature alpha, then a Polyak step of the target critics.

RLPD (Ball, Smith, Kostrikov, Levine 2023, "Efficient Online RL with Offline Data") adds to
SAC: symmetric 50/50 sampling of offline and online data (``replay.sample_mixed``), LayerNorm
in the critics (it bounds Q-values far from the data), a critic ensemble whose target takes the
min over a random subset (``target_critics``, RLPD: 2 of 10), and a high update-to-data ratio
(``thread.LearnerConfig.utd_ratio``).

Speed (see ``bench/learner_speed.py``): fused critics, a fused Adam, one backward for the
actor and alpha together, the critic's weights detached (not re-graded) in the actor's loss,
one ``foreach`` lerp for the Polyak step, and a single ``tolist()`` for the logged numbers.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from learner.replay import Batch

LOG_STD_MIN = -5.0
"""Smallest log standard deviation of the actor's Gaussian (CleanRL's bounds)."""
LOG_STD_MAX = 2.0
"""Largest log standard deviation of the actor's Gaussian."""


# ---------------------------------------------------------------------------------------------
# 1. Configuration
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SACConfig:
    """Hyper-parameters of the SAC agent (defaults: SAC with RLPD's LayerNorm critics)."""

    hidden: int = 256
    """Width of the two hidden layers of the actor and of each critic."""
    n_critics: int = 2
    """Q-networks in the critic ensemble (RLPD uses 10 with ``target_critics=2``)."""
    layer_norm: bool = True
    """LayerNorm after each hidden layer of the critics (RLPD)."""
    batch_size: int = 256
    """Transitions per gradient step (half offline, half online when both exist)."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak rate of the target critics (1.0 copies the online critics)."""
    actor_lr: float = 3e-4
    """Adam learning rate of the actor."""
    critic_lr: float = 3e-4
    """Adam learning rate of the critics."""
    alpha_lr: float = 3e-4
    """Adam learning rate of log(alpha), the entropy temperature."""
    init_alpha: float = 0.1
    """Initial entropy temperature alpha."""
    target_entropy: float | None = None
    """Entropy that alpha is tuned towards; None means ``-act_dim``."""
    target_critics: int | None = None
    """Size of the random subset of target critics whose min is the TD target; None = all."""
    actor_q: Literal["min", "mean"] = "min"
    """How the actor's loss reduces the ensemble: min (SAC) or mean (RLPD with 10 critics)."""
    weight_decay: float = 0.0
    """Adam weight decay of the critics."""
    bf16_matmul: bool = False
    """Multiply in bfloat16 inside ``update`` (fp32 in and out, fp32 accumulation; oneDNN).

    About 2x faster matrix products on CPUs with AVX512-BF16 or AMX. Off by default: it trades
    precision for speed, and torch's switch is process-wide, so matrix products in other
    threads during an update use it too."""
    actor_every: int = 1
    """Update the actor and alpha on every k-th update only (the critics on every one).

    RLPD with an update-to-data ratio of k updates the actor once per env step: set
    ``actor_every = utd_ratio`` for that. 1 is plain SAC (and what the speed bench compares)."""

    def __post_init__(self) -> None:
        """Fail fast on values that cannot work."""
        if self.hidden <= 0 or self.batch_size <= 0:
            raise ValueError(
                f"hidden and batch_size must be positive: {self.hidden}, {self.batch_size}"
            )
        if self.actor_every < 1:
            raise ValueError(f"actor_every must be >= 1, got {self.actor_every}")
        if self.n_critics < 1:
            raise ValueError(f"n_critics must be >= 1, got {self.n_critics}")
        if self.target_critics is not None and not 1 <= self.target_critics <= self.n_critics:
            raise ValueError(
                f"target_critics must be in [1, n_critics={self.n_critics}], "
                f"got {self.target_critics}"
            )
        if not 0.0 <= self.gamma <= 1.0 or not 0.0 < self.tau <= 1.0:
            raise ValueError(f"need 0 <= gamma <= 1 and 0 < tau <= 1: {self.gamma}, {self.tau}")
        if self.init_alpha <= 0.0:
            raise ValueError(f"init_alpha must be positive, got {self.init_alpha}")
        if self.actor_q not in ("min", "mean"):
            raise ValueError(f"actor_q must be 'min' or 'mean', got {self.actor_q!r}")
        if self.bf16_matmul and not bf16_matmul_supported():
            raise ValueError(
                "bf16_matmul=True needs a CPU with bfloat16 support (AVX512-BF16 or AMX) and "
                "torch built with oneDNN; this one has neither: set bf16_matmul=False"
            )


# ---------------------------------------------------------------------------------------------
# 2. Networks
# ---------------------------------------------------------------------------------------------
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


def make_actor(obs_dim: int, act_dim: int, config: SACConfig) -> nn.Module:
    """Build the actor network that ``SACAgent`` trains and ``Explorer`` runs."""
    return Actor(obs_dim, act_dim, config.hidden)


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


# ---------------------------------------------------------------------------------------------
# 3. The math, as pure functions
# ---------------------------------------------------------------------------------------------
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
    dones: torch.Tensor,
    next_q: torch.Tensor,
    next_log_prob: torch.Tensor,
    alpha: torch.Tensor | float,
    gamma: float,
) -> torch.Tensor:
    """Soft TD target ``r + gamma (1 - done) (min_i Q'_i(s', a') - alpha log pi(a'|s'))``.

    Args:
        rewards: ``(batch,)``.
        dones: ``(batch,)``, 1.0 at a termination (no bootstrap), 0.0 otherwise.
        next_q: Target critics' values at ``(s', a')``, ``(members, batch)``.
        next_log_prob: ``log pi(a'|s')``, ``(batch,)``.
        alpha: Entropy temperature.
        gamma: Discount.
    """
    soft_value = next_q.amin(dim=0) - alpha * next_log_prob
    return rewards + gamma * (1.0 - dones) * soft_value


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


def alpha_loss(
    log_alpha: torch.Tensor, log_prob: torch.Tensor, target_entropy: float
) -> torch.Tensor:
    """Temperature loss ``-log(alpha) * E[log pi + target_entropy]`` (SB3 / softlearning form).

    Minimizing it raises alpha when the policy's entropy ``-E[log pi]`` is below the target and
    lowers it when above. ``log_prob`` is used as a constant: only ``log_alpha`` learns here.
    """
    return -(log_alpha * (log_prob.detach() + target_entropy)).mean()


# ---------------------------------------------------------------------------------------------
# 4. The agent
# ---------------------------------------------------------------------------------------------
class SACAgent:
    """Actor, critic ensemble, target critics, entropy temperature, and their optimizers."""

    def __init__(self, obs_dim: int, act_dim: int, config: SACConfig, seed: int = 0) -> None:
        if obs_dim <= 0 or act_dim <= 0:
            raise ValueError(f"obs_dim and act_dim must be positive, got {obs_dim}, {act_dim}")
        self.obs_dim, self.act_dim, self.config = obs_dim, act_dim, config
        self.generator = torch.Generator().manual_seed(seed)  # noise and target subsets
        with torch.random.fork_rng(devices=[]):  # seeded init, global RNG left as it was
            torch.manual_seed(seed)
            self.actor = make_actor(obs_dim, act_dim, config)
            self.critic = EnsembleCritic(
                obs_dim + act_dim, config.hidden, config.n_critics, config.layer_norm
            )
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.log_alpha = torch.tensor(math.log(config.init_alpha), requires_grad=True)
        self.target_entropy = (
            float(-act_dim) if config.target_entropy is None else float(config.target_entropy)
        )
        # One optimizer steps the actor and alpha together: their losses share one backward
        # and their gradients do not mix (each loss detaches the other's variables).
        self.actor_optimizer = torch.optim.Adam(
            [
                {"params": self.actor.parameters(), "lr": config.actor_lr},
                {"params": [self.log_alpha], "lr": config.alpha_lr},
            ],
            **_fast_adam(),
        )
        self.critic_optimizer = torch.optim.Adam(
            self.critic.parameters(),
            lr=config.critic_lr,
            weight_decay=config.weight_decay,
            **_fast_adam(),
        )
        self._critic_params = list(self.critic.parameters())
        self._target_params = list(self.critic_target.parameters())
        self._actor_stats = (torch.tensor(math.nan), torch.tensor(math.nan))
        self.updates = 0

    @property
    def alpha(self) -> float:
        """The current entropy temperature."""
        return float(self.log_alpha.detach().exp())

    def update(self, batch: Batch) -> dict[str, float]:
        """One gradient step on the critics, then the actor and alpha, then the targets."""
        with matmul_precision("bf16" if self.config.bf16_matmul else None):
            return self._update(batch)

    def _update(self, batch: Batch) -> dict[str, float]:
        cfg = self.config
        alpha = self.log_alpha.detach().exp()

        # Critic: regress every member onto the soft TD target.
        with torch.no_grad():
            next_a, next_log_prob = self._sample(batch.next_obs)
            next_q = self.critic_target(batch.next_obs, next_a, members=self._target_members())
            target = td_target(batch.rewards, batch.dones, next_q, next_log_prob, alpha, cfg.gamma)
        q = self.critic(batch.obs, batch.actions)
        loss_q = critic_loss(q, target)
        self.critic_optimizer.zero_grad(set_to_none=True)
        loss_q.backward()
        self.critic_optimizer.step()

        # Actor and alpha: one backward (the losses touch disjoint variables).
        if self.updates % cfg.actor_every == 0:
            actions, log_prob = self._sample(batch.obs)
            q_pi = self.critic(batch.obs, actions, detach=True)
            loss_pi = actor_loss(q_pi, log_prob, alpha, cfg.actor_q)
            loss_alpha = alpha_loss(self.log_alpha, log_prob, self.target_entropy)
            self.actor_optimizer.zero_grad(set_to_none=True)
            (loss_pi + loss_alpha).backward()
            self.actor_optimizer.step()
            self._actor_stats = (loss_pi.detach(), -log_prob.detach().mean())

        # Targets: Polyak averaging, one fused call over all tensors.
        with torch.no_grad():
            torch._foreach_lerp_(self._target_params, self._critic_params, cfg.tau)
        self.updates += 1

        loss_pi, entropy = self._actor_stats  # from the last actor update
        stats = torch.stack((loss_q.detach(), loss_pi, alpha, q.detach().mean(), entropy)).tolist()
        return dict(
            zip(("critic_loss", "actor_loss", "alpha", "q_mean", "entropy"), stats, strict=True)
        )

    def _sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw actions from the current actor with the agent's own noise generator."""
        mean, log_std = self.actor(obs)
        noise = torch.randn(mean.shape, generator=self.generator)
        return squashed_sample(mean, log_std, noise)

    def _target_members(self) -> torch.Tensor | None:
        """RLPD's random subset of target critics (None: all of them)."""
        k = self.config.target_critics
        if k is None or k == self.config.n_critics:
            return None
        return torch.randperm(self.config.n_critics, generator=self.generator)[:k]

    # -- weights out and in -------------------------------------------------------------------
    def actor_state_dict(self) -> dict[str, torch.Tensor]:
        """A detached CPU copy of the actor's weights (safe to hand to another thread)."""
        return {k: v.detach().clone() for k, v in self.actor.state_dict().items()}

    def state_dict(self) -> dict:
        """Everything needed to resume training exactly: networks, optimizers, alpha, RNG."""
        return copy.deepcopy(
            {
                "obs_dim": self.obs_dim,
                "act_dim": self.act_dim,
                "config": dataclasses.asdict(self.config),
                "actor": self.actor.state_dict(),
                "critic": self.critic.state_dict(),
                "critic_target": self.critic_target.state_dict(),
                "log_alpha": self.log_alpha.detach(),
                "actor_optimizer": self.actor_optimizer.state_dict(),
                "critic_optimizer": self.critic_optimizer.state_dict(),
                "generator": self.generator.get_state(),
                "updates": self.updates,
            }
        )

    def load_state_dict(self, state: dict) -> None:
        """Restore what ``state_dict`` returned (dimensions must match)."""
        saved = state.get("config")  # None in states saved before the config was stored
        mine = dataclasses.asdict(self.config)
        theirs = (state.get("obs_dim"), state.get("act_dim"), *_shape_of(saved or mine))
        ours = (self.obs_dim, self.act_dim, *_shape_of(mine))
        if theirs != ours:
            raise ValueError(
                f"state is for (obs_dim, act_dim, hidden, n_critics, layer_norm) = {theirs}, "
                f"this agent has {ours}: build the agent with the checkpoint's config"
            )
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])
        self.critic_target.load_state_dict(state["critic_target"])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.generator.set_state(state["generator"])
        self.updates = int(state["updates"])


def _shape_of(config: dict) -> tuple:
    """The config fields that decide the shapes of the weights."""
    return tuple(config.get(k) for k in ("hidden", "n_critics", "layer_norm"))


def bf16_matmul_supported() -> bool:
    """Whether oneDNN can run fp32 matrix products in bfloat16 on this CPU."""
    return bool(
        torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


@contextlib.contextmanager
def matmul_precision(precision: Literal["bf16"] | None) -> Iterator[None]:
    """Let fp32 CPU matrix products use ``precision`` internally in this block (None: as is).

    The switch is process-wide while the block runs (a torch global), then restored.
    """
    if precision is None:
        yield
        return
    backend = torch.backends.mkldnn.matmul
    previous = backend.fp32_precision
    backend.fp32_precision = precision
    try:
        yield
    finally:
        backend.fp32_precision = previous


def _fast_adam() -> dict[str, bool]:
    """Adam options: the fused multi-tensor kernel (one call for all parameters)."""
    return {"fused": True}
