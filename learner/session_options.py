"""How a session runs (:class:`SessionOptions`) and how far a run has got (:class:`Counters`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from learner.run_dir import TRAIN_DATASET


@dataclass(frozen=True)
class SessionOptions:
    """How a session runs (the settings that are not the run's: see ``TrainConfig``)."""

    learning: bool = True
    """Train the explorer in the learner thread (off: ``collect``, the app's ``--no-learner``)."""
    paced: bool = True
    """Keep the update-to-data ratio exact (``train``); False: the learner runs free (the app)."""
    dataset: Path = TRAIN_DATASET
    """Where episodes are recorded, relative to the run directory (or absolute)."""
    record: bool = True
    """Record every episode (and the guide-only ones)."""
    guide_only: bool = False
    """No explorer at all: the guide acts every step (``collect``)."""
    run_files: bool = True
    """Write ``config.json``, metrics and checkpoints to the run directory (off: ``collect``)."""
    strict_run_dir: bool = True
    """``train``'s run-directory rules (see :func:`learner.run_dir.prepare_run_dir`)."""
    plots: bool = True
    """Draw the PNG plots at exit."""
    first_seed: int | None = None
    """Episode ``k`` uses seed ``first_seed + k`` (``collect``); None: the run's seed scheme."""
    append: bool = True
    """Append to an existing dataset (``collect`` refuses unless ``--append``)."""
    author: str | None = None
    """Author written to the dataset's metadata."""


@dataclass
class Counters:
    """Progress of a run, saved in every checkpoint."""

    env_steps: int = 0
    """Env steps of the run's episodes (guide, explorer and human steps)."""
    episodes: int = 0
    """Episodes completed (episode k uses the k-th seed)."""
    updates: int = 0
    """Learner updates before the current session (resumed runs)."""
    next_eval: int = 0
    """Env steps at which the next evaluation is due."""
    next_checkpoint: int = 0
    """Env steps at which the next periodic checkpoint is due."""
    guide_steps: int = 0
    """Env steps of the guide-only episodes (not counted in ``env_steps``)."""
    wall_s: float = 0.0
    """Wall time spent in earlier sessions."""
    cpu_s: float = 0.0
    """CPU time of the process (every thread) in earlier sessions."""

    @classmethod
    def from_checkpoint(cls, saved: dict[str, Any] | None) -> Counters:
        """The counters a checkpoint saved (zeros for a new run).

        A checkpoint of the app before the one session kept its counts under ``"app"``.
        """
        if not saved:
            return cls()
        if "counters" in saved:
            return cls(**saved["counters"])
        app = saved.get("app") or {}
        return cls(env_steps=int(app.get("env_steps", 0)), episodes=int(app.get("episodes", 0)))


__all__ = ["Counters", "SessionOptions"]
