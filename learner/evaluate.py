"""Deterministic evaluation: the guide for ``horizon`` steps, then the explorer (h = 0: alone)."""

from __future__ import annotations

from typing import Any

import numpy as np
from tqdm import tqdm

from episode.guide import Guide
from episode.runner import EpisodeRunner
from episode.types import EpisodeResult, Policy
from learner.metrics import EvalSummary, summarize

EVAL_SEED = 10_000
"""Seed of the first evaluation episode; every run and evaluation uses the same seeds."""


class UnusedGuide:
    """Stands in for the guide when no step is ever the guide's (h = 0 throughout)."""

    kind = "none"

    def reset(self, obs: np.ndarray) -> None:
        """Nothing to reset."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Never called with h = 0."""
        raise RuntimeError("the unused guide was asked to act: h must be 0 in this run")


def evaluate(
    env: Any,
    explorer: Policy | None,
    guide: Guide | None,
    *,
    episodes: int,
    horizon: int = 0,
    seed: int = EVAL_SEED,
    progress: bool = False,
    desc: str = "eval",
) -> tuple[EvalSummary, list[EpisodeResult]]:
    """Run ``episodes`` deterministic episodes: the guide for ``horizon`` steps, then the explorer.

    Args:
        env: A door env (not the training one: its state is reset freely).
        explorer: The policy after the guide segment (None: the guide acts throughout).
        guide: The guide for ``t < horizon`` (None when ``horizon`` is 0).
        episodes: Episodes to run (seeds ``seed``, ``seed + 1``, ...).
        horizon: Guide steps before the explorer takes over.
        seed: Seed of the first episode.
        progress: Show a progress bar.
        desc: Progress bar label.

    Returns:
        The summary and every episode's result.

    """
    if guide is None and (horizon > 0 or explorer is None):
        raise ValueError(f"evaluating with horizon={horizon} needs a guide")
    runner = EpisodeRunner(env, guide or UnusedGuide(), explorer, explorer_deterministic=True)
    results = [
        runner.run_episode(seed + i, horizon)
        for i in tqdm(range(episodes), desc=desc, disable=not progress, leave=False)
    ]
    return summarize(results, horizon), results


__all__ = ["EVAL_SEED", "UnusedGuide", "evaluate"]
