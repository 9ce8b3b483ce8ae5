"""Soft Actor-Critic with the RLPD ingredients that make demonstrations count on sparse tasks.

Read top to bottom, like CleanRL's ``sac_continuous_action.py``, in three files:

1. ``learner.config.SACConfig``: every hyper-parameter, one docstring each (torch-free).
2. ``learner.networks``: ``Actor`` (a tanh-squashed Gaussian) and ``EnsembleCritic``
   (``n_critics`` Q-networks with LayerNorm evaluated as one batched network).
3. ``learner.losses``: the math as pure functions, each tested alone: ``squashed_sample``,
   ``td_target`` (n-step, floored by the Monte-Carlo return, optionally without the entropy
   term), ``critic_loss``, ``actor_loss``, ``bc_loss`` (with its fading ``bc_schedule``),
   ``alpha_loss``.
4. Here, ``SACAgent.update``: one gradient step on the critics, then on the actor and the
   entropy temperature alpha, then a Polyak step of the target critics.

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

from learner.config import SACConfig, saved_sac_settings
from learner.features import network_input_dim
from learner.losses import (
    actor_loss,
    alpha_loss,
    bc_loss,
    bc_schedule,
    critic_loss,
    q_filter,
    squashed_sample,
    td_target,
)
from learner.networks import Actor, EnsembleCritic, make_actor
from learner.replay import Batch

LOSS_NAMES = ("critic_loss", "actor_loss", "alpha", "q_mean", "entropy", "bc_loss")
"""The numbers :meth:`SACAgent.update` returns, in order."""


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
                mc_returns=batch.mc_returns if self.mc_floor_now else None,
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
    def mc_floor_now(self) -> bool:
        """Whether the TD target is floored by the MC return at the current update."""
        until = self.config.mc_lower_bound_until
        return self.config.mc_lower_bound and (until == 0 or self.updates < until)

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
    "SACAgent",
    "SACConfig",
    "matmul_precision",
    "resolve_device",
]
