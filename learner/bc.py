"""Behaviour cloning: a warm start for the SAC actor, and a standalone imitation policy.

- ``bc_pretrain(agent, data, steps, rng)`` trains the agent's actor to reproduce the actions in
  a replay buffer (maximum likelihood under its tanh-Gaussian, or MSE on ``tanh(mean)``).
- ``train_bc_policy(obs, actions, ...)`` fits a deterministic MLP ``obs -> action in [-1, 1]``
  with the observation normalization stored inside the module (the door's observation mixes
  joint angles, positions in metres and a +-1 flag); the imitation guide uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from learner.replay import ReplayBuffer
from learner.sac import SACAgent

ATANH_EPS = 1e-3
"""Actions are clipped to ``(-1 + eps, 1 - eps)`` before ``atanh`` (saturated demos are common)."""


def squashed_log_prob(
    mean: torch.Tensor, log_std: torch.Tensor, actions: torch.Tensor
) -> torch.Tensor:
    """Log-density of given ``actions`` under the actor's tanh-squashed Gaussian, ``(batch,)``."""
    a = actions.clamp(-1.0 + ATANH_EPS, 1.0 - ATANH_EPS)
    u = torch.atanh(a)
    normal = torch.distributions.Normal(mean, log_std.exp())
    return (normal.log_prob(u) - torch.log1p(-a.square())).sum(-1)


def bc_pretrain(
    agent: SACAgent,
    data: ReplayBuffer,
    steps: int,
    rng: np.random.Generator,
    *,
    loss: Literal["nll", "mse"] = "nll",
    lr: float | None = None,
) -> dict[str, float]:
    """Warm-start the agent's actor by behaviour cloning the actions stored in ``data``.

    Call before the learner thread starts (it changes the actor without the thread's lock).

    Args:
        agent: The SAC agent whose actor is trained (critics and alpha are left alone).
        data: Transitions whose ``actions`` are the targets (e.g. guide recordings).
        steps: Gradient steps of ``agent.config.batch_size`` transitions.
        rng: Sampling generator.
        loss: ``nll`` maximizes the log-likelihood of the actions under the tanh-Gaussian
            (trains the mean and the spread); ``mse`` fits ``tanh(mean)`` to the actions.
        lr: Adam learning rate (default: the agent's actor learning rate).

    Returns:
        ``loss_start`` and ``loss_end`` (the chosen loss, first and last step) and ``mse``
        (of ``tanh(mean)`` on the last batch).
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if len(data) == 0:
        raise ValueError("bc_pretrain needs a non-empty replay buffer")
    if loss not in ("nll", "mse"):
        raise ValueError(f"loss must be 'nll' or 'mse', got {loss!r}")
    optimizer = torch.optim.Adam(agent.actor.parameters(), lr=lr or agent.config.actor_lr)
    first = last = mse = float("nan")
    for step in range(steps):
        batch = data.sample(agent.config.batch_size, rng).to(agent.device)
        mean, log_std = agent.actor(batch.obs)
        err = F.mse_loss(torch.tanh(mean), batch.actions)
        value = err if loss == "mse" else -squashed_log_prob(mean, log_std, batch.actions).mean()
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
        last, mse = float(value.detach()), float(err.detach())
        if step == 0:
            first = last
    return {"loss_start": first, "loss_end": last, "mse": mse}


class BCPolicy(nn.Module):
    """Deterministic policy ``action = tanh(MLP((obs - mean) / std))`` with stored normalization."""

    obs_mean: torch.Tensor
    obs_std: torch.Tensor

    def __init__(self, obs_dim: int, act_dim: int, hidden: int = 256) -> None:
        super().__init__()
        self.obs_dim, self.act_dim, self.hidden = obs_dim, act_dim, hidden
        self.register_buffer("obs_mean", torch.zeros(obs_dim))
        self.register_buffer("obs_std", torch.ones(obs_dim))
        self.net = nn.Sequential(
            nn.Linear(obs_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, act_dim),
        )
        self.train_mse = float("nan")
        """Mean squared action error on the training data after fitting."""

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Actions in [-1, 1] for a batch (or one) of raw observations."""
        return torch.tanh(self.net((obs - self.obs_mean) / self.obs_std))

    @torch.no_grad()
    def act(self, obs: np.ndarray) -> np.ndarray:
        """Numpy in, float32 numpy out: ``(obs_dim,) -> (act_dim,)`` (or batched)."""
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32))
        return self(x).numpy()

    def export(self) -> dict:
        """Everything needed to rebuild the policy (``BCPolicy.from_export``)."""
        return {
            "obs_dim": self.obs_dim,
            "act_dim": self.act_dim,
            "hidden": self.hidden,
            "state": {k: v.clone() for k, v in self.state_dict().items()},
            "train_mse": self.train_mse,
        }

    @classmethod
    def from_export(cls, exported: dict) -> BCPolicy:
        """Rebuild a policy from ``export()``'s dict."""
        policy = cls(exported["obs_dim"], exported["act_dim"], exported["hidden"])
        policy.load_state_dict(exported["state"])
        policy.train_mse = float(exported.get("train_mse", float("nan")))
        return policy.eval()


def _check_data(obs: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    obs = np.asarray(obs, dtype=np.float32)
    actions = np.asarray(actions, dtype=np.float32)
    if obs.ndim != 2 or actions.ndim != 2 or len(obs) != len(actions) or len(obs) == 0:
        raise ValueError(
            f"need obs (n, obs_dim) and actions (n, act_dim) with n > 0, got {obs.shape} and "
            f"{actions.shape}"
        )
    if not (np.isfinite(obs).all() and np.isfinite(actions).all()):
        raise ValueError("obs and actions must be finite (found NaN or inf)")
    return obs, np.clip(actions, -1.0, 1.0)


def train_bc_policy(
    obs: np.ndarray,
    actions: np.ndarray,
    *,
    hidden: int = 256,
    steps: int = 3000,
    batch_size: int = 256,
    lr: float = 1e-3,
    weight_decay: float = 1e-5,
    obs_noise: float = 0.0,
    seed: int = 0,
    progress: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> BCPolicy:
    """Fit a deterministic imitation policy to ``(obs, actions)`` pairs by MSE.

    Args:
        obs: Observations ``(n, obs_dim)``.
        actions: Actions ``(n, act_dim)``; clipped to [-1, 1].
        hidden: Width of the two hidden layers.
        steps: Adam steps.
        batch_size: Pairs per step (sampled with replacement).
        lr: Adam learning rate (cosine-decayed to 0 over ``steps``).
        weight_decay: AdamW weight decay.
        obs_noise: Gaussian noise added to each sampled observation, in units of each
            entry's standard deviation over the data (of 1.0 for an entry the data never
            varies, so the policy learns not to lean on it); 0: none. With a few
            demonstrations the policy otherwise fits the exact states it saw and is lost a
            little away from them.
        seed: Seed for the init, the sampling and the noise.
        progress: Show a tqdm progress bar.
        should_stop: Checked before each step: True ends the fit early (a thread that must
            stop, e.g. at exit, leaves torch within one step).

    Returns:
        The fitted ``BCPolicy`` in eval mode, with ``train_mse`` set.
    """
    obs, actions = _check_data(obs, actions)
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps}, {batch_size}")
    if not (np.isfinite(obs_noise) and obs_noise >= 0):
        raise ValueError(f"obs_noise must be a number >= 0, got {obs_noise!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        policy = BCPolicy(obs.shape[1], actions.shape[1], hidden)
    std = obs.std(axis=0)
    policy.obs_mean.copy_(torch.from_numpy(obs.mean(axis=0)))
    policy.obs_std.copy_(torch.from_numpy(np.where(std > 1e-6, std, 1.0).astype(np.float32)))
    optimizer = torch.optim.AdamW(policy.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    obs_t, act_t = torch.from_numpy(obs), torch.from_numpy(actions)
    rng = np.random.default_rng(seed)
    noise = torch.Generator().manual_seed(seed)
    noise_scale = obs_noise * policy.obs_std  # an entry constant in the demos gets 1.0 units
    policy.train()
    for _ in tqdm(range(steps), desc="behaviour cloning", disable=not progress):
        if should_stop is not None and should_stop():
            break
        idx = torch.from_numpy(rng.integers(0, len(obs), size=batch_size))
        x = obs_t[idx]
        if obs_noise > 0:
            x = x + noise_scale * torch.randn(x.shape, generator=noise)
        loss = F.mse_loss(policy(x), act_t[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    policy.eval()
    with torch.no_grad():
        policy.train_mse = float(F.mse_loss(policy(obs_t), act_t))
    return policy
