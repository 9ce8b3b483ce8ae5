"""``recordings info``: a dataset's summary, tallied episode by episode.

:class:`Tally` counts one episode at a time from its arrays, so our own files (read group by
group, no observations) and datasets Minari wrote (read through Minari) give the same summary.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from episode.types import Actor
from recordings.layout import DatasetPaths
from recordings.schema import MAIN_FILE
from sim.door import episode_success, normalized_score


@dataclass(frozen=True)
class DatasetSummary:
    """What ``recordings info`` prints."""

    dataset: Path
    """The dataset directory."""
    env_id: str
    """The recorded env."""
    episodes: int
    """Episodes in the HDF5 file."""
    steps: int
    """Steps in them."""
    successes: int
    """Successful episodes (D4RL's rule: the door open for >= 25 steps)."""
    ever_opened: int
    """Episodes in which the door was open after at least one step."""
    mean_normalized_score: float
    """Mean of ``100 * (1 + return / 200)`` (NaN with no episodes)."""
    guide_kinds: dict[str, int]
    """Episodes per guide kind."""
    h_values: dict[int, int]
    """Episodes per guide horizon ``h``."""
    actor_steps: dict[str, int]
    """Steps per actor (guide, explorer, human)."""
    weight_versions: tuple[int, int] | None
    """Lowest and highest explorer weight version (None with no episodes)."""
    size_bytes: int
    """Size of ``main_data.hdf5``."""
    metadata_counts: tuple[int, int] | None = None
    """(total_episodes, total_steps) in ``metadata.json`` (None if unreadable)."""
    nonfinite_actions: tuple[int, int] = (0, 0)
    """(steps, episodes) whose action holds a NaN or an infinity."""
    out_of_range_actions: tuple[int, int] = (0, 0)
    """(steps, episodes) whose action is outside the action space's bounds."""
    notes: list[str] = field(default_factory=list)
    """Things a user should know (e.g. stale metadata, bad actions)."""

    @property
    def success_rate(self) -> float:
        """Fraction of successful episodes (NaN with no episodes)."""
        return self.successes / self.episodes if self.episodes else float("nan")

    def lines(self) -> list[str]:
        """The summary as aligned text lines."""
        n = self.episodes
        wv = self.weight_versions
        versions = "-" if wv is None else f"{wv[0]}..{wv[1]}"
        total = max(1, self.steps)
        actors = ", ".join(
            f"{k} {v} ({100 * v / total:.1f} %)" for k, v in self.actor_steps.items()
        )
        rows = [
            ("dataset", f"{self.dataset}  (Minari id {self.dataset.name})"),
            ("env", self.env_id),
            ("episodes", f"{n}   steps {self.steps}"),
            (
                "success",
                f"{self.successes}/{n} ({100 * self.success_rate:.1f} %; D4RL: door open >= 25 "
                f"steps); ever opened {self.ever_opened}/{n}"
                if n
                else "-",
            ),
            ("score", f"mean normalized score {self.mean_normalized_score:.1f}" if n else "-"),
            ("guides", _counts(self.guide_kinds)),
            ("h", _counts(self.h_values)),
            ("actors", actors),
            ("weights", f"version {versions}"),
            ("file", f"{self.size_bytes / 1e6:.2f} MB ({MAIN_FILE})"),
            (
                "minari",
                f"MINARI_DATASETS_PATH={self.dataset.parent} then "
                f"minari.load_dataset({self.dataset.name!r})",
            ),
        ]
        rows += [("note", note) for note in self.notes]
        return [f"{k:<9} {v}" for k, v in rows]


def _counts(counter: dict[Any, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counter.items()) if counter else "-"


class Tally:
    """Counts a dataset's episodes one at a time (see the module docstring)."""

    def __init__(self, act_space: Any) -> None:
        self.act_space = act_space
        self.kinds: Counter[str] = Counter()
        self.hs: Counter[int] = Counter()
        self.actors: Counter[int] = Counter()
        self.scores: list[float] = []
        self.versions: list[int] = []
        self.episodes = self.steps = self.successes = self.ever = 0
        self.bad = {"nonfinite": [0, 0], "out_of_range": [0, 0]}  # steps, episodes

    def add(self, rewards: np.ndarray, success: np.ndarray, actions: np.ndarray,
            actor: np.ndarray, attrs: dict[str, Any]) -> None:  # fmt: skip
        """One episode: per-step rewards, door-open flags, actions and actors; its attributes."""
        self.episodes += 1
        self.steps += len(rewards)
        open_steps = int(np.count_nonzero(success))
        self.successes += episode_success(open_steps)
        self.ever += open_steps > 0
        self.scores.append(normalized_score(float(np.sum(rewards))))
        self.kinds[_str(attrs.get("guide_kind", "?"))] += 1
        self.hs[int(attrs.get("h", -1))] += 1
        self.versions.append(int(attrs.get("weight_version", 0)))
        self.actors.update(np.asarray(actor).tolist())
        for key, n in _bad_actions(actions, self.act_space).items():
            self.bad[key][0] += n
            self.bad[key][1] += n > 0

    def summary(self, paths: DatasetPaths, env_id: str) -> DatasetSummary:
        """The summary of the episodes added, with its notes."""
        bad = self.bad
        summary = DatasetSummary(
            dataset=paths.dataset,
            env_id=env_id,
            episodes=self.episodes,
            steps=self.steps,
            successes=self.successes,
            ever_opened=self.ever,
            mean_normalized_score=float(np.mean(self.scores)) if self.scores else float("nan"),
            guide_kinds=dict(self.kinds.most_common()),
            h_values=dict(sorted(self.hs.items())),
            actor_steps={a.name.lower(): self.actors.get(int(a), 0) for a in Actor},
            weight_versions=(min(self.versions), max(self.versions)) if self.versions else None,
            size_bytes=paths.main.stat().st_size,
            metadata_counts=_metadata_counts(paths),
            nonfinite_actions=(bad["nonfinite"][0], bad["nonfinite"][1]),
            out_of_range_actions=(bad["out_of_range"][0], bad["out_of_range"][1]),
        )
        for (n, k), what in ((summary.nonfinite_actions, "NaN or infinite"),
                             (summary.out_of_range_actions, "out-of-range")):  # fmt: skip
            if n:
                summary.notes.append(
                    f"{n} steps in {k} episodes have {what} actions: a learner reading this "
                    "dataset should drop or clip them"
                )
        if summary.metadata_counts != (summary.episodes, summary.steps):
            summary.notes.append(
                f"metadata.json says {summary.metadata_counts}, the file holds "
                f"({summary.episodes}, {summary.steps}) (episodes, steps): "
                f"run recordings verify {paths.dataset} to update it"
            )
        return summary


def _bad_actions(actions: np.ndarray, space: Any) -> dict[str, int]:
    """Steps of one episode whose action is not finite, or finite but out of the bounds."""
    finite = np.isfinite(actions).all(axis=1)
    inside = ((actions >= space.low) & (actions <= space.high)).all(axis=1)
    return {
        "nonfinite": int(np.count_nonzero(~finite)),
        "out_of_range": int(np.count_nonzero(finite & ~inside)),
    }


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _metadata_counts(paths: DatasetPaths) -> tuple[int, int] | None:
    try:
        meta = json.loads(paths.metadata.read_text())
        return int(meta["total_episodes"]), int(meta["total_steps"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


__all__ = ["DatasetSummary", "Tally"]
