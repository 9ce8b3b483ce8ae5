"""Set-up steps of a :class:`~learner.session.LearningSession`: guide data, H1, curriculum.

Kept apart from the session's per-step code: these run once, before the first episode.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import sim
from episode.guide import Guide
from episode.runner import EpisodeRunner
from episode.types import EpisodeResult
from learner.config import TrainConfig
from learner.curriculum import Curriculum, make_curriculum
from learner.replay import EpisodeReplay
from learner.run_dir import GUIDE_DATASET, open_writer
from learner.session_options import Counters
from learner.stages import GuideStats, guide_stats
from sim.errors import UserError

log = logging.getLogger(__name__)

GUIDE_SEED = 500_000_000
"""Guide episodes of run seed ``s`` use seeds ``GUIDE_SEED + 10_000 * s + i``."""
TRAIN_SEED = 1_000_000
"""Episode ``k`` of run seed ``s`` uses seed ``TRAIN_SEED * (s + 1) + k`` (app and train)."""
HUMAN_H1 = 180
"""H1 for a human guide when ``--h1`` is not given (with the assist a person opens the door in
~120-170 steps; hold-to-run takes the wall-clock pressure away)."""


def episode_seed(run_seed: int, episode: int) -> int:
    """Seed of episode ``episode`` of a run with seed ``run_seed`` (the one seed scheme)."""
    return TRAIN_SEED * (run_seed + 1) + episode


def guide_seed(run_seed: int, episode: int) -> int:
    """Seed of guide-only episode ``episode`` of a run with seed ``run_seed``."""
    return GUIDE_SEED + 10_000 * run_seed + episode


def guide_data(
    cfg: TrainConfig,
    env: Any,
    guide: Guide | None,
    parts: Any,
    saved: dict[str, Any] | None,
    *,
    record: bool = True,
    progress: Callable[[str], None] | None = None,
) -> tuple[GuideStats | None, int, list[EpisodeResult]]:
    """Record (or, resuming, reload) the guide-only episodes into the offline buffer; H1.

    The episodes go to the offline buffer (and their demonstrations to the demo buffer) as
    recorded, through ``parts.load`` (a :class:`~learner.session_parts.LearningParts`).

    Returns:
        The guide's stats (None when no H1 is needed or known), the guide-only env steps, and
        the guide episodes' results (where they change phase places the curriculum's stages).

    Raises:
        UserError: H1 is needed, not given, and the guide never opened the door.

    """
    dataset = Path(cfg.run_dir) / GUIDE_DATASET
    if saved:
        parts.load([dataset], parts.offline, parts.demos)
        data = saved.get("guide_stats")
        steps = int((saved.get("counters") or {}).get("guide_steps", 0))
        return (GuideStats(**data) if data else None), steps, []
    given = None if cfg.h1 is None else GuideStats(0, None, None, cfg.h1)
    if guide is None or cfg.guide_episodes == 0:
        return given, 0, []
    if guide.kind == "human":  # a person cannot be measured headless
        return GuideStats(0, None, None, cfg.h1 or HUMAN_H1), 0, []
    results = _run_guide_episodes(cfg, env, guide, parts, dataset if record else None, progress)
    steps = sum(r.steps for r in results)
    if cfg.strategy in ("none", "fixed") and cfg.h1 is None and not any(r.success for r in results):
        return None, steps, results  # no H1 needed; the episodes are still offline data
    return guide_stats(results, cfg.h1), steps, results


def _run_guide_episodes(
    cfg: TrainConfig,
    env: Any,
    guide: Guide,
    parts: Any,
    dataset: Path | None,
    progress: Callable[[str], None] | None,
) -> list[EpisodeResult]:
    writer = None if dataset is None else _fresh_writer(dataset)
    replay = EpisodeReplay(
        parts.offline, parts.space, demos=parts.demos, command_scale=parts.command_scale
    )
    runner = EpisodeRunner(env, guide, None, recorder=writer, replay=replay,
                           command_labeler=parts.labeler)  # fmt: skip
    results: list[EpisodeResult] = []
    n = cfg.guide_episodes
    try:
        for i in tqdm(range(n), desc="guide episodes", disable=not cfg.progress, leave=False):
            if progress is not None:
                progress(f"measuring the {guide.kind} guide: episode {i + 1}/{n}")
            results.append(runner.run_episode(guide_seed(cfg.seed, i), sim.EPISODE_STEPS))
    finally:
        if writer is not None:
            writer.close()
    return results


def _fresh_writer(dataset: Path) -> Any:
    """A writer on an empty guide dataset; one left by a set-up that was killed is redone.

    The dataset's lock is taken first, so a run still live in another process is refused
    before anything of it is touched.
    """
    writer = open_writer(dataset, append=True)
    if writer.dataset_episodes == 0:
        return writer
    writer.close()
    log.warning("%s: the run's set-up stopped half-way; its guide episodes are redone", dataset)
    shutil.rmtree(dataset)
    return open_writer(dataset)


def count_episodes_after(
    saved: dict[str, Any], recorder: Any, counters: Counters, history: list[tuple[int, bool]]
) -> None:
    """Count the episodes the dataset committed after the checkpoint (``kill -9``).

    A run killed between checkpoints has recorded episodes its checkpoint does not count.
    They are counted now (their steps are in the online buffer, refilled from the dataset),
    so a resumed run neither plays their seeds again nor loses them.

    Args:
        saved: The checkpoint resumed from (its ``dataset_episodes``).
        recorder: The session's dataset writer (``dataset``, ``dataset_episodes``).
        counters: The session's counters (updated).
        history: The session's (h, open at the end) per episode (appended to).

    """
    from recordings.reader import iter_episodes

    known, total = saved.get("dataset_episodes"), recorder.dataset_episodes
    if known is None or total <= int(known):
        return
    for episode in iter_episodes(recorder.dataset, range(int(known), total)):
        counters.episodes += 1
        counters.env_steps += len(episode)
        history.append((episode.h, bool(episode.step_success[-1])))
    log.warning(
        "%d episodes recorded after the checkpoint are counted: resuming at %d env steps",
        total - int(known),
        counters.env_steps,
    )


def build_curriculum(
    cfg: TrainConfig,
    stats: GuideStats | None,
    saved: dict[str, Any] | None,
    guide_results: list[EpisodeResult] | None = None,
) -> Curriculum:
    """The curriculum ``cfg.strategy`` names (``make_curriculum``), restored when resuming."""
    rng = np.random.default_rng([cfg.seed, 17])
    try:
        curriculum = make_curriculum(
            cfg.strategy, stats, cfg.curriculum, rng=rng, guide_results=guide_results or ()
        )
    except ValueError as e:
        raise UserError(f"--strategy {cfg.strategy}: {e}") from None
    if saved and saved.get("curriculum"):
        try:
            curriculum.load_state_dict(saved["curriculum"])
        except (ValueError, KeyError, UserError) as e:
            raise UserError(
                f"the checkpoint's curriculum does not fit this run: {e}; start with the same "
                "--guide/--strategy/--h1, or use another --run-dir"
            ) from None
    return curriculum


__all__ = [
    "GUIDE_SEED",
    "HUMAN_H1",
    "TRAIN_SEED",
    "build_curriculum",
    "count_episodes_after",
    "episode_seed",
    "guide_data",
    "guide_seed",
]
