"""The ``recordings info|verify|snapshot`` subcommands (``collect``: ``learner.collect``)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from recordings.config import InfoConfig, RecordingsConfig, SnapshotConfig, VerifyConfig
from recordings.reader import summarize
from recordings.verify import verify
from sim.errors import UserError


def run_recordings(cfg: RecordingsConfig) -> int:
    """``recordings info|verify|snapshot``. Returns the exit code."""
    command = cfg.command
    if isinstance(command, InfoConfig):
        return run_info(command)
    if isinstance(command, VerifyConfig):
        return run_verify(command)
    if isinstance(command, SnapshotConfig):
        return run_snapshot(command)
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
    for line in report.notes:
        print(f"note: {line}")
    if not report.sound:
        raise UserError(f"{report.dataset} is not sound: {report.problems_line()}")
    print(
        f"OK: {report.dataset} holds {report.episodes} sound episodes ({report.steps} steps); "
        f"Minari loads it as {report.dataset.name!r} from {report.dataset.parent}"
    )
    return 0


def run_snapshot(cfg: SnapshotConfig) -> int:
    """``recordings snapshot DATASET OUT``: a consistent copy for lock-unaware readers."""
    from recordings.snapshot import snapshot

    copy = snapshot(cfg.dataset, cfg.out)
    print(
        f"snapshot: {copy.dataset} holds {copy.episodes} episodes ({copy.steps} steps), "
        f"as committed in {cfg.dataset}; minari.load_dataset reads it from {copy.dataset.parent}"
    )
    return 0
