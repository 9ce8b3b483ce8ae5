"""Configs of the ``train`` and ``eval`` subcommands (cheap to import: no torch here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class TrainConfig:
    """Train the explorer headless with a guide jump-starting it (JSRL)."""

    run_dir: Path
    """Run directory: config, metrics, recording, checkpoints, plots."""
    guide: str = "scripted"
    """Guide: scripted, scripted:SKILL, imitation:DATASET, policy:CKPT, FILE.py:CALLABLE."""
    steps: int = 100_000
    """Environment steps to train for."""
    strategy: Literal["curriculum", "random", "none"] = "curriculum"
    """JSRL-Curriculum, JSRL-Random, or plain RL with h = 0."""
    seed: int = 0
    """Seed for the env, networks and curriculum."""
    resume: bool = False
    """Continue the run in run_dir from its last checkpoint."""


@dataclass(frozen=True)
class EvalConfig:
    """Evaluate a checkpoint's explorer alone (h = 0), deterministically."""

    checkpoint: Path
    """Checkpoint file (or a run directory: its latest checkpoint)."""
    episodes: int = 20
    """Number of evaluation episodes."""
    seed: int = 10_000
    """Seed of the first episode."""
    horizon: int = 0
    """Guide steps before the explorer takes over (0 = the explorer alone)."""
    guide: str | None = None
    """Guide for the first ``horizon`` steps (needed when horizon > 0)."""
    json: bool = False
    """Print one JSON object instead of a table."""
