"""``collect``: the learning session with learning off, the guide acting every step.

Episode ``i`` is reset with seed ``seed + i`` and recorded to ``--out`` (a Minari dataset).
Ctrl-C discards the episode in progress and keeps what was finished; any other error
discards it too and propagates (the finished episodes stay recorded).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from episode.guide import Guide
from episode.types import EpisodeResult
from learner.config import CollectConfig, CurriculumConfig, TrainConfig
from learner.interrupts import stop_requests
from learner.run_dir import MAX_EPISODES, MAX_SEED, check_workers
from learner.session import GuideBuilder, LearningSession, SessionOptions
from sim.door import EPISODE_STEPS, normalized_score
from sim.errors import UserError


@dataclass
class CollectStats:
    """What a collection recorded."""

    returns: list[float] = field(default_factory=list)
    """Return of each finished episode."""
    successes: list[bool] = field(default_factory=list)
    """Whether the door opened in each finished episode."""
    interrupted: bool = False
    """Whether Ctrl-C stopped it (the episode in progress was discarded)."""

    @property
    def episodes(self) -> int:
        """Finished episodes."""
        return len(self.returns)

    @property
    def success_rate(self) -> float:
        """Fraction of finished episodes with the door opened."""
        return sum(self.successes) / self.episodes if self.episodes else math.nan

    @property
    def mean_score(self) -> float:
        """Mean normalized score of the finished episodes."""
        scores = [normalized_score(r) for r in self.returns]
        return sum(scores) / len(scores) if scores else math.nan


def collect_session(
    out: Path,
    guide: Guide,
    *,
    seed: int = 0,
    env: Any = None,
    append: bool = True,
    author: str | None = None,
) -> LearningSession:
    """A session that records whole-guide episodes (h = 200) to the dataset ``out``.

    Episode ``k`` of the dataset is reset with seed ``seed + k``: appending goes on where the
    dataset ends, so a ``collect --append`` after a crash neither repeats nor skips a seed.
    """
    out = Path(out)
    cfg = TrainConfig(
        run_dir=out.parent,
        guide=str(getattr(guide, "kind", "guide")),
        strategy="fixed",
        seed=seed,
        guide_episodes=0,
        eval_episodes=0,
        progress=False,
        curriculum=CurriculumConfig(fixed_h=EPISODE_STEPS),
    )
    options = SessionOptions(
        learning=False,
        dataset=Path(out.name),
        guide_only=True,
        run_files=False,
        plots=False,
        first_seed=seed,
        append=append,
        author=author,
    )
    session = LearningSession(cfg, guide, options, env=env)
    if session.recorder is not None:  # appending: the seeds go on after the dataset's episodes
        session.counters.episodes = session.recorder.dataset_episodes
    return session


STOPPING = "stopping after this step; the episode in progress is dropped (Ctrl-C again: at once)"
"""What the first Ctrl-C prints."""


def collect_episodes(
    session: LearningSession,
    episodes: int,
    progress: bool = True,
    play: Callable[[LearningSession, int], None] | None = None,
) -> CollectStats:
    """Record ``episodes`` episodes through ``session``.

    The episode in progress is dropped on Ctrl-C (``interrupted`` set) or an error (raised).

    Args:
        session: A :func:`collect_session`.
        episodes: How many to record.
        progress: Show a progress bar.
        play: ``play(session, episodes)`` plays them elsewhere (Ray workers) and commits them
            through the session; None: here, one after the other.

    """
    stats = CollectStats()
    bar = tqdm(total=episodes, desc="collect", unit="ep", disable=not progress)

    def count(result: EpisodeResult) -> None:
        stats.returns.append(result.episode_return)
        stats.successes.append(result.success)
        bar.update(1)
        bar.set_postfix(success=f"{stats.success_rate:.0%}", score=f"{stats.mean_score:.1f}")

    try:
        if play is not None:  # Ray workers: Ctrl-C raises, as Ray expects
            session.add_episode_observer(lambda result, _finished: count(result))
            play(session, episodes)
        else:
            with stop_requests(STOPPING) as stop:
                for _ in range(episodes):
                    if (result := session.play_episode(stop)) is None:
                        break
                    count(result)
            stats.interrupted = stop.requested
    except KeyboardInterrupt:
        stats.interrupted = True
    except BaseException:
        session.abort_episode()  # a failing guide must not leave a half episode behind
        raise
    finally:
        bar.close()
    if stats.interrupted:
        session.abort_episode()
    return stats


def run_collect(cfg: CollectConfig, build_guide: GuideBuilder | None = None) -> int:
    """``collect``: record guide episodes headless; print a summary. Returns the exit code.

    Args:
        cfg: What to record.
        build_guide: Builds ``--guide`` for an env (``launch.py`` hands it in).

    """
    from recordings.layout import dataset_paths

    if not 1 <= cfg.episodes <= MAX_EPISODES:
        raise UserError(f"--episodes must be in [1, {MAX_EPISODES}], got {cfg.episodes}")
    if not 0 <= cfg.seed <= MAX_SEED:
        raise UserError(f"--seed must be in [0, {MAX_SEED}], got {cfg.seed}")
    check_workers(cfg.workers, cfg.ray_address)
    paths = dataset_paths(cfg.out)
    if paths.exists() and not cfg.append:  # checked before the env and guide are built
        raise UserError(f"dataset {paths.dataset} exists; pass --append to add to it")
    import sim

    env = sim.make_door()
    try:
        if build_guide is None:
            raise UserError(
                f"--guide {cfg.guide} needs a guide builder: run it as launch.py collect"
            )
        guide = build_guide(env)
        session = collect_session(paths.dataset, guide, seed=cfg.seed, env=env,
                                  append=cfg.append, author=cfg.author)  # fmt: skip
        try:
            play = (
                None if cfg.workers == 1 else functools.partial(_play_on_workers, cfg, build_guide)
            )
            stats = collect_episodes(session, cfg.episodes, progress=cfg.progress, play=play)
        finally:
            errors = session.close()
        if errors:
            raise errors[0]
    finally:
        env.close()
    for line in _summary(session.recorder, stats):
        print(line)
    return 130 if stats.interrupted else 0


def _play_on_workers(
    cfg: CollectConfig, build_guide: GuideBuilder, session: LearningSession, episodes: int
) -> None:
    from learner.ray_runs import collect_on_workers  # ``import ray`` only with --workers N > 1

    collect_on_workers(session, episodes, cfg.workers, cfg.ray_address, build_guide)


def _summary(writer: Any, stats: CollectStats) -> list[str]:
    from recordings.reader import summarize

    summary = summarize(writer.dataset)
    how = "created" if writer.created else f"appended; it now holds {summary.episodes} episodes"
    lines = []
    if stats.interrupted:
        lines.append("interrupted: the episode in progress was discarded")
    lines += [
        f"recorded {stats.episodes} episodes ({writer.steps_written} steps) to "
        f"{writer.dataset} ({how})",
        f"success {sum(stats.successes)}/{stats.episodes} ({100 * stats.success_rate:.1f} %)   "
        f"mean normalized score {stats.mean_score:.1f}",
        f"file {summary.size_bytes / 1e6:.2f} MB   load it with MINARI_DATASETS_PATH="
        f"{writer.dataset.parent} and minari.load_dataset({writer.dataset.name!r})",
    ]
    return lines


__all__ = ["CollectStats", "collect_episodes", "collect_session", "run_collect"]
