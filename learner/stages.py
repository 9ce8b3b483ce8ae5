"""Where JSRL-Curriculum's stages lie: H1 and the stage horizons, from the guide's own episodes.

H1 is the guide's mean steps to success (:func:`measure_h1`). The stages go from H1 down to 0,
placed where the guide's successful episodes change phase (:func:`phase_horizons`: reach, turn,
unlatch, swing, open) or evenly (:func:`stage_horizons`, the paper's). A stage advances on a
trial success rate relative to the guide's own (:func:`required_success`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from episode.milestones import MILESTONES
from episode.types import EpisodeResult
from learner.config import CurriculumConfig
from sim.errors import UserError


@dataclass(frozen=True)
class GuideStats:
    """The guide's own performance, from guide-only episodes or recordings."""

    episodes: int
    """Guide episodes measured (0: H1 was given, nothing measured)."""
    success_rate: float | None
    """Fraction of them that succeeded (D4RL: the door open for >= 25 steps)."""
    mean_return: float | None
    """Their mean return."""
    h1: int
    """Mean steps to success over the successful ones (rounded up): the curriculum's H1."""


def measure_h1(results: Sequence[EpisodeResult]) -> int:
    """H1 = the guide's mean steps to success over its successful episodes (rounded up).

    Raises:
        UserError: No episode succeeded, so H1 cannot be measured.

    """
    steps = [r.first_success_step for r in results if r.first_success_step is not None]
    if not steps:
        raise UserError(
            f"the guide opened the door in none of its {len(results)} episodes, so H1 (its mean "
            "steps to success) cannot be measured: use a stronger guide, more --guide-episodes, "
            "or give --h1"
        )
    return max(1, math.ceil(float(np.mean(steps))))


def guide_stats(results: Sequence[EpisodeResult], h1: int | None = None) -> GuideStats:
    """Summarize guide-only episodes; ``h1`` overrides the measured H1."""
    if not results:
        raise ValueError("guide_stats() needs at least one episode result")
    return GuideStats(
        episodes=len(results),
        success_rate=float(np.mean([r.success for r in results])),
        mean_return=float(np.mean([r.episode_return for r in results])),
        h1=int(h1) if h1 is not None else measure_h1(results),
    )


def stage_horizons(h1: int, n_stages: int) -> list[int]:
    """``n_stages`` horizons spaced evenly from ``h1`` down to 0 (both included)."""
    if h1 < 1:
        raise ValueError(f"H1 must be >= 1, got {h1}")
    if n_stages < 2:
        raise ValueError(f"a curriculum needs n_stages >= 2, got {n_stages}")
    hs = [round(h1 * (n_stages - 1 - k) / (n_stages - 1)) for k in range(n_stages)]
    return sorted(set(hs), reverse=True)  # a short H1 gives fewer, distinct stages


def phase_horizons(
    results: Sequence[EpisodeResult], h1: int, *, max_gap: int = 20, min_gap: int = 4
) -> list[int]:
    """Stage horizons where the guide's own episodes change phase, from ``h1`` down to 0.

    The candidates are ``h1``, the median step at which the successful episodes first reached
    each milestone (:data:`episode.milestones.MILESTONES`: reach, turn, unlatch, swing, open)
    and 0. Candidates closer than ``min_gap`` merge; gaps wider than ``max_gap`` are split
    evenly, so no stage asks the explorer to learn more than ``max_gap`` steps at once.
    """
    if h1 < 1:
        raise ValueError(f"H1 must be >= 1, got {h1}")
    wins = [r for r in results if r.success and r.milestones]
    marks = {int(h1), 0}
    for i in range(len(MILESTONES)):
        steps = [m for r in wins if (m := r.milestones[i]) is not None]
        if steps and 0 < np.median(steps) < h1:
            marks.add(int(np.median(steps)))
    kept: list[int] = [int(h1)]
    for h in sorted(marks - {int(h1), 0}, reverse=True):
        if kept[-1] - h >= min_gap and h >= min_gap:
            kept.append(h)
    kept.append(0)
    out: list[int] = [kept[0]]
    for h in kept[1:]:
        parts = math.ceil((out[-1] - h) / max_gap)
        top = out[-1]
        out += [round(top - (top - h) * j / parts) for j in range(1, parts + 1)]
    return out


def curriculum_horizons(
    h1: int, settings: CurriculumConfig, guide_results: Sequence[EpisodeResult] = ()
) -> list[int]:
    """The stages' horizons: at the guide's phases when known and asked for, else even."""
    if settings.stages == "phases" and any(r.success and r.milestones for r in guide_results):
        return phase_horizons(guide_results, h1, max_gap=settings.max_gap)
    return stage_horizons(h1, settings.n_stages)


def required_success(settings: CurriculumConfig, guide_success: float | None) -> float:
    """The trial success rate that advances a stage: the guide's rate x a ratio, or a floor."""
    return min(1.0, max(settings.min_success, settings.min_success_ratio * (guide_success or 0.0)))


__all__ = [
    "GuideStats",
    "curriculum_horizons",
    "guide_stats",
    "measure_h1",
    "phase_horizons",
    "required_success",
    "stage_horizons",
]
