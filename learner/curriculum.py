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

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from episode.types import EpisodeResult
from learner.config import CurriculumConfig
from learner.stages import GuideStats, curriculum_horizons, required_success

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


class JSRLCurriculum:
    """JSRL-Curriculum whose stages are decided on deterministic trials from the handover.

    Each stage runs ``window`` training episodes (the explorer samples its actions), then a
    *trial*: ``trial_episodes`` episodes at the same ``h`` with the explorer acting with its
    mode (:attr:`trial_due` tells the caller to run them so). The stage advances when the
    trial's success rate (D4RL's rule) reaches ``required_success``; otherwise training goes
    on and another trial follows ``window`` episodes later. The paper's moving-average rule is
    not used: on this door it also holds when every episode fails. An episode that does not
    fit the moment it ends (another stage's ``h``, a training episode while a trial runs, a
    trial episode after its trial: Ray workers play several at once) is not counted.

    Args:
        horizons: The stages' horizons, decreasing, the last 0 (:func:`phase_horizons`).
        window: Training episodes at a stage before each trial.
        trial_episodes: Deterministic episodes in a trial.
        required_success: Trial success rate that advances the stage.
        alone_every: Every this many episodes, one training episode has the explorer acting
            alone from the start (h = 0; not counted for the stage); 0 = never.

    """

    strategy = "curriculum"

    def __init__(
        self,
        horizons: Sequence[int],
        window: int = 5,
        trial_episodes: int = 10,
        required_success: float = 0.5,
        *,
        alone_every: int = 0,
    ) -> None:
        hs = [int(h) for h in horizons]
        if len(hs) < 2 or hs[-1] != 0 or any(a <= b for a, b in itertools.pairwise(hs)):
            raise ValueError(f"horizons must decrease strictly to 0, got {hs}")
        if window < 1 or trial_episodes < 1:
            raise ValueError(f"window and trial_episodes must be >= 1: {window}, {trial_episodes}")
        if not 0.0 < required_success <= 1.0:
            raise ValueError(f"required_success must be in (0, 1], got {required_success}")
        self.horizons, self.H1 = hs, hs[0]
        self.window, self.trial_episodes = window, trial_episodes
        self.required_success = float(required_success)
        if alone_every < 0 or alone_every == 1:
            raise ValueError(f"alone_every must be 0 or >= 2, got {alone_every}")
        self.alone_every = int(alone_every)
        self.stage = 0
        self.episodes = 0
        self.advances: list[tuple[int, int]] = []
        """(episodes seen, new stage) at each advance."""
        self._trained = 0
        self._trial: list[bool] | None = None
        self._reason = f"stage 0 (h={hs[0]}): training, trial after {window} episodes"

    @property
    def n_stages(self) -> int:
        """Number of stages."""
        return len(self.horizons)

    @property
    def final(self) -> bool:
        """At the last stage (h = 0): nothing left to advance."""
        return self.stage == self.n_stages - 1

    @property
    def trial_due(self) -> bool:
        """The next episode belongs to a trial: run it with the explorer's mode."""
        return self._trial is not None

    def horizon(self) -> int:
        """The next episode's horizon: the stage's, or 0 for an explorer-alone episode."""
        return 0 if self._alone_due() else self.horizons[self.stage]

    def _alone_due(self) -> bool:
        k = self.alone_every
        return k > 0 and self._trial is None and not self.final and self.episodes % k == k - 1

    def update(self, result: EpisodeResult) -> None:
        """Count a training episode or a trial episode; decide at the end of a trial."""
        alone = self._alone_due()
        self.episodes += 1
        h = self.horizons[self.stage]
        if alone and result.h == 0:
            self._reason = f"stage {self.stage} (h={h}): an explorer-alone episode (h=0)"
        elif result.h != h:
            self._reason = f"episode with h={result.h} not counted (stage {self.stage} has h={h})"
        elif result.n_human > 0:
            self._reason = f"episode with a human intervention not counted (stage {self.stage})"
        elif self._trial is not None and result.deterministic:
            self._trial.append(bool(result.success))
            self._reason = self._trial_step()
        elif (self._trial is not None) != result.deterministic:  # given out before a change
            what = "a training" if self._trial is not None else "a trial"
            self._reason = f"{what} episode given out before the trial changed not counted"
        elif not self.final:
            self._trained += 1
            if self._trained >= self.window:
                self._trial, self._trained = [], 0
                self._reason = f"stage {self.stage} (h={h}): trial of {self.trial_episodes} begins"
            else:
                self._reason = f"stage {self.stage} (h={h}): training {self._trained}/{self.window}"
        else:
            self._reason = f"final stage {self.stage} (h=0): the explorer acts alone"

    def _trial_step(self) -> str:
        assert self._trial is not None
        k, h, n = self.stage, self.horizons[self.stage], len(self._trial)
        rate = float(np.mean(self._trial))
        where = f"stage {k} (h={h}) trial: {sum(self._trial)}/{n} succeeded"
        if n < self.trial_episodes:
            return f"{where} so far"
        self._trial = None
        if rate + 1e-9 < self.required_success:
            return f"holds at {where}, below the {self.required_success:.0%} required"
        self.stage += 1
        self.advances.append((self.episodes, self.stage))
        return f"advanced to stage {self.stage} (h={self.horizons[self.stage]}) after {where}"

    def status(self) -> CurriculumStatus:
        """Current horizon and stage, with the reason for the last decision."""
        return CurriculumStatus(
            self.strategy, self.horizons[self.stage], self.stage, self.n_stages, self.H1,
            self._reason,
        )  # fmt: skip

    def state_dict(self) -> dict[str, Any]:
        """Stage, trial in progress, counters (plain Python values)."""
        return {
            "strategy": self.strategy,
            "H1": self.H1,
            "horizons": list(self.horizons),
            "stage": self.stage,
            "episodes": self.episodes,
            "trained": self._trained,
            "trial": None if self._trial is None else list(self._trial),
            "advances": [list(a) for a in self.advances],
            "reason": self._reason,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict` output (its stages: they were placed at the start)."""
        _check_same(state, strategy=self.strategy, H1=self.H1)
        self.horizons = [int(h) for h in state["horizons"]]
        self.stage, self.episodes = int(state["stage"]), int(state["episodes"])
        self._trained = int(state["trained"])
        trial = state["trial"]
        self._trial = None if trial is None else [bool(x) for x in trial]
        self.advances = [(int(e), int(s)) for e, s in state["advances"]]
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
    guide_results: Sequence[EpisodeResult] = (),
) -> Curriculum:
    """Build the curriculum a strategy names.

    Args:
        strategy: ``curriculum``, ``random``, ``none`` or ``fixed``.
        guide: The guide's measured stats (needed by ``curriculum`` and ``random``).
        settings: Stages, window, trials, gate; None for the defaults.
        rng: Generator for ``random`` (a fresh seeded one if None).
        guide_results: The guide-only episodes: where they change phase places the stages
            (``settings.stages == "phases"``); without them the stages are even.

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
            curriculum_horizons(guide.h1, s, guide_results),
            s.window,
            s.trial_episodes,
            required_success(s, guide.success_rate),
            alone_every=s.alone_every,
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
    "JSRLCurriculum",
    "JSRLRandom",
    "NoGuide",
    "make_curriculum",
]
