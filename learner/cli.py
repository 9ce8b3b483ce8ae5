"""``train`` and ``eval``: what ``launch.py`` runs for those subcommands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

import sim
from episode.guide import Guide
from learner.config import EvalConfig, TrainConfig
from learner.metrics import describe_failures
from learner.run_dir import MAX_EPISODES, MAX_SEED, check_workers
from sim.errors import UserError


def run_train(cfg: TrainConfig, build_guide: Callable[[gym.Env], Guide] | None = None) -> int:
    """Train the explorer headless (see :mod:`learner.trainer`); 0 when done, 130 on Ctrl-C."""
    from learner.trainer import run_train as train

    return train(cfg, build_guide)


def run_eval(cfg: EvalConfig, build_guide: Callable[[gym.Env], Guide] | None = None) -> int:
    """Evaluate a checkpoint's explorer (alone, or after ``--horizon`` guide steps).

    Prints success rate, normalized score and median steps to open, or one JSON object with
    ``--json``. Returns 0.

    Args:
        cfg: The ``eval`` config.
        build_guide: Builds the ``--guide`` guide for an env (``launch.py`` passes it: guides
            are built at the edge); needed when ``cfg.guide`` is set.

    Raises:
        UserError: Bad numbers, a missing or foreign checkpoint, another obs/action shape, or
            ``--horizon`` without ``--guide``.

    """
    from learner.checkpoint import load_checkpoint, load_explorer
    from learner.evaluate import evaluate

    _check_eval_args(cfg)
    ckpt = load_checkpoint(cfg.checkpoint, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)
    explorer = load_explorer(cfg.checkpoint, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)
    env = sim.make_door()
    guide = None
    if cfg.guide is not None:
        if build_guide is None:
            raise UserError(f"--guide {cfg.guide} needs a guide builder: run it as launch.py eval")
        guide = build_guide(env)
    progress = cfg.progress and not cfg.json
    if cfg.workers > 1:  # Ray rollout workers (``import ray`` only here)
        from learner.metrics import summarize
        from learner.ray_runs import evaluate_on_workers

        summary = summarize(evaluate_on_workers(cfg, build_guide, progress), cfg.horizon)
    else:
        summary, _ = evaluate(
            env,
            explorer,
            guide,
            episodes=cfg.episodes,
            horizon=cfg.horizon,
            seed=cfg.seed,
            progress=progress,
        )
    counters = ckpt.get("counters", {})
    report: dict[str, Any] = {
        "checkpoint": str(cfg.checkpoint),
        "env_steps": counters.get("env_steps"),
        "guide": cfg.guide,
        "seed": cfg.seed,
        **summary.as_dict(),
    }
    if cfg.json:
        print(json.dumps(report))
    else:
        print(_table(report))
    return 0


def _check_eval_args(cfg: EvalConfig) -> None:
    if not 1 <= cfg.episodes <= MAX_EPISODES:
        raise UserError(f"--episodes must be in [1, {MAX_EPISODES}], got {cfg.episodes}")
    if not 0 <= cfg.seed <= MAX_SEED:
        raise UserError(f"--seed must be in [0, {MAX_SEED}], got {cfg.seed}")
    if not 0 <= cfg.horizon <= sim.EPISODE_STEPS:
        raise UserError(f"--horizon must be in [0, {sim.EPISODE_STEPS}], got {cfg.horizon}")
    if cfg.horizon > 0 and cfg.guide is None:
        raise UserError(f"--horizon {cfg.horizon} needs --guide G to act for those steps")
    check_workers(cfg.workers, cfg.ray_address)
    if not Path(cfg.checkpoint).exists():
        raise UserError(f"checkpoint {cfg.checkpoint} does not exist")


def _table(r: dict[str, Any]) -> str:
    who = (
        "explorer alone (h = 0)"
        if r["horizon"] == 0
        else f"{r['guide']} for {r['horizon']} steps, then the explorer"
    )
    median = r["median_steps_to_open"]
    rows = [
        ("checkpoint", f"{r['checkpoint']} (after {r['env_steps']} env steps)"),
        ("policy", f"{who}, deterministic"),
        ("episodes", f"{r['episodes']} (seeds {r['seed']}..{r['seed'] + r['episodes'] - 1})"),
        ("success rate", f"{r['success_rate']:.1%}"),
        ("normalized score", f"{r['normalized_score']:.1f}"),
        ("median steps to open", "never opened" if median is None else f"{median:.0f}"),
        ("failures", describe_failures(r["failed_at"])),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
