"""JSRL curricula: how long the guide acts (``h``) in each episode.

* :class:`JSRLCurriculum` (JSRL-Curriculum, Uchendu et al. 2022): ``n`` stages with horizons
  from ``H1`` (the guide's mean steps to success) down to 0. A stage advances when the moving
  average of the combined policy's performance at that stage is within a tolerance of the
  best earlier average, **and** the combined policy really succeeds at it: the fraction of the
  window's episodes that end with the door open reaches a minimum, relative to the guide's own
  rate. (Open *at the end*: at stage 0 the guide often opens the door before the handover and
  an untrained explorer then shuts it; that is no success of the combined policy.) The paper's
  rule alone also holds when every episode fails (all returns -200 equal the best), which on
  this door shrinks ``h`` to 0 with an explorer that never opened the door once.
* :class:`JSRLRandom` (JSRL-Random): ``h`` drawn uniformly from ``[0, H1]`` each episode.
* :class:`NoGuide`: ``h = 0`` (plain RL). :class:`FixedHorizon`: a fixed ``h`` (demos).

Every curriculum is driven by :class:`~episode.runner.EpisodeResult` s only, so it works the
same when the guide is a person. Its one interface to the rest of the system (the trainer,
every env or worker, the app's HUD) is :meth:`Curriculum.horizon` for the next episode and
:meth:`Curriculum.status` for display and logs (with the reason a stage did or did not
advance); :meth:`Curriculum.state_dict` goes into checkpoints.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from episode.types import EpisodeResult
from learner.config import CurriculumConfig
from sim.errors import UserError

Metric = Literal["return", "success"]


@dataclass(frozen=True)
class CurriculumStatus:
    """What a curriculum is doing now, for the HUD, the progress bar and the metrics."""

    strategy: str
    """``curriculum``, ``random``, ``none`` or ``fixed``."""
    h: int
    """Guide horizon of the next episode."""
    stage: int
    """Current stage (0-based; always 0 for strategies without stages)."""
    n_stages: int
    """Number of stages (1 for strategies without stages)."""
    H1: int
    """The guide's horizon at stage 0 (its mean steps to success)."""
    reason: str
    """Why the last episode did or did not advance the stage."""


class Curriculum(Protocol):
    """Chooses ``h`` for the next episode from the results of the past ones."""

    strategy: str

    def horizon(self) -> int:
        """Guide horizon for the next episode (the same value until :meth:`update`)."""
        ...

    def update(self, result: EpisodeResult) -> None:
        """Account for one finished episode."""
        ...

    def status(self) -> CurriculumStatus:
        """Current horizon, stage and the reason for the last decision."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly here (plain Python values)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict` output."""
        ...


@dataclass(frozen=True)
class GuideStats:
    """The guide's own performance, from guide-only episodes or recordings."""

    episodes: int
    """Guide episodes measured (0: H1 was given, nothing measured)."""
    success_rate: float | None
    """Fraction of them that ended with the door open (the curriculum's notion of success)."""
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
        success_rate=float(np.mean([r.open_at_end for r in results])),
        mean_return=float(np.mean([r.episode_return for r in results])),
        h1=int(h1) if h1 is not None else measure_h1(results),
    )


def stage_horizons(h1: int, n_stages: int) -> list[int]:
    """``n_stages`` horizons spaced evenly from ``h1`` down to 0 (both included)."""
    if h1 < 1:
        raise ValueError(f"H1 must be >= 1, got {h1}")
    if n_stages < 2:
        raise ValueError(f"a curriculum needs n_stages >= 2, got {n_stages}")
    return [round(h1 * (n_stages - 1 - k) / (n_stages - 1)) for k in range(n_stages)]


class JSRLCurriculum:
    """JSRL-Curriculum with a real-success gate.

    Args:
        H1: Horizon of stage 0 (the guide's mean steps to success).
        n_stages: Stages from ``H1`` down to 0, both included.
        window: Episodes in the moving average; a stage needs this many episodes of its own.
        tolerance: Advance when the average is within this fraction of the best earlier one.
        metric: Performance compared with the best earlier average: ``return`` or ``success``.
        guide_success: The guide's own rate of episodes ending with the door open (None if
            unknown, e.g. a person).
        guide_return: The guide's own mean return: the best "earlier" average of stage 0
            (None: stage 0 has no earlier average to match).
        min_success_ratio: The window's rate of episodes ending with the door open must reach
            this times ``guide_success``.
        min_success: ... and at least this (so an all-failing window never advances).

    """

    strategy = "curriculum"

    def __init__(
        self,
        H1: int,
        n_stages: int = 10,
        window: int = 5,
        tolerance: float = 0.05,
        *,
        metric: Metric = "return",
        guide_success: float | None = None,
        guide_return: float | None = None,
        min_success_ratio: float = 1.0,
        min_success: float = 0.2,
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        if not 0.0 <= tolerance < 1.0:
            raise ValueError(f"tolerance must be in [0, 1), got {tolerance}")
        if metric not in ("return", "success"):
            raise ValueError(f"metric must be 'return' or 'success', got {metric!r}")
        if not 0.0 < min_success <= 1.0:
            raise ValueError(f"min_success must be in (0, 1], got {min_success}")
        self.H1 = int(H1)
        self.horizons = stage_horizons(self.H1, n_stages)
        self.window, self.tolerance, self.metric = window, tolerance, metric
        self.guide_success, self.min_success_ratio = guide_success, min_success_ratio
        self.min_success = min_success
        self.required_success = min(
            1.0, max(min_success, min_success_ratio * (guide_success or 0.0))
        )
        self.stage = 0
        self.best: float | None = None
        if guide_return is not None or guide_success is not None:
            self.best = guide_return if metric == "return" else guide_success
        self.episodes = 0
        self.advances: list[tuple[int, int]] = []
        """(episodes seen, new stage) at each advance."""
        self._recent: deque[tuple[bool, float]] = deque(maxlen=window)
        self._reason = f"stage 0 (h={self.horizons[0]}): 0/{window} episodes"

    @property
    def n_stages(self) -> int:
        """Number of stages."""
        return len(self.horizons)

    @property
    def final(self) -> bool:
        """At the last stage (h = 0): nothing left to advance."""
        return self.stage == self.n_stages - 1

    def horizon(self) -> int:
        """The current stage's horizon."""
        return self.horizons[self.stage]

    def update(self, result: EpisodeResult) -> None:
        """Add an episode at the current stage; advance when the rule and the gate both hold."""
        self.episodes += 1
        h = self.horizon()
        if result.h != h:
            self._reason = f"episode with h={result.h} not counted (stage {self.stage} has h={h})"
            return
        if result.n_human > 0:
            self._reason = f"episode with a human intervention not counted (stage {self.stage})"
            return
        ok = bool(result.open_at_end)
        perf = float(ok) if self.metric == "success" else result.episode_return
        self._recent.append((ok, perf))
        self._reason = self._decide()

    def _decide(self) -> str:
        k, h, n = self.stage, self.horizon(), len(self._recent)
        succ = float(np.mean([s for s, _ in self._recent]))
        perf = float(np.mean([p for _, p in self._recent]))
        where = f"stage {k} (h={h}): open at end {succ:.0%}, {self.metric} {perf:.3g} over {n}"
        if self.final:
            return f"final {where}: the explorer acts alone"
        if n < self.window:
            return f"{where}/{self.window} episodes: window not full yet"
        if succ + 1e-9 < self.required_success:
            return f"holds at {where}: below the {self.required_success:.0%} required"
        if self.best is not None and perf < self.best - self.tolerance * abs(self.best):
            return (
                f"holds at {where}: {self.metric} not within {self.tolerance:.0%} "
                f"of the best earlier {self.best:.3g}"
            )
        self.best = perf if self.best is None else max(self.best, perf)
        self.stage += 1
        self._recent.clear()
        self.advances.append((self.episodes, self.stage))
        return f"advanced to stage {self.stage} (h={self.horizon()}) after {where}"

    def status(self) -> CurriculumStatus:
        """Current horizon and stage, with the reason for the last decision."""
        return CurriculumStatus(
            self.strategy, self.horizon(), self.stage, self.n_stages, self.H1, self._reason
        )

    def state_dict(self) -> dict[str, Any]:
        """Stage, window, best average, counters (plain Python values)."""
        return {
            "strategy": self.strategy,
            "H1": self.H1,
            "horizons": list(self.horizons),
            "stage": self.stage,
            "best": self.best,
            "episodes": self.episodes,
            "advances": [list(a) for a in self.advances],
            "recent": [[s, p] for s, p in self._recent],
            "reason": self._reason,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict` output of the same curriculum settings."""
        _check_same(state, strategy=self.strategy, H1=self.H1, horizons=list(self.horizons))
        self.stage, self.best = int(state["stage"]), state["best"]
        self.episodes = int(state["episodes"])
        self.advances = [(int(e), int(s)) for e, s in state["advances"]]
        self._recent = deque(((bool(s), float(p)) for s, p in state["recent"]), self.window)
        self._reason = str(state["reason"])


class JSRLRandom:
    """JSRL-Random: ``h`` drawn uniformly from ``[0, H1]`` (integers) for each episode.

    Args:
        H1: Largest horizon.
        rng: Source of the draws (its state is saved in :meth:`state_dict`).

    """

    strategy = "random"

    def __init__(self, H1: int, rng: np.random.Generator) -> None:
        if H1 < 0:
            raise ValueError(f"H1 must be >= 0, got {H1}")
        self.H1, self.rng = int(H1), rng
        self._h = self._draw()

    def _draw(self) -> int:
        return int(self.rng.integers(0, self.H1 + 1))

    def horizon(self) -> int:
        """The horizon drawn for the next episode."""
        return self._h

    def update(self, result: EpisodeResult) -> None:
        """Draw the next episode's horizon."""
        self._h = self._draw()

    def status(self) -> CurriculumStatus:
        """The current draw; random has no stages."""
        return CurriculumStatus(
            self.strategy, self._h, 0, 1, self.H1, f"h drawn uniformly from [0, {self.H1}]"
        )

    def state_dict(self) -> dict[str, Any]:
        """The current draw and the generator's state."""
        return {
            "strategy": self.strategy,
            "H1": self.H1,
            "h": self._h,
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue the same sequence of draws."""
        _check_same(state, strategy=self.strategy, H1=self.H1)
        self._h = int(state["h"])
        self.rng.bit_generator.state = state["rng"]


class FixedHorizon:
    """The same ``h`` every episode (demos, evaluation of a combined policy)."""

    strategy = "fixed"

    def __init__(self, h: int) -> None:
        if h < 0:
            raise ValueError(f"h must be >= 0, got {h}")
        self.h = int(h)

    def horizon(self) -> int:
        """The fixed horizon."""
        return self.h

    def update(self, result: EpisodeResult) -> None:
        """Nothing to learn from results."""

    def status(self) -> CurriculumStatus:
        """The fixed horizon (H1 reported as ``h``)."""
        return CurriculumStatus(self.strategy, self.h, 0, 1, self.h, f"h fixed at {self.h}")

    def state_dict(self) -> dict[str, Any]:
        """The horizon."""
        return {"strategy": self.strategy, "h": self.h}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Check it is the same horizon."""
        _check_same(state, strategy=self.strategy, h=self.h)


class NoGuide(FixedHorizon):
    """Plain RL: ``h = 0``, the explorer acts alone from the first step."""

    strategy = "none"

    def __init__(self) -> None:
        super().__init__(0)

    def status(self) -> CurriculumStatus:
        """Always h = 0."""
        return CurriculumStatus(self.strategy, 0, 0, 1, 0, "no guide segment: h = 0")


def make_curriculum(
    strategy: str,
    guide: GuideStats | None,
    settings: CurriculumConfig | None = None,
    *,
    rng: np.random.Generator | None = None,
) -> Curriculum:
    """Build the curriculum a strategy names.

    Args:
        strategy: ``curriculum``, ``random``, ``none`` or ``fixed``.
        guide: The guide's measured stats (needed by ``curriculum`` and ``random``).
        settings: Stage count, window, tolerance, gate; None for the defaults.
        rng: Generator for ``random`` (a fresh seeded one if None).

    """
    s = settings if settings is not None else CurriculumConfig()
    if strategy == "none":
        return NoGuide()
    if strategy == "fixed":
        return FixedHorizon(s.fixed_h)
    if guide is None:
        raise ValueError(f"strategy {strategy!r} needs the guide's measured stats (H1)")
    if strategy == "random":
        return JSRLRandom(guide.h1, rng if rng is not None else np.random.default_rng(0))
    if strategy == "curriculum":
        return JSRLCurriculum(
            guide.h1,
            s.n_stages,
            s.window,
            s.tolerance,
            metric=s.metric,
            guide_success=guide.success_rate,
            guide_return=guide.mean_return,
            min_success_ratio=s.min_success_ratio,
            min_success=s.min_success,
        )
    raise ValueError(f"unknown strategy {strategy!r}: use curriculum, random, none or fixed")


def _check_same(state: dict[str, Any], **expected: Any) -> None:
    for key, value in expected.items():
        if state.get(key) != value:
            raise ValueError(
                f"curriculum state has {key}={state.get(key)!r}, this curriculum {value!r}"
            )


__all__ = [
    "Curriculum",
    "CurriculumStatus",
    "FixedHorizon",
    "GuideStats",
    "JSRLCurriculum",
    "JSRLRandom",
    "NoGuide",
    "guide_stats",
    "make_curriculum",
    "measure_h1",
    "stage_horizons",
]
