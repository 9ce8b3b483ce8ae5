"""Fitting an imitation guide to (obs, action) pairs, and measuring how well it does."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from episode.guide import GuideError
from guides.imitation.guide import (
    EVAL_SEED,
    GuideEvaluation,
    ImitationConfig,
    ImitationGuide,
    ImitationInfo,
)
from sim.door import ACT_DIM, EPISODE_STEPS, OBS_DIM, make_door
from teleop.command_space import COMMAND_DIM


def train_imitation(
    obs: np.ndarray,
    actions: np.ndarray,
    config: ImitationConfig | None = None,
    *,
    source: str = "memory",
    episodes: int = 0,
    notes: tuple[str, ...] = (),
    progress: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> ImitationGuide:
    """Fit an imitation guide to ``(obs, actions)`` pairs (no evaluation, no cache).

    ``should_stop`` is checked before each training step; True ends the fit early.

    Raises:
        GuideError: No pairs, or pairs of the wrong shape.

    """
    from learner.bc import train_bc_policy

    cfg = config or ImitationConfig()
    obs = np.asarray(obs, dtype=np.float32)
    actions = np.asarray(actions, dtype=np.float32)
    if len(obs) == 0:
        raise GuideError(
            f"imitation guide: {source} has no {'/'.join(cfg.actors)} steps to imitate"
        )
    if obs.shape[1:] != (OBS_DIM,) or actions.shape[1:] not in ((ACT_DIM,), (COMMAND_DIM,)):
        raise GuideError(
            f"imitation guide: {source} has obs {obs.shape[1:]} and actions "
            f"{actions.shape[1:]}, expected ({OBS_DIM},) and ({ACT_DIM},) or Commands "
            f"({COMMAND_DIM},): another task?"
        )
    t0 = time.perf_counter()
    scaling = action_scaling(actions, cfg.action_scaling)
    targets = np.clip((actions - scaling[0]) / scaling[1], -1.0, 1.0)
    with _torch_threads(cfg.torch_threads):
        policy = train_bc_policy(
            obs,
            targets,
            hidden=cfg.hidden,
            steps=cfg.steps,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            obs_noise=cfg.obs_noise,
            seed=cfg.seed,
            progress=progress,
            should_stop=should_stop,
        )
    info = ImitationInfo(
        source=source,
        samples=len(obs),
        episodes=episodes,
        train_mse=float(policy.train_mse),
        train_seconds=time.perf_counter() - t0,
        notes=notes,
    )
    return ImitationGuide(policy, info, scaling)


def action_scaling(actions: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension ``(mean, k * std)`` of ``actions`` (identity when ``k`` is 0).

    A dimension that barely varies keeps a scale of at least 0.05, so its fit stays smooth.
    """
    actions = np.asarray(actions, dtype=np.float32)
    if k == 0:
        dim = actions.shape[1]
        return np.zeros(dim, np.float32), np.ones(dim, np.float32)
    return actions.mean(axis=0), np.maximum(k * actions.std(axis=0), 0.05).astype(np.float32)


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Use ``n`` torch threads inside the block (the setting is process-wide)."""
    import torch

    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def evaluate_guide(guide: Any, episodes: int, seed: int = EVAL_SEED) -> GuideEvaluation:
    """Run ``guide`` alone for ``episodes`` seeded episodes on a private door env."""
    from episode.runner import EpisodeRunner

    env = make_door()
    try:
        runner = EpisodeRunner(env, guide, None)
        results = [runner.run_episode(seed + i, EPISODE_STEPS) for i in range(episodes)]
    finally:
        env.close()
    firsts = [r.first_success_step for r in results if r.first_success_step is not None]
    return GuideEvaluation(
        episodes=len(results),
        successes=sum(r.success for r in results),
        seed=seed,
        mean_first_success_step=float(np.mean(firsts)) if firsts else None,
    )
