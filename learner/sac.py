"""Soft Actor-Critic with the RLPD ingredients that make demonstrations count on sparse tasks.

Read top to bottom, like CleanRL's ``sac_continuous_action.py``:

1. ``SACConfig``: every hyper-parameter, one docstring each.
2. The networks: ``Actor`` (a tanh-squashed Gaussian) and ``EnsembleCritic`` (``n_critics``
   Q-networks with LayerNorm, evaluated as ONE batched network: weights of shape
   ``[n_critics, in, out]`` and ``torch.baddbmm``, no Python loop over critics).
3. The math as pure functions, each tested alone: ``squashed_sample``, ``td_target`` (n-step,
   floored by the Monte-Carlo return, optionally without the entropy term), ``critic_loss``,
   ``actor_loss``, ``bc_loss`` (with its fading ``bc_schedule``), ``alpha_loss``.
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
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from learner.config import SACConfig, bf16_matmul_supported, saved_sac_settings
from learner.features import network_input_dim
from learner.replay import Batch

LOG_STD_MIN = -5.0
"""Smallest log standard deviation of the actor's Gaussian (CleanRL's bounds)."""
LOG_STD_MAX = 2.0
"""Largest log standard deviation of the actor's Gaussian."""
LOSS_NAMES = ("critic_loss", "actor_loss", "alpha", "q_mean", "entropy", "bc_loss")
"""The numbers :meth:`SACAgent.update` returns, in order."""


# ---------------------------------------------------------------------------------------------
# 1. Configuration: ``SACConfig`` (in ``learner.config``, one docstring per field)
# ---------------------------------------------------------------------------------------------
# SACConfig lives in the torch-free learner.config (the command line reads it without torch).


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


# ---------------------------------------------------------------------------------------------
# 4. The agent
# ---------------------------------------------------------------------------------------------
class SACAgent:
    """Actor, critic ensemble, target critics, entropy temperature, and their optimizers."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        config: SACConfig,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ) -> None:
        if obs_dim <= 0 or act_dim <= 0:
            raise ValueError(f"obs_dim and act_dim must be positive, got {obs_dim}, {act_dim}")
        self.obs_dim, self.act_dim, self.config = obs_dim, act_dim, config
        self.device = torch.device(device)
        """Where the networks and updates live (batches arrive on the CPU and move here)."""
        # noise and target subsets; on the networks' device
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        with torch.random.fork_rng(devices=[]):  # seeded init (on the CPU: the same weights
            torch.manual_seed(seed)  # on every device), global RNG left as it was
            self.actor = make_actor(obs_dim, act_dim, config).to(self.device)
            self.critic = EnsembleCritic(
                network_input_dim(obs_dim, config) + act_dim,
                config.hidden,
                config.n_critics,
                config.layer_norm,
            ).to(self.device)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.log_alpha = torch.tensor(
            math.log(config.init_alpha), device=self.device, requires_grad=True
        )
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
            fused=True,  # one kernel for all parameters
        )
        self.critic_optimizer = torch.optim.Adam(
            self.critic.parameters(),
            lr=config.critic_lr,
            weight_decay=config.weight_decay,
            fused=True,
        )
        self.reference: Actor | None = None
        """The frozen behaviour-cloned actor (IBRL), set by :meth:`set_reference`."""
        self.actor_avg: Actor | None = (
            copy.deepcopy(self.actor).requires_grad_(False) if config.actor_average > 0 else None
        )
        """The Polyak-averaged actor that acts (``actor_average`` > 0), else None."""
        self._critic_params: list[torch.Tensor] = list(self.critic.parameters())
        self._target_params: list[torch.Tensor] = list(self.critic_target.parameters())
        nan = torch.tensor(math.nan, device=self.device)
        self._actor_stats = (nan, nan)
        self._bc_stat = torch.zeros((), device=self.device)
        self.updates = 0

    @property
    def alpha(self) -> float:
        """The current entropy temperature."""
        return float(self.log_alpha.detach().exp())

    def update(self, batch: Batch, demos: Batch | None = None) -> dict[str, float]:
        """One gradient step on the critics, then the actor and alpha, then the targets.

        Args:
            batch: Transitions to learn from (n-step rows, see :mod:`learner.replay`).
            demos: Demonstrated ``(obs, actions)`` for the actor's BC term (None: no term).
        """
        if self.device.type != "cpu":
            batch, demos = batch.to(self.device), None if demos is None else demos.to(self.device)
        with matmul_precision("bf16" if self.config.bf16_matmul else None):
            return self._update(batch, demos)

    def _update(self, batch: Batch, demos: Batch | None) -> dict[str, float]:
        cfg = self.config
        alpha = self.log_alpha.detach().exp()

        # Critic: regress every member onto the n-step TD target (floored by the MC return).
        with torch.no_grad():
            next_a, next_log_prob = self._sample(batch.next_obs)
            members = self._target_members()
            next_q = self.critic_target(batch.next_obs, next_a, members=members)
            target = td_target(
                batch.rewards,
                batch.discounts,
                next_q,
                next_log_prob,
                alpha,
                backup_entropy=cfg.backup_entropy,
                mc_returns=batch.mc_returns if cfg.mc_lower_bound else None,
                reference_q=self._reference_q(batch.next_obs, members),
            )
        q = self.critic(batch.obs, batch.actions)
        loss_q = critic_loss(q, target)
        self.critic_optimizer.zero_grad(set_to_none=True)
        loss_q.backward()
        self.critic_optimizer.step()

        # Actor and alpha: one backward (the losses touch disjoint variables).
        if self.updates >= cfg.actor_delay and self.updates % cfg.actor_every == 0:
            actions, log_prob = self._sample(batch.obs)
            q_pi = self.critic(batch.obs, actions, detach=True)
            loss_pi = actor_loss(q_pi, log_prob, alpha, cfg.actor_q)
            loss_alpha = alpha_loss(self.log_alpha, log_prob, self.target_entropy)
            loss_bc = self._bc_term(demos, q_pi)
            self.actor_optimizer.zero_grad(set_to_none=True)
            (loss_pi + loss_alpha + loss_bc).backward()
            self.actor_optimizer.step()
            self._average_actor()
            self._actor_stats = (loss_pi.detach(), -log_prob.detach().mean())
            self._bc_stat = loss_bc.detach()

        # Targets: Polyak averaging, one fused call over all tensors.
        with torch.no_grad():
            torch._foreach_lerp_(self._target_params, self._critic_params, cfg.tau)
        self.updates += 1

        loss_pi, entropy = self._actor_stats  # from the last actor update
        numbers = (loss_q.detach(), loss_pi, alpha, q.detach().mean(), entropy, self._bc_stat)
        stats = torch.stack(numbers).tolist()
        return dict(zip(LOSS_NAMES, stats, strict=True))

    def _average_actor(self) -> None:
        """Move the averaged actor toward the actor (Polyak), after each actor step."""
        if self.actor_avg is None:
            return
        with torch.no_grad():
            avg: list[torch.Tensor] = list(self.actor_avg.parameters())
            now: list[torch.Tensor] = list(self.actor.parameters())
            torch._foreach_lerp_(avg, now, self.config.actor_average)

    def restart_average(self) -> None:
        """Start the averaged actor at the actor (after a behaviour-cloning warm start)."""
        if self.actor_avg is not None:
            self.actor_avg.load_state_dict(self.actor.state_dict())

    def _bc_term(self, demos: Batch | None, q_pi: torch.Tensor) -> torch.Tensor:
        """``w * mean|Q| * mse(tanh(mean(s_demo)), a_demo)``, w fading out (0 without demos)."""
        weight = self.bc_weight_now
        if demos is None or weight <= 0.0:
            return torch.zeros((), device=self.device)
        mean, _ = self.actor(demos.obs)
        q_scale = q_pi.detach().abs().mean()
        mask = None
        if self.config.bc_q_filter and self.updates >= self.config.bc_q_filter_after:
            with torch.no_grad():
                q_demo = self.critic(demos.obs, demos.actions)
                q_actor = self.critic(demos.obs, torch.tanh(mean))
                mask = q_filter(q_demo, q_actor)
        return weight * q_scale * bc_loss(mean, demos.actions, mask)

    def _reference_q(self, obs: torch.Tensor, members: torch.Tensor | None) -> torch.Tensor | None:
        """Target critics' min value of the reference's mode at ``obs`` (None: no reference)."""
        if self.reference is None:
            return None
        mean, _ = self.reference(obs)
        return self.critic_target(obs, torch.tanh(mean), members=members).amin(dim=0)

    def set_reference(self) -> None:
        """Freeze a copy of the current actor (after behaviour cloning) as the IBRL reference."""
        self.reference = copy.deepcopy(self.actor).requires_grad_(False).eval()

    def acting_state(self) -> dict[str, dict[str, torch.Tensor] | None]:
        """What an :class:`~learner.explorer.Explorer` acts with (detached CPU copies).

        The actor; with a reference also the reference and the critic that chooses between
        their proposals (the target critic with ``select_with_target``). Safe to hand to
        another thread.
        """
        state: dict[str, dict[str, torch.Tensor] | None] = {"actor": self.actor_state_dict()}
        if self.reference is not None:
            state["reference"] = _copy(self.reference.state_dict())
            chooser = self.critic_target if self.config.select_with_target else self.critic
            state["critic"] = _copy(chooser.state_dict())
        return state

    @property
    def bc_weight_now(self) -> float:
        """The BC term's weight at the current update (the fade starts with the actor's updates)."""
        cfg = self.config
        return bc_schedule(
            cfg.bc_weight, cfg.bc_decay_updates, max(0, self.updates - cfg.actor_delay)
        )

    def _sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw actions from the current actor with the agent's own noise generator."""
        mean, log_std = self.actor(obs)
        noise = torch.randn(mean.shape, generator=self.generator, device=self.device)
        return squashed_sample(mean, log_std, noise)

    def _target_members(self) -> torch.Tensor | None:
        """RLPD's random subset of target critics (None: all of them)."""
        k = self.config.target_critics
        if k is None or k == self.config.n_critics:
            return None
        n = self.config.n_critics
        return torch.randperm(n, generator=self.generator, device=self.device)[:k]

    # -- weights out and in -------------------------------------------------------------------
    def actor_state_dict(self) -> dict[str, torch.Tensor]:
        """A detached CPU copy of the acting actor's weights (the averaged one if kept)."""
        acting = self.actor if self.actor_avg is None else self.actor_avg
        return _copy(acting.state_dict())

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
                "reference": None if self.reference is None else self.reference.state_dict(),
                "actor_avg": None if self.actor_avg is None else self.actor_avg.state_dict(),
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
                f"state is for (obs_dim, act_dim, hidden, n_critics, layer_norm, obs_rates, "
                f"rates_of) = "
                f"{theirs}, this agent has {ours}: build the agent with the checkpoint's config"
            )
        self.actor.load_state_dict(state["actor"])
        if state.get("reference") is not None:
            self.set_reference()
            assert self.reference is not None
            self.reference.load_state_dict(state["reference"])
        if self.actor_avg is not None:  # a state saved without one: start it at the actor
            self.actor_avg.load_state_dict(state.get("actor_avg") or state["actor"])
        self.critic.load_state_dict(state["critic"])
        self.critic_target.load_state_dict(state["critic_target"])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        try:
            self.generator.set_state(state["generator"])
        except RuntimeError:  # saved on another kind of device: the noise stream restarts
            self.generator.manual_seed(int(state.get("updates", 0)))
        self.updates = int(state["updates"])


def _copy(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Detached CPU copies (safe to hand to another thread or to save)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in state.items()}


def resolve_device(name: str) -> torch.device:
    """``auto``: CUDA when there is a GPU, else the CPU; otherwise the device named.

    Raises:
        ValueError: A CUDA device asked for where there is none, or an unknown name.

    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(
            f"--learner.device {name!r} is not a device: use auto, cpu, cuda or cuda:N"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--learner.device {name}: no CUDA GPU here; use auto or cpu")
    return device


def _shape_of(config: dict) -> tuple:
    """The config fields that decide the shapes of the weights."""
    shape = tuple(config.get(k) for k in ("hidden", "n_critics", "layer_norm"))
    saved = saved_sac_settings(config)  # options it predates: as they behaved then
    return (*shape, saved["obs_rates"], saved["rates_of"] if saved["obs_rates"] else None)


@contextlib.contextmanager
def matmul_precision(precision: Literal["bf16"] | None) -> Iterator[None]:
    """Let fp32 CPU matrix products use ``precision`` internally in this block (None: as is).

    The switch is process-wide while the block runs (a torch global), then restored.
    """
    if precision is None:
        yield
        return
    backend = torch.backends.mkldnn.matmul  # type: ignore[attr-defined]
    previous = backend.fp32_precision
    backend.fp32_precision = precision
    try:
        yield
    finally:
        backend.fp32_precision = previous


__all__ = [
    "LOSS_NAMES",
    "Actor",
    "EnsembleCritic",
    "SACAgent",
    "SACConfig",
    "actor_loss",
    "alpha_loss",
    "bc_loss",
    "bc_schedule",
    "bf16_matmul_supported",
    "critic_loss",
    "make_actor",
    "matmul_precision",
    "q_filter",
    "resolve_device",
    "squashed_sample",
    "td_target",
]
