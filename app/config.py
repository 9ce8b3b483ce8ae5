"""Configs of the ``app`` and ``replay`` subcommands (cheap to import: no pygame here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass(frozen=True)
class AppConfig:
    """Open the window: drive the hand for h steps, then the explorer takes over."""

    guide: str = "human"
    """Guide: human, scripted, imitation:DATASET, policy:CKPT, FILE.py:CALLABLE."""
    run_dir: Path = Path("runs/app")
    """Run directory: recordings, checkpoints and plots of this session (resumed if present)."""


@dataclass(frozen=True)
class ReplayConfig:
    """Play recorded episodes with the same view and timeline."""

    dataset: tyro.conf.Positional[Path]
    """Dataset directory."""
    episode: int = 0
    """Episode to start from."""
