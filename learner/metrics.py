"""Run metrics: one CSV row per training episode and one per evaluation (TensorBoard if present).

``DIR/metrics/episodes.csv`` and ``DIR/metrics/evals.csv`` are appended and flushed row by row,
so a crash loses nothing already logged; on ``--resume`` the rows past the checkpoint are
dropped (:meth:`MetricsLog.truncate_after`) so the curves continue where the run stopped.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from episode.milestones import FAILURE_LABELS, stuck_at
from episode.types import EpisodeResult
from learner.atomic import atomic_write

EPISODE_FIELDS = (
    "env_steps",
    "episode",
    "seed",
    "h",
    "stage",
    "success",
    "open_at_end",
    "ever_opened",
    "open_steps",
    "trial",
    "episode_return",
    "normalized_score",
    "first_success_step",
    "n_guide",
    "n_explorer",
    "n_human",
    "weight_version",
    "updates",
    "updates_per_s",
    "critic_loss",
    "actor_loss",
    "alpha",
    "q_mean",
    "entropy",
    "bc_loss",
    "wall_s",
    "cpu_s",
    "reason",
)
"""Columns of ``episodes.csv`` (``stage``: the stage the episode ran at; ``success``: D4RL's
rule, the door open for >= 25 steps; ``open_at_end`` and ``ever_opened`` beside it;
``trial``: a deterministic curriculum trial episode; ``wall_s``, ``cpu_s``: the run's wall and
CPU seconds so far, earlier sessions included, ``cpu_s`` counting every thread of the process
(about what the run takes alone on one core); ``reason``: why the curriculum did or did not
advance after it)."""

EVAL_FIELDS = (
    "env_steps",
    "episode",
    "updates",
    "weight_version",
    "horizon",
    "episodes",
    "success_rate",
    "open_at_end_rate",
    "ever_opened_rate",
    "normalized_score",
    "mean_return",
    "median_steps_to_open",
    "wall_s",
    "cpu_s",
    "failed_at",
)
"""Columns of ``evals.csv`` (``failed_at``: the failures by where they stopped, e.g.
``swing=1 open=7 hold=3``; see :func:`failures_by_phase`)."""

LOSS_KEYS = ("critic_loss", "actor_loss", "alpha", "q_mean", "entropy", "bc_loss")
"""Learner statistics copied into each episode row."""


@dataclass(frozen=True)
class EvalSummary:
    """Evaluation of a policy over several episodes."""

    episodes: int
    """Episodes run."""
    horizon: int
    """Guide steps before the explorer took over (0 = the explorer alone)."""
    success_rate: float
    """Fraction of successful episodes (D4RL: the door open for >= 25 steps)."""
    open_at_end_rate: float
    """Fraction of episodes that ended with the door open."""
    ever_opened_rate: float
    """Fraction of episodes in which the door was open after at least one step."""
    normalized_score: float
    """Mean D4RL door-binary score (percent of steps with the door open)."""
    mean_return: float
    """Mean episode return."""
    median_steps_to_open: float | None
    """Median steps until the door first opened, over the successful episodes (None if none)."""
    failed_at: dict[str, int] = field(default_factory=dict)
    """Failed episodes by the first milestone they never reached (:func:`episode.milestones.
    stuck_at`: reach, turn, unlatch, swing, open, or hold: opened but not for 25 steps)."""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def summarize(results: Sequence[EpisodeResult], horizon: int) -> EvalSummary:
    """Success rate, normalized score and median steps to open of ``results``."""
    if not results:
        raise ValueError("summarize() needs at least one episode result")
    opened = [r.first_success_step for r in results if r.first_success_step is not None]
    return EvalSummary(
        episodes=len(results),
        horizon=int(horizon),
        success_rate=float(np.mean([r.success for r in results])),
        open_at_end_rate=float(np.mean([r.open_at_end for r in results])),
        ever_opened_rate=float(np.mean([r.ever_opened for r in results])),
        normalized_score=float(np.mean([r.normalized_score for r in results])),
        mean_return=float(np.mean([r.episode_return for r in results])),
        median_steps_to_open=float(np.median(opened)) if opened else None,
        failed_at=failures_by_phase(results),
    )


def failures_by_phase(results: Sequence[EpisodeResult]) -> dict[str, int]:
    """How many failed episodes stopped at each milestone, in milestone order (none: {}).

    Episodes without milestone data (results from before they were tracked) are left out.
    """
    stuck = [stuck_at(r.milestones) for r in results if not r.success and r.milestones]
    return {key: stuck.count(key) for key in FAILURE_LABELS if key in stuck}


def describe_failures(failed_at: dict[str, int]) -> str:
    """One line for a table: ``2 swung the door, never opened it; 1 ...`` (``none``)."""
    if not failed_at:
        return "none"
    return "; ".join(f"{n} {FAILURE_LABELS.get(key, key)}" for key, n in failed_at.items())


NOT_SCALARS = frozenset({"env_steps", "episode", "seed", "reason", "failed_at"})
"""Columns TensorBoard does not plot (the x axis, identifiers, text); every other one it does."""


class MetricsLog:
    """Appends episode and evaluation rows to CSV files (and TensorBoard when installed).

    Args:
        directory: Where ``episodes.csv`` and ``evals.csv`` live (created if missing).
        tensorboard: Also write TensorBoard scalars if ``torch.utils.tensorboard`` works.

    """

    def __init__(self, directory: Path, tensorboard: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.episodes_csv = self.directory / "episodes.csv"
        self.evals_csv = self.directory / "evals.csv"
        for path, fields in ((self.episodes_csv, EPISODE_FIELDS), (self.evals_csv, EVAL_FIELDS)):
            _write_header(path, fields)  # both files exist from the start, rows or not
            _add_new_columns(path, fields)  # a run logged before a column existed
        self._tb = _tensorboard_writer(self.directory / "tb") if tensorboard else None

    def log_episode(self, row: dict[str, Any]) -> None:
        """Append one training episode's row (keys from :data:`EPISODE_FIELDS`)."""
        _append(self.episodes_csv, EPISODE_FIELDS, row)
        self._scalars("train", row, [k for k in EPISODE_FIELDS if k not in NOT_SCALARS])

    def log_eval(self, row: dict[str, Any]) -> None:
        """Append one evaluation's row (keys from :data:`EVAL_FIELDS`)."""
        _append(self.evals_csv, EVAL_FIELDS, row)
        self._scalars("eval", row, [k for k in EVAL_FIELDS if k not in NOT_SCALARS])

    def truncate_after(self, env_steps: int) -> None:
        """Drop rows logged past ``env_steps`` (work lost since the checkpoint we resume)."""
        for path in (self.episodes_csv, self.evals_csv):
            rows = read_csv(path)
            keep = [r for r in rows if int(float(r["env_steps"])) <= env_steps]
            if len(keep) != len(rows):
                fields = EPISODE_FIELDS if path == self.episodes_csv else EVAL_FIELDS
                atomic_write(path, functools.partial(_write_rows, fields=fields, rows=keep))

    def close(self) -> None:
        """Flush and close TensorBoard (the CSVs are flushed per row)."""
        if self._tb is not None:
            self._tb.close()
            self._tb = None

    def _scalars(self, prefix: str, row: dict[str, Any], keys: Iterable[str]) -> None:
        if self._tb is None:
            return
        step = int(row["env_steps"])
        for key in keys:
            value = row.get(key)
            if isinstance(value, int | float | bool) and math.isfinite(float(value)):
                self._tb.add_scalar(f"{prefix}/{key}", float(value), step)


def _write_rows(path: Path, *, fields: Sequence[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a metrics CSV as dicts of strings ([] when the file does not exist)."""
    if not Path(path).exists():
        return []
    with Path(path).open(newline="") as f:
        return list(csv.DictReader(f))


def column(rows: Sequence[dict[str, str]], key: str) -> np.ndarray:
    """One column as floats (empty strings become NaN)."""
    return np.array([float(r[key]) if r.get(key) not in (None, "") else np.nan for r in rows])


def _append(path: Path, fields: Sequence[str], row: dict[str, Any]) -> None:
    unknown = set(row) - set(fields)
    if unknown:
        raise KeyError(f"unknown metrics columns {sorted(unknown)} for {path.name}")
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(fields))
        if new:
            writer.writeheader()
        writer.writerow({k: _cell(row.get(k)) for k in fields})
        f.flush()


def _add_new_columns(path: Path, fields: Sequence[str]) -> None:
    """Rewrite a CSV whose header lacks some of ``fields`` (added since) with all of them.

    Its rows keep their values; the new columns are empty in them.
    """
    with path.open(newline="") as f:
        header = next(csv.reader(f), [])
    if list(header) == list(fields) or not set(header) <= set(fields):
        return
    rows = read_csv(path)
    atomic_write(path, functools.partial(_write_rows, fields=fields, rows=rows))


def format_failures(failed_at: dict[str, int]) -> str:
    """``failed_at`` as one CSV cell: ``swing=1 open=7 hold=3`` (empty: no failure)."""
    return " ".join(f"{key}={n}" for key, n in failed_at.items())


def _write_header(path: Path, fields: Sequence[str]) -> None:
    if not path.exists() or path.stat().st_size == 0:
        with path.open("w", newline="") as f:
            csv.DictWriter(f, fieldnames=list(fields)).writeheader()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def _tensorboard_writer(directory: Path) -> Any:
    """A TensorBoard ``SummaryWriter``, or None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:
        return None
    return SummaryWriter(log_dir=str(directory))
