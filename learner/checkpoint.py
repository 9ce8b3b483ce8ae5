"""Checkpoints: atomic saves, a format tag and shape checks, the latest file of a run.

A checkpoint is one ``torch.save`` file (loaded with ``weights_only=True``, so it cannot run
code) holding a dict: the format tag, the obs/action sizes, the SAC settings, the networks and
optimizers, the curriculum state, counters and RNG states. Files are written to a temporary
name and moved into place with ``os.replace``, so a crash mid-save never leaves a torn file.
Anything that is not such a checkpoint, or one for other shapes, raises a
:class:`~sim.errors.UserError` that says so.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from sim.errors import UserError

if TYPE_CHECKING:
    from learner.explorer import CommandExplorer, Explorer

FORMAT = "jumpstart-teleop/checkpoint"
"""The tag every checkpoint carries under ``"format"``."""

FORMAT_VERSION = 1
"""Bumped when the layout changes incompatibly."""

CHECKPOINT_DIR = "checkpoints"
"""Checkpoints live in ``RUN_DIR/checkpoints``."""

_NAME = re.compile(r"^step_(\d+)\.pt$")


def checkpoint_name(env_steps: int) -> str:
    """File name of the checkpoint taken after ``env_steps`` env steps."""
    return f"step_{env_steps:09d}.pt"


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus the format tag) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **payload}, tmp)
    os.replace(tmp, path)
    return path


@contextlib.contextmanager
def no_interrupts() -> Iterator[None]:
    """Ignore Ctrl-C while shutting down and saving (main thread only).

    A second Ctrl-C then cannot tear a checkpoint or a recording in half.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def list_checkpoints(run_dir: Path) -> list[Path]:
    """The run's checkpoints, oldest first."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The run's newest checkpoint, or None."""
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def resolve_checkpoint(path: Path) -> Path:
    """A checkpoint file as given, or a run directory's latest checkpoint.

    Raises:
        UserError: Nothing there, or a directory without checkpoints.

    """
    path = Path(path)
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise UserError(
                f"{path} holds no checkpoints (looked for {CHECKPOINT_DIR}/step_*.pt): "
                "give a checkpoint file or a run directory that `train` wrote"
            )
        return found
    if not path.exists():
        raise UserError(f"checkpoint {path} does not exist")
    return path


def load_checkpoint(
    path: Path, *, obs_dim: int | None = None, act_dim: int | None = None
) -> dict[str, Any]:
    """Load and check a checkpoint (a file, or a run directory's latest).

    Args:
        path: Checkpoint file or run directory.
        obs_dim: Expected observation size (None: not checked).
        act_dim: Expected action size (None: not checked).

    Raises:
        UserError: Missing, unreadable, foreign, from another format version, or for other
            observation/action sizes.

    """
    path = resolve_checkpoint(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"{path} is not a readable checkpoint ({first[:200]})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise UserError(f"{path} is not a Jump-Start Teleop checkpoint (no {FORMAT!r} tag)")
    if ckpt.get("format_version") != FORMAT_VERSION:
        raise UserError(
            f"{path} has checkpoint format version {ckpt.get('format_version')}, this program "
            f"reads version {FORMAT_VERSION}"
        )
    for name, want in (("obs_dim", obs_dim), ("act_dim", act_dim)):
        if want is not None and ckpt.get(name) != want:
            raise UserError(
                f"{path} was trained with {name}={ckpt.get(name)}, but this env has "
                f"{name}={want}: it belongs to another task"
            )
    return ckpt


def load_explorer(
    path: Path, *, obs_dim: int, act_dim: int, seed: int = 0
) -> Explorer | CommandExplorer:
    """The checkpoint's explorer, ready to act with 28-D actions (``eval``, the policy guide).

    A Command-space checkpoint (``explorer_space: command``) comes back as a
    :class:`~learner.explorer.CommandExplorer` with its own mapper.
    """
    from learner.explorer import Explorer
    from learner.sac import SACConfig

    ckpt = load_checkpoint(path, obs_dim=obs_dim, act_dim=act_dim)
    try:
        space = str(ckpt.get("explorer_space", "joint"))
        policy_dim = int(ckpt.get("policy_act_dim", act_dim))
        explorer = Explorer(obs_dim, policy_dim, SACConfig(**ckpt["sac_config"]), seed=seed)
        explorer.load(int(ckpt.get("weight_version", 1)), ckpt["actor"])
        if space == "command":
            return command_explorer(explorer)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
        raise UserError(
            f"{path} is a checkpoint, but its explorer cannot be loaded "
            f"({type(e).__name__}: {first})"
        ) from None
    return explorer


def command_explorer(policy: Explorer, env: object | None = None) -> CommandExplorer:
    """Wrap a 6-D policy as a Command-space explorer driving ``env``'s door (a new one if None)."""
    import sim
    from learner.explorer import CommandExplorer
    from teleop.command_space import CommandController
    from teleop.mapper import CommandMapper

    door = env if env is not None else sim.make_door()
    return CommandExplorer(policy, CommandController(CommandMapper.for_env(door)))


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints of a run."""
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
