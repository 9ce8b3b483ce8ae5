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

from learner.sac import LOG_STD_MAX, LOG_STD_MIN, SACConfig, make_actor
from teleop.command_space import COMMAND_DIM, CommandController

if TYPE_CHECKING:
    from learner.thread import WeightSlot


class Explorer:
    """A CPU copy of the actor that returns actions in [-1, 1] for single observations."""

    kind: str = "explorer"

    def __init__(self, obs_dim: int, act_dim: int, config: SACConfig, seed: int = 0) -> None:
        self.obs_dim, self.act_dim = obs_dim, act_dim
        # Same seeded init as SACAgent(seed): version 0 is the learner's initial actor.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.actor = make_actor(obs_dim, act_dim, config)
        self.actor.requires_grad_(False).eval()
        self.version = 0
        """Weight version in use (0 = the untrained initial weights)."""
        self._rng = np.random.default_rng(seed)
        self._weights: list[tuple[np.ndarray, np.ndarray]] = []
        self._cache_weights()

    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """Action for ``obs``: a draw from the policy, or ``tanh(mean)`` if deterministic.

        Args:
            obs: One observation ``(obs_dim,)`` (or a batch ``(n, obs_dim)``).
            deterministic: Return the policy's mode instead of a sample.

        Returns:
            float32 action(s) in [-1, 1], shape ``(act_dim,)`` (or ``(n, act_dim)``).
        """
        x = np.asarray(obs, dtype=np.float32)
        if x.shape[-1:] != (self.obs_dim,) or x.ndim > 2:
            raise ValueError(f"expected obs of shape ({self.obs_dim},), got {x.shape}")
        (w1, b1), (w2, b2), (w3, b3) = self._weights
        h = x @ w1
        h += b1
        np.maximum(h, 0.0, out=h)
        h2 = h @ w2
        h2 += b2
        np.maximum(h2, 0.0, out=h2)
        out = h2 @ w3
        out += b3
        mean, raw = out[..., : self.act_dim], out[..., self.act_dim :]
        if deterministic:
            return np.tanh(mean)
        half_span = 0.5 * (LOG_STD_MAX - LOG_STD_MIN)
        std = np.exp(LOG_STD_MIN + half_span + half_span * np.tanh(raw))
        noise = self._rng.standard_normal(mean.shape, dtype=np.float32)
        return np.tanh(mean + std * noise)

    def load(self, version: int, actor_state: dict) -> None:
        """Use the weights ``actor_state`` (an ``SACAgent.actor_state_dict()``) as ``version``."""
        self.actor.load_state_dict(actor_state)
        self._cache_weights()
        self.version = int(version)

    def sync(self, slot: WeightSlot) -> bool:
        """Take the newest published weights if newer than ours; True if they changed.

        Call at an episode boundary only.
        """
        version, state = slot.latest()
        if state is None or version <= self.version:
            return False
        self.load(version, state)
        return True

    def _cache_weights(self) -> None:
        """float32 numpy copies of the actor's layers, as ``(W^T, b)`` for ``x @ W^T + b``."""
        layers = [self.actor.trunk[0], self.actor.trunk[2], self.actor.head]
        assert all(isinstance(layer, torch.nn.Linear) for layer in layers)
        self._weights = [
            (
                np.ascontiguousarray(layer.weight.detach().numpy().T, dtype=np.float32),
                layer.bias.detach().numpy().astype(np.float32),
            )
            for layer in layers
            if isinstance(layer, torch.nn.Linear)
        ]


class CommandExplorer:
    """The explorer acting in the 6-D teleop Command space, through the mapper a person uses.

    ``act`` returns the 28-D door action (what the env, the sanitizer and the recording see);
    :attr:`command_vector` is the Command it chose (what the agent learns from). At each
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
        """The Command vector of the last :meth:`act` (None before the first)."""

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

    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """The 28-D action carrying out the policy's Command for ``obs``."""
        self.command_vector = self.policy.act(obs, deterministic=deterministic)
        return self.controller(self.command_vector, obs)
