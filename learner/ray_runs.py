"""``train``, ``collect`` and ``eval`` on Ray rollout workers (:mod:`learner.ray_workers`).

The session stays in the driver; the workers only play episodes. ``train`` gives each episode
the curriculum's ``h``, a trial flag and the newest weights at the moment it is given out, and
waits for the learner's update budget first (as a local step does), so the update-to-data
ratio holds. ``collect`` is the same with the guide acting every step; ``eval`` plays a
checkpoint's explorer, which every worker loads from the checkpoint file itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

import sim
from episode.tape import PlayedEpisode
from episode.types import EpisodeResult, Policy
from learner.config import EvalConfig
from learner.interrupts import StopRequest
from learner.ray_workers import REPORT_EVERY, EpisodeTask, WeightShipper, WorkerPool, WorkerSpec
from learner.session import GuideBuilder, LearningSession
from learner.session_parts import build_explorer


def session_tasks(session: LearningSession) -> Callable[[int], EpisodeTask]:
    """``task(k)``: the session's episode ``k`` with the ``h`` and weights of now."""
    shipper = WeightShipper(session.parts.slot.latest)
    thread = session.parts.thread if session.options.paced else None

    def task(k: int) -> EpisodeTask:
        if thread is not None:  # the learner keeps up with the steps, as in one process
            thread.wait_for_budget()
        h, trial = session.next_plan()
        version, weights = shipper.newest() if session.parts.explorer is not None else (0, [])
        return EpisodeTask(k, session.seed_of(k), h, trial, version, weights)

    return task


def play_session(session: LearningSession, pool: WorkerPool, more: Callable[[int], bool]) -> None:
    """Give out the session's episodes while ``more(k)``; commit each through the session."""
    session.start()
    staleness, n = pool.staleness, len(pool.workers)

    def commit(played: PlayedEpisode) -> None:
        session.commit_played(played)
        staleness.lags.append(session.parts.slot.version - played.result.weight_version)
        if len(staleness.lags) % REPORT_EVERY == 0:
            tqdm.write(staleness.line(n))

    pool.play_in_order(session.counters.episodes, more, session_tasks(session), commit)


def train_on_workers(
    session: LearningSession,
    build_guide: GuideBuilder | None,
    train_loop: Callable[[LearningSession, Callable[[LearningSession, StopRequest], None]], int],
) -> int:
    """``train --workers N``: the trainer's loop with the episodes played on Ray workers."""
    cfg = session.cfg
    spec = WorkerSpec(build_guide, functools.partial(build_explorer, cfg), cfg.seed)
    pool = WorkerPool(cfg.workers, spec, cfg.ray_address)

    def more(k: int) -> bool:  # whole episodes, so the run ends at or past --steps
        ahead = (k - session.counters.episodes) * sim.EPISODE_STEPS
        return session.env_steps + ahead < cfg.steps

    def play(s: LearningSession, stop: StopRequest) -> None:  # Ctrl-C: no new episodes
        play_session(s, pool, lambda k: more(k) and not stop.requested)

    try:
        return train_loop(session, play)
    finally:
        print(f"workers: {pool.staleness.line(cfg.workers, last=len(pool.staleness.lags))}")
        pool.close()


def collect_on_workers(
    session: LearningSession,
    episodes: int,
    workers: int,
    address: str | None,
    build_guide: GuideBuilder | None,
) -> None:
    """``collect --workers N``: ``episodes`` more guide episodes, recorded by the session."""
    pool = WorkerPool(workers, WorkerSpec(build_guide, None, session.cfg.seed), address)
    last = session.counters.episodes + episodes
    try:
        play_session(session, pool, lambda k: k < last)
    finally:
        pool.close()


def evaluate_on_workers(
    cfg: EvalConfig, build_guide: GuideBuilder | None, progress: bool
) -> list[EpisodeResult]:
    """``eval --workers N``: the checkpoint's explorer, deterministic, seeds ``seed + i``."""
    explorer = functools.partial(checkpoint_explorer, Path(cfg.checkpoint))
    spec = WorkerSpec(build_guide if cfg.guide else None, explorer, cfg.seed)
    pool = WorkerPool(cfg.workers, spec, cfg.ray_address)
    results: list[EpisodeResult] = []
    bar = tqdm(total=cfg.episodes, desc="eval", disable=not progress, leave=False)

    def commit(played: PlayedEpisode) -> None:
        results.append(played.result)
        bar.update(1)

    def task(k: int) -> EpisodeTask:
        return EpisodeTask(k, cfg.seed + k, cfg.horizon, deterministic=True)

    try:
        pool.play_in_order(0, lambda k: k < cfg.episodes, task, commit)
    finally:
        bar.close()
        pool.close()
    return results


def checkpoint_explorer(path: Path, env: Any, seed: int) -> Policy:
    """A worker's explorer: the checkpoint's, loaded as ``eval`` loads it, on ``env``'s door."""
    from learner.checkpoint import load_explorer

    del env, seed  # deterministic: the checkpoint's own mapper and no sampling
    return load_explorer(path, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)


__all__ = [
    "collect_on_workers",
    "evaluate_on_workers",
    "play_session",
    "session_tasks",
    "train_on_workers",
]
