"""The one run-directory format of the app and ``train``: ``config.json``, datasets, checks.

A run directory (``--run-dir``) holds::

    RUN_DIR/config.json              the session's settings (``{"train": ..., obs_dim, act_dim}``)
    RUN_DIR/metrics/episodes.csv     one row per finished episode (``h`` among the columns)
    RUN_DIR/metrics/evals.csv        one row per evaluation of the explorer alone
    RUN_DIR/checkpoints/step_*.pt    the one checkpoint format (``learner.checkpoint``)
    RUN_DIR/episodes/<name>-v0       Minari datasets: door-guide-v0 (H1), door-train-v0 (train),
                                     door-app-v0 (the app)

``train --resume``, the app (which resumes whenever a checkpoint is there) and ``eval`` read
any of them.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sim
from learner import checkpoint as ckpt_io
from learner.atomic import atomic_write
from learner.config import TrainConfig, saved_train_settings
from sim.errors import UserError

CONFIG_FILE = "config.json"
"""The run's configuration, written when the run starts."""
EPISODES_DIR = Path("episodes")
"""Where a run's datasets live, relative to the run directory."""
TRAIN_DATASET = EPISODES_DIR / "door-train-v0"
"""The training episodes of ``train`` (guide + explorer steps)."""
APP_DATASET = EPISODES_DIR / "door-app-v0"
"""Every app episode (guide, explorer, human)."""
GUIDE_DATASET = EPISODES_DIR / "door-guide-v0"
"""The guide-only episodes (offline data, H1)."""
RESUMABLE_FIELDS = frozenset(
    {
        "run_dir",
        "steps",
        "resume",
        "progress",
        "eval_every",
        "eval_episodes",
        "checkpoint_every",
        "keep_checkpoints",
        "workers",
        "ray_address",
        "learner.utd_ratio",
        "sac.actor_every",
    }
)
"""Settings that may change when a run is resumed (the cadences, the workers and the update
schedule: an app run, whose learner runs free at UTD 1, goes on under ``train``'s UTD 2); every
other one must match."""


def config_to_dict(cfg: TrainConfig) -> dict[str, Any]:
    """The config as plain JSON values."""
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


def prepare_run_dir(cfg: TrainConfig, *, strict: bool = True) -> TrainConfig:
    """Check the run directory against ``cfg.resume`` and write (or update) ``config.json``.

    Args:
        cfg: The session's settings.
        strict: ``train``'s rules (a run there needs ``--resume``, and the same settings).
            False is the app's: it resumes whatever checkpoint is there and lets guide and
            pacing settings change between sessions (the networks and curriculum must fit).

    Raises:
        UserError: A run already there without ``--resume``, nothing to resume, a directory
            holding something else, or ``--resume`` with different settings.

    """
    check_run_dir(cfg, strict=strict)
    run_dir, config_file = Path(cfg.run_dir), Path(cfg.run_dir) / CONFIG_FILE
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(
        config_file, {"train": config_to_dict(cfg), "obs_dim": sim.OBS_DIM, "act_dim": sim.ACT_DIM}
    )
    return cfg


def check_run_dir(cfg: TrainConfig, *, strict: bool = True) -> None:
    """The checks of :func:`prepare_run_dir`, writing nothing (call it before costly set-up)."""
    check_values(cfg)
    run_dir, config_file = Path(cfg.run_dir), Path(cfg.run_dir) / CONFIG_FILE
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--run-dir {run_dir} exists and is not a directory")
    if strict:
        _check_strict(cfg, run_dir, config_file)


def _check_strict(cfg: TrainConfig, run_dir: Path, config_file: Path) -> None:
    if config_file.exists() and not cfg.resume:
        if ckpt_io.latest_checkpoint(run_dir) is None:
            raise UserError(
                f"{run_dir} holds a run that stopped during its set-up (no checkpoint yet); "
                "pass --resume to start it again or choose another --run-dir"
            )
        raise UserError(
            f"{run_dir} already holds a run ({CONFIG_FILE}); pass --resume to continue it or "
            "choose another --run-dir"
        )
    if cfg.resume:
        if not config_file.exists():
            raise UserError(f"nothing to resume: {run_dir} holds no {CONFIG_FILE}")
        check_same_settings(cfg, read_config(config_file))
    elif run_dir.is_dir() and any(run_dir.iterdir()):
        names = ", ".join(sorted(p.name for p in run_dir.iterdir())[:5])
        raise UserError(
            f"--run-dir {run_dir} is not empty and is not a run directory (it holds {names}); "
            "choose another --run-dir"
        )


MAX_SEED = 2**31 - 1
"""Largest run seed (episode seeds derived from it must fit the recordings' int64)."""
MAX_STEPS = 10**10
"""Most env steps (or BC steps) a run may ask for."""
MAX_EPISODES = 10**7
"""Most episodes a command may ask for."""
MAX_BUFFER = 10**8
"""Largest replay capacity (rows; ~35 GB at the door's sizes)."""


def check_values(cfg: TrainConfig) -> None:
    """Raise a :class:`UserError` for a setting that cannot work."""
    checks = [
        (cfg.steps >= 1, f"--steps must be >= 1, got {cfg.steps}"),
        (
            math.isfinite(cfg.explorer_speed) and 0.1 <= cfg.explorer_speed <= 10,
            f"--explorer-speed must be in [0.1, 10], got {cfg.explorer_speed}",
        ),
        (cfg.guide_episodes >= 0, f"--guide-episodes must be >= 0, got {cfg.guide_episodes}"),
        (cfg.eval_every >= 1, f"--eval-every must be >= 1, got {cfg.eval_every}"),
        (cfg.eval_episodes >= 0, f"--eval-episodes must be >= 0, got {cfg.eval_episodes}"),
        (cfg.checkpoint_every >= 1, f"--checkpoint-every must be >= 1, got {cfg.checkpoint_every}"),
        (cfg.keep_checkpoints >= 1, f"--keep-checkpoints must be >= 1, got {cfg.keep_checkpoints}"),
        (
            1 <= cfg.buffer_capacity <= MAX_BUFFER,
            f"--buffer-capacity must be in [1, {MAX_BUFFER}], got {cfg.buffer_capacity}",
        ),
        (0 <= cfg.seed <= MAX_SEED, f"--seed must be in [0, {MAX_SEED}], got {cfg.seed}"),
        (cfg.steps <= MAX_STEPS, f"--steps must be <= {MAX_STEPS}, got {cfg.steps}"),
        (0 <= cfg.bc_steps <= MAX_STEPS, f"--bc-steps must be in [0, {MAX_STEPS}]: {cfg.bc_steps}"),
        (
            cfg.guide_episodes <= MAX_EPISODES,
            f"--guide-episodes must be <= {MAX_EPISODES}, got {cfg.guide_episodes}",
        ),
        (
            cfg.h1 is None or 1 <= cfg.h1 <= sim.EPISODE_STEPS,
            f"--h1 must be in [1, {sim.EPISODE_STEPS}], got {cfg.h1}",
        ),
        (
            0 <= cfg.curriculum.fixed_h <= sim.EPISODE_STEPS,
            f"--curriculum.fixed-h must be in [0, 200], got {cfg.curriculum.fixed_h}",
        ),
        (
            cfg.guide != "none" or cfg.strategy == "none",
            f"--guide none works only with --strategy none (not {cfg.strategy})",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise UserError(message)
    from learner.sac import resolve_device  # torch: only once the numbers are known good

    try:
        resolve_device(cfg.learner.device)
    except (ValueError, RuntimeError) as e:
        raise UserError(str(e).splitlines()[0]) from None


MAX_WORKERS = 1024
"""Most Ray rollout workers a command may ask for."""
RAY_EXTRA = "pip install -e '.[ray]' (ray==2.60.0)"
"""What to install for ``--workers N > 1``."""


def check_workers(workers: int, ray_address: str | None) -> None:
    """``--workers`` and ``--ray-address``: in range, and Ray installed when N > 1.

    Raises:
        UserError: One line: the bad value, or what to install.

    """
    if not 1 <= workers <= MAX_WORKERS:
        raise UserError(f"--workers must be in [1, {MAX_WORKERS}], got {workers}")
    if workers == 1:
        if ray_address is not None:
            raise UserError("--ray-address needs --workers N > 1 (N Ray rollout workers)")
        return
    try:
        import ray  # noqa: F401  (only with --workers N > 1)
    except ImportError:
        raise UserError(f"--workers {workers} needs Ray: {RAY_EXTRA}") from None


def read_config(path: Path) -> dict[str, Any]:
    """The ``train`` block of a run's ``config.json``."""
    try:
        saved = json.loads(path.read_text())
        return saved_train_settings(saved["train"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UserError(f"{path} is not a run config this program wrote ({e})") from None


def check_same_settings(cfg: TrainConfig, saved: dict[str, Any]) -> None:
    """Raise a :class:`UserError` naming every setting that differs from the saved run's.

    Nested settings (``sac``, ``curriculum``, ...) are compared leaf by leaf, and the message
    names each differing one with the option that gives the run's value.
    """
    now, before = dict(_leaves(config_to_dict(cfg))), dict(_leaves(saved))
    defaults = dict(_leaves(config_to_dict(TrainConfig(run_dir=cfg.run_dir))))
    diff = [
        k
        for k in sorted(set(now) | set(before))
        if k not in RESUMABLE_FIELDS
        and k.split(".")[0] not in RESUMABLE_FIELDS
        and now.get(k) != before.get(k)
        # An option added since the run was made, left at its default, is no change: a new
        # option's default keeps the behaviour from before it (its "off", as for every option).
        and (k in before or now.get(k) != defaults.get(k))
    ]
    if diff:
        what = "; ".join(_difference(k, before, now) for k in diff)
        raise UserError(
            f"--resume with other settings than the run in {cfg.run_dir}: {what} (only --steps, "
            "the eval/checkpoint cadence and the update schedule may change)"
        )


def _leaves(settings: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted.name, value)`` of every non-dict value in nested settings."""
    for key, value in settings.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _difference(key: str, before: dict[str, Any], now: dict[str, Any]) -> str:
    """``sac.hidden: the run has 128, now 64 (--sac.hidden 128)`` for one setting."""
    if key not in before:
        return f"{key}: the run has none (an older version), now {now.get(key)!r}"
    value, flag = before[key], "--" + key.replace("_", "-")
    if isinstance(value, bool):
        parent, _, name = flag.rpartition(".")
        option = flag if value else (f"{parent}.no-{name}" if parent else f"--no-{flag[2:]}")
    elif isinstance(value, list):
        option = " ".join([flag, *map(str, value)])
    else:
        option = f"{flag} {value}"
    return f"{key}: the run has {value!r}, now {now.get(key)!r} ({option})"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON atomically (temporary file, then ``os.replace``)."""
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text))


def open_writer(dataset: Path, append: bool = False, author: str | None = None) -> Any:
    """A :class:`recordings.writer.DatasetWriter` on ``dataset``."""
    from recordings.writer import DatasetWriter

    return DatasetWriter(dataset, append=append, author=author)


def online_datasets(run_dir: Path) -> list[Path]:
    """The run's datasets of online episodes (every one but the guide-only episodes)."""
    folder = Path(run_dir) / EPISODES_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name != GUIDE_DATASET.name)
