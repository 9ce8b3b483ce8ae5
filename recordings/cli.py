"""The ``collect`` and ``recordings info|verify`` subcommands."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
from tqdm import tqdm

from episode.guide import Guide
from recordings.config import CollectConfig, InfoConfig, RecordingsConfig, VerifyConfig
from recordings.layout import dataset_paths
from recordings.reader import summarize
from recordings.verify import verify
from recordings.writer import DatasetWriter
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


def collect_episodes(
    env: gym.Env,
    guide: Guide,
    writer: DatasetWriter,
    *,
    episodes: int,
    seed: int,
    progress: bool = True,
) -> CollectStats:
    """Record ``episodes`` whole-guide episodes (h = 200) through the one episode runner.

    Episode ``i`` is reset with seed ``seed + i``. Ctrl-C discards the episode in progress
    and returns what was finished (``interrupted`` set); any other error discards it too and
    propagates (the finished episodes stay recorded).
    """
    # The runner has no torch in it; imported here because learner/ stands on recordings/.
    from episode.runner import EpisodeRunner

    runner = EpisodeRunner(env, guide, None, recorder=writer)
    stats = CollectStats()
    bar = tqdm(range(episodes), desc="collect", unit="ep", disable=not progress)
    try:
        for i in bar:
            result = runner.run_episode(seed + i, EPISODE_STEPS)
            stats.returns.append(result.episode_return)
            stats.successes.append(result.success)
            bar.set_postfix(success=f"{stats.success_rate:.0%}", score=f"{stats.mean_score:.1f}")
    except KeyboardInterrupt:
        writer.discard_episode()
        stats.interrupted = True
    except BaseException:
        writer.discard_episode()  # a failing guide must not leave a half episode behind
        raise
    finally:
        bar.close()
    return stats


def run_collect(cfg: CollectConfig) -> int:
    """``collect``: record guide episodes headless; print a summary. Returns the exit code."""
    if cfg.episodes < 1:
        raise UserError(f"--episodes must be at least 1, got {cfg.episodes}")
    paths = dataset_paths(cfg.out)
    if paths.exists() and not cfg.append:  # checked before the env and guide are built
        raise UserError(f"dataset {paths.dataset} exists; pass --append to add to it")
    import sim

    env = sim.make_door()
    try:
        guide = _make_guide(cfg.guide, env, cfg.seed)
        with DatasetWriter(paths.dataset, append=cfg.append, author=cfg.author) as writer:
            stats = collect_episodes(env, guide, writer, episodes=cfg.episodes, seed=cfg.seed)
    finally:
        env.close()
    for line in _collect_summary(writer, stats):
        print(line)
    return 130 if stats.interrupted else 0


def _make_guide(spec: str, env: gym.Env, seed: int) -> Guide:
    try:
        from guides.factory import make_guide
    except ImportError as e:
        raise UserError(f"guides are not available in this build ({e})") from None
    return make_guide(spec, env, seed=seed)


def _collect_summary(writer: DatasetWriter, stats: CollectStats) -> list[str]:
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


def run_recordings(cfg: RecordingsConfig) -> int:
    """``recordings info|verify``. Returns the exit code."""
    command = cfg.command
    if isinstance(command, InfoConfig):
        return run_info(command)
    if isinstance(command, VerifyConfig):
        return run_verify(command)
    raise UserError(f"unknown recordings command {command!r}")


def run_info(cfg: InfoConfig) -> int:
    """``recordings info DATASET``: print the summary (or JSON)."""
    summary = summarize(cfg.dataset)
    if cfg.json:
        print(json.dumps(_jsonable(summary), indent=1))
    else:
        print("\n".join(summary.lines()))
    return 0


def _jsonable(summary: Any) -> dict[str, Any]:
    out = dataclasses.asdict(summary)
    out["dataset"] = str(summary.dataset)
    out["success_rate"] = summary.success_rate
    out["h_values"] = {str(k): v for k, v in summary.h_values.items()}
    return out


def run_verify(cfg: VerifyConfig) -> int:
    """``recordings verify DATASET``: repair crash leftovers; exit 0 if sound, else 2."""
    report = verify(cfg.dataset, repair=cfg.repair)
    for line in report.fixed:
        print(f"repaired: {line}")
    if not report.sound:
        raise UserError(f"{report.dataset} is not sound: {report.problems_line()}")
    print(
        f"OK: {report.dataset} holds {report.episodes} sound episodes ({report.steps} steps); "
        f"Minari loads it as {report.dataset.name!r} from {report.dataset.parent}"
    )
    return 0
