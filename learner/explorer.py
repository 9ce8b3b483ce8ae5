"""The explorer: the acting copy of the SAC actor that drives the hand in the main thread.

``act`` runs the actor's math in numpy on cached float32 weights: a 39 -> 256 -> 256 -> 56
MLP on one observation costs a few microseconds of BLAS, and numpy keeps the main thread out of
torch's intra-op thread pool, which the learner thread is using at the same time. The torch
module ``actor`` holds the same weights (it is the source of truth; ``load`` refreshes both).

New weights arrive through ``sync(slot)`` at episode boundaries only, so one episode is acted
by one policy version, which the recordings store per episode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from learner.config import SACConfig
from learner.features import rate_entries, with_rates
from learner.networks import LOG_STD_MAX, LOG_STD_MIN, make_actor
from teleop.command_space import COMMAND_DIM, CommandController

if TYPE_CHECKING:
    from learner.thread import WeightSlot


class Explorer:
    """A CPU copy of the actor that returns actions in [-1, 1] for single observations.

    With the learner's critic and a BC reference policy (IBRL, Hu et al. 2023: "Imitation
    Bootstrapped RL"), each action is the actor's proposal or the reference's, whichever the
    critic values more: the explorer is never worse than its behaviour-cloned start where the
    critic knows better, and the actor takes over where it has learned to do better.
    """

    kind: str = "explorer"

    def __init__(self, obs_dim: int, act_dim: int, config: SACConfig, seed: int = 0) -> None:
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.layer_norm = config.layer_norm
        self.uses_previous = config.obs_rates
        """The networks also see the rates since the previous observation: ``act`` wants it."""
        self.rates_of = config.rates_of
        self._rate_entries = rate_entries(config.rates_of)
        # Same seeded init as SACAgent(seed): version 0 is the learner's initial actor.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.actor = make_actor(obs_dim, act_dim, config)
        self.actor.requires_grad_(False).eval()
        self.version = 0
        """Weight version in use (0 = the untrained initial weights)."""
        self._rng = np.random.default_rng(seed)
        self._weights = _numpy_layers(self.actor)
        self._reference: list[tuple[np.ndarray, np.ndarray]] | None = None
        self._critic: dict[str, np.ndarray] | None = None
        self.reference_chosen = 0
        """Actions for which the critic preferred the reference's proposal (since creation)."""
        self.actions = 0
        """Actions returned (since creation)."""
        self.last_value: np.ndarray | None = None
        """The critic's value (min over members) of the actions the last :meth:`act` returned,
        ``(n,)``; None without a reference and critic."""

    def act(
        self, obs: np.ndarray, deterministic: bool = False, previous: np.ndarray | None = None
    ) -> np.ndarray:
        """Action for ``obs``: a draw from the policy, or ``tanh(mean)`` if deterministic.

        With a reference and a critic loaded, the reference's mode replaces the actor's
        proposal wherever the critic values it more.

        Args:
            obs: One observation ``(obs_dim,)`` (or a batch ``(n, obs_dim)``).
            deterministic: Return the policy's mode instead of a sample.
            previous: The episode's observation before ``obs`` (with :attr:`uses_previous`;
                None: the first of an episode, rates 0).

        Returns:
            float32 action(s) in [-1, 1], shape ``(act_dim,)`` (or ``(n, act_dim)``).
        """
        x = np.asarray(obs, dtype=np.float32)
        if x.shape[-1:] != (self.obs_dim,) or x.ndim > 2:
            raise ValueError(f"expected obs of shape ({self.obs_dim},), got {x.shape}")
        if self.uses_previous:
            x = with_rates(x, previous, self._rate_entries)
        out = _mlp(self._weights, x)
        mean, raw = out[..., : self.act_dim], out[..., self.act_dim :]
        if deterministic:
            action = np.tanh(mean)
        else:
            half_span = 0.5 * (LOG_STD_MAX - LOG_STD_MIN)
            std = np.exp(LOG_STD_MIN + half_span + half_span * np.tanh(raw))
            noise = self._rng.standard_normal(mean.shape, dtype=np.float32)
            action = np.tanh(mean + std * noise)
        if self._reference is None or self._critic is None:
            self.last_value = None
            return action
        return self._select(x, action, self._reference, self._critic)

    def _select(
        self,
        x: np.ndarray,
        action: np.ndarray,
        reference: list[tuple[np.ndarray, np.ndarray]],
        critic: dict[str, np.ndarray],
    ) -> np.ndarray:
        """The actor's or the reference's action, by the critic's (min over members) value."""
        ref = np.tanh(_mlp(reference, x)[..., : self.act_dim])
        xs, acts = np.atleast_2d(x), np.concatenate([np.atleast_2d(action), np.atleast_2d(ref)])
        q = ensemble_q_numpy(
            critic, np.concatenate([np.tile(xs, (2, 1)), acts], -1), self.layer_norm
        )
        n = xs.shape[0]
        use_ref = q[n:] > q[:n]
        self.last_value = np.maximum(q[n:], q[:n])
        self.actions += n
        self.reference_chosen += int(use_ref.sum())
        chosen = np.where(use_ref[:, None], np.atleast_2d(ref), np.atleast_2d(action))
        return chosen.reshape(action.shape).astype(np.float32)

    def load(self, version: int, state: dict) -> None:
        """Use ``state`` as weight version ``version``.

        ``state`` is :meth:`SACAgent.acting_state` (actor, critic, reference) or a plain actor
        state dict (:meth:`SACAgent.actor_state_dict`, checkpoints before the reference).
        """
        actor = state["actor"] if isinstance(state.get("actor"), dict) else state
        self.actor.load_state_dict(actor)
        self._weights = _numpy_layers(self.actor)
        reference, critic = state.get("reference"), state.get("critic")
        if isinstance(reference, dict) and isinstance(critic, dict):
            ref_net = make_actor(self.obs_dim, self.act_dim, self._shape_of(reference))
            ref_net.load_state_dict(reference)
            self._reference = _numpy_layers(ref_net)
            self._critic = {k: v.detach().numpy().astype(np.float32) for k, v in critic.items()}
        else:
            self._reference = self._critic = None
        self.version = int(version)

    def _shape_of(self, actor_state: dict) -> SACConfig:
        """A config for building the network of ``actor_state`` (its width; our inputs)."""
        hidden = int(actor_state["trunk.0.weight"].shape[0])
        return SACConfig(hidden=hidden, obs_rates=self.uses_previous, rates_of=self.rates_of)

    @property
    def has_reference(self) -> bool:
        """Whether the critic chooses between the actor and a BC reference (IBRL)."""
        return self._reference is not None

    def sync(self, slot: WeightSlot) -> bool:
        """Take the newest published weights if newer than ours; True if they changed.

        Call at an episode boundary only.
        """
        version, state = slot.latest()
        if state is None or version <= self.version:
            return False
        self.load(version, state)
        return True


def _numpy_layers(actor: torch.nn.Module) -> list[tuple[np.ndarray, np.ndarray]]:
    """float32 numpy copies of the actor's layers, as ``(W^T, b)`` for ``x @ W^T + b``."""
    layers = [actor.trunk[0], actor.trunk[2], actor.head]  # type: ignore[index]
    assert all(isinstance(layer, torch.nn.Linear) for layer in layers)
    return [
        (
            np.ascontiguousarray(layer.weight.detach().numpy().T, dtype=np.float32),
            layer.bias.detach().numpy().astype(np.float32),
        )
        for layer in layers
        if isinstance(layer, torch.nn.Linear)
    ]


def _mlp(weights: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """The actor's two ReLU layers and its head, in numpy."""
    (w1, b1), (w2, b2), (w3, b3) = weights
    h = x @ w1
    h += b1
    np.maximum(h, 0.0, out=h)
    h2 = h @ w2
    h2 += b2
    np.maximum(h2, 0.0, out=h2)
    out = h2 @ w3
    out += b3
    return out


def ensemble_q_numpy(p: dict[str, np.ndarray], x: np.ndarray, layer_norm: bool) -> np.ndarray:
    """:func:`learner.networks.ensemble_q` in numpy, the min over members: ``(batch,)``."""
    h = np.einsum("bi,mih->mbh", x, p["w1"]) + p["b1"]
    if layer_norm:
        h = _layer_norm(h) * p["g1"] + p["c1"]
    h = np.einsum("mbi,mih->mbh", np.maximum(h, 0.0), p["w2"]) + p["b2"]
    if layer_norm:
        h = _layer_norm(h) * p["g2"] + p["c2"]
    q = (np.maximum(h, 0.0) * p["w3"]).sum(-1) + p["b3"]
    return q.min(axis=0)


def _layer_norm(h: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mean = h.mean(-1, keepdims=True)
    var = h.var(-1, keepdims=True)
    return (h - mean) / np.sqrt(var + eps)


class CommandExplorer:
    """The explorer acting in the 6-D teleop Command space, through the mapper a person uses.

    ``act`` returns the 28-D door action (what the env, the sanitizer and the recording see);
    :attr:`command_vector` is the Command it chose, in a person's units (what the recording
    holds and, back in the controller's units, what the agent learns from; entries exceed 1
    where a faster controller goes beyond a person's rates). At each
    takeover the mapper carries over the previous actor's joint targets when that actor drives
    the same kind of mapper (a Command guide), or holds the pose in the observation.

    Args:
        policy: The 6-D :class:`Explorer`.
        controller: Command vectors -> 28-D actions (its own mapper).

    """

    kind: str = "explorer"

    def __init__(self, policy: Explorer, controller: CommandController) -> None:
        if policy.act_dim != COMMAND_DIM:
            raise ValueError(f"a Command explorer needs a {COMMAND_DIM}-D policy: {policy.act_dim}")
        self.policy, self.controller = policy, controller
        self.command_vector: np.ndarray | None = None
        """The Command vector of the last :meth:`act`, in a person's units (None before)."""

    @property
    def version(self) -> int:
        """Weight version in use."""
        return self.policy.version

    def sync(self, slot: WeightSlot) -> bool:
        """Take the newest published weights (at an episode boundary only)."""
        return self.policy.sync(slot)

    def load(self, version: int, actor_state: dict) -> None:
        """Use ``actor_state`` as ``version``."""
        self.policy.load(version, actor_state)

    def take_over(self, obs: np.ndarray, previous: object | None) -> None:
        """Called by the runner when the explorer takes control from ``previous``."""
        self.controller.take_over(obs, previous)

    @property
    def uses_previous(self) -> bool:
        """The policy wants the episode's previous observation (``act(previous=)``)."""
        return self.policy.uses_previous

    def act(
        self, obs: np.ndarray, deterministic: bool = False, previous: np.ndarray | None = None
    ) -> np.ndarray:
        """The 28-D action carrying out the policy's Command for ``obs``."""
        vector = self.policy.act(obs, deterministic=deterministic, previous=previous)
        self.command_vector = self.controller.to_person(vector)
        return self.controller(vector, obs)
