"""Checkpoints: atomic saves, a checksum, a format tag and shape checks, a run's latest file.

A checkpoint is one ``torch.save`` file (loaded with ``weights_only=True``, so it cannot run
code) holding a dict: the format tag, the obs/action sizes, the SAC settings, the networks and
optimizers, the curriculum state, counters and RNG states. Its SHA-256 sits beside it in
``step_*.pt.sha256``. Files are written to a temporary name and moved into place with
``os.replace``, so a crash mid-save never leaves a torn file. Anything that is not such a
checkpoint, a damaged one, or one for other shapes, raises a :class:`~sim.errors.UserError`
that says so; :func:`load_resumable` falls back to an older checkpoint of the run.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from learner.atomic import atomic_write
from sim.errors import UserError

if TYPE_CHECKING:
    from learner.explorer import CommandExplorer, Explorer

FORMAT = "jumpstart-teleop/checkpoint"
"""The tag every checkpoint carries under ``"format"``."""

FORMAT_VERSION = 1
"""Bumped when the layout changes incompatibly."""

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
"""Checkpoints live in ``RUN_DIR/checkpoints``."""

_NAME = re.compile(r"^step_(\d+)\.pt$")


def checkpoint_name(env_steps: int) -> str:
    """File name of the checkpoint taken after ``env_steps`` env steps."""
    return f"step_{env_steps:09d}.pt"


def checksum_path(path: Path) -> Path:
    """The SHA-256 file that sits beside a checkpoint (``step_*.pt.sha256``)."""
    return path.with_name(path.name + ".sha256")


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus the format tag) to ``path`` atomically, with its checksum.

    The bytes go to a temporary file (fsynced) renamed into place, then their SHA-256 to
    ``path.sha256`` the same way: a crash at any moment leaves either no new checkpoint or a
    whole one, and a later flipped byte is caught by :func:`load_checkpoint`.

    Raises:
        UserError: The file cannot be written (disk full, read-only): nothing is left behind.

    """
    path = Path(path)
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **payload}, buffer)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest().encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A checkpoint without its sidecar loads unchecked; one with a stale sidecar would look
        # damaged: so the old sidecar goes first and the new one comes after the file.
        checksum_path(path).unlink(missing_ok=True)
        atomic_write(path, lambda tmp: tmp.write_bytes(data), sync=True)
        atomic_write(checksum_path(path), lambda tmp: tmp.write_bytes(digest), sync=True)
    except OSError as e:
        raise UserError(
            f"cannot save the checkpoint {path}: {e.strerror or e} (free some space or make "
            "the run directory writable; the recordings so far are safe)"
        ) from None
    return path


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
        data = path.read_bytes()
        _check_sum(path, data)
        ckpt = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except UserError:
        raise
    except Exception as e:
        raise UserError(f"{path} is not a readable checkpoint ({_why_unreadable(e)})") from None
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


def _why_unreadable(e: Exception) -> str:
    """One short reason a file did not load as weights (torch's own text is pages long)."""
    text = str(e).strip()
    if "Weights only load failed" in text or type(e).__name__ == "UnpicklingError":
        return "torch cannot load it as plain weights: not a file torch.save wrote, or damaged"
    first = text.splitlines()[0] if text else type(e).__name__
    return first[:200]


def _check_sum(path: Path, data: bytes) -> None:
    """Compare ``data`` with the checkpoint's SHA-256 file (none: an older checkpoint, ok)."""
    sidecar = checksum_path(path)
    if not sidecar.exists():
        return
    want = sidecar.read_text().strip()
    if hashlib.sha256(data).hexdigest() != want:
        raise UserError(
            f"{path} is damaged: its bytes do not match {sidecar.name} (a disk or copy error)"
        )


def load_resumable(
    run_dir: Path, *, obs_dim: int | None = None, act_dim: int | None = None
) -> dict[str, Any]:
    """The run's newest checkpoint that loads; older ones stand in for a damaged newest one.

    A fallback resumes from an earlier point: the session then counts the episodes the
    dataset committed after it (nothing is played twice or lost).

    Raises:
        UserError: No checkpoint of the run loads (the newest one's error, and how many were
            tried).

    """
    found = list_checkpoints(run_dir)
    if not found:
        return load_checkpoint(run_dir, obs_dim=obs_dim, act_dim=act_dim)  # its message
    errors: list[str] = []
    for path in reversed(found):
        try:
            ckpt = load_checkpoint(path, obs_dim=obs_dim, act_dim=act_dim)
        except UserError as e:
            errors.append(str(e))
            log.warning("skipping a checkpoint that does not load: %s", e)
            continue
        if errors:
            log.warning("resuming from the older checkpoint %s", path.name)
        return ckpt
    more = f" (and {len(errors) - 1} older ones)" if len(errors) > 1 else ""
    raise UserError(f"no checkpoint of {run_dir} loads: {errors[0]}{more}")


def load_explorer(
    path: Path, *, obs_dim: int, act_dim: int, seed: int = 0
) -> Explorer | CommandExplorer:
    """The checkpoint's explorer, ready to act with 28-D actions (``eval``, the policy guide).

    A Command-space checkpoint (``explorer_space: command``) comes back as a
    :class:`~learner.explorer.CommandExplorer` with its own mapper.
    """
    from learner.config import SACConfig, saved_sac_settings
    from learner.explorer import Explorer

    ckpt = load_checkpoint(path, obs_dim=obs_dim, act_dim=act_dim)
    try:
        space = str(ckpt.get("explorer_space", "joint"))
        policy_dim = int(ckpt.get("policy_act_dim", act_dim))
        explorer = Explorer(
            obs_dim, policy_dim, SACConfig(**saved_sac_settings(ckpt["sac_config"])), seed=seed
        )
        explorer.load(int(ckpt.get("weight_version", 1)), ckpt["actor"])
        if space == "command":
            return command_explorer(explorer, speed=float(ckpt.get("explorer_speed", 1.0)))
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
        raise UserError(
            f"{path} is a checkpoint, but its explorer cannot be loaded "
            f"({type(e).__name__}: {first})"
        ) from None
    return explorer


def command_explorer(
    policy: Explorer, env: object | None = None, speed: float = 1.0
) -> CommandExplorer:
    """Wrap a 6-D policy as a Command-space explorer driving ``env``'s door (a new one if None).

    ``speed`` is the run's ``--explorer-speed`` (its controls relative to a person's).
    """
    import sim
    from learner.explorer import CommandExplorer
    from teleop.command_space import CommandController

    door = env if env is not None else sim.make_door()
    return CommandExplorer(policy, CommandController.for_env(door, speed))


def prune_checkpoints(run_dir: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints of a run."""
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
        checksum_path(old).unlink(missing_ok=True)
