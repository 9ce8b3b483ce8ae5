"""Which recorded steps the imitation guide clones, and a dataset's fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from episode.guide import GuideError
from episode.types import Actor
from guides.imitation.guide import ImitationConfig, ImitationGuide
from recordings.schema import MAIN_FILE, METADATA_FILE
from sim.door import ACT_DIM, OBS_DIM
from sim.errors import UserError
from teleop.command_space import COMMAND_DIM


def demo_arrays(
    episodes: Iterable[Any], config: ImitationConfig
) -> tuple[np.ndarray, np.ndarray, int, tuple[str, ...]]:
    """Select the (obs, action) pairs to clone from recorded episodes.

    Keeps the steps of ``config.actors``; never the guide steps of an episode that an
    imitation guide itself guided (it would learn its own mistakes); with
    ``config.only_successful``, only episodes in which the door opened. The actions are the
    recorded Command vectors (6-D) in Command space (``config.space``; ``auto`` when every kept
    episode has them), else the 28-D actions.

    Args:
        episodes: :class:`recordings.episode.Episode` s (``recordings.reader.iter_episodes``).
        config: Which actors and episodes to keep.

    Returns:
        obs, actions, the number of episodes they come from, and notes for the user.

    Raises:
        GuideError: ``config.space`` is ``command`` and a kept episode has no Commands.

    """
    wanted = [int(a) for a in config.actor_set()]
    parts: list[tuple[np.ndarray, np.ndarray, bool, np.ndarray | None]] = []
    for ep in episodes:
        actor = np.asarray(ep.actor)
        keep = np.isin(actor, wanted)
        kind = ep.attrs.get("guide_kind", "")
        if (kind.decode() if isinstance(kind, bytes) else str(kind)) == ImitationGuide.kind:
            keep &= actor != int(Actor.GUIDE)
        if keep.any():
            obs = np.asarray(ep.observations[:-1])[keep]
            commands = ep.commands
            said = None if commands is None else np.asarray(commands)[keep]
            if said is not None and not np.isfinite(said).all():
                said = None  # a step without a Command (a 28-D actor's, unlabelled)
            parts.append((obs, np.asarray(ep.actions)[keep], bool(np.any(ep.step_success)), said))
    notes: list[str] = []
    if config.only_successful and parts:
        won = [p for p in parts if p[2]]
        if won:
            parts = won
        else:
            notes.append("no episode opened the door: cloning all of them")
    commands = _in_command_space(parts, config)
    dim = COMMAND_DIM if commands else ACT_DIM
    if not parts:
        empty = np.zeros((0, OBS_DIM), np.float32), np.zeros((0, dim), np.float32)
        return *empty, 0, tuple(notes)
    obs = np.concatenate([p[0] for p in parts]).astype(np.float32)
    actions = np.concatenate([p[3] if commands else p[1] for p in parts]).astype(np.float32)
    return obs, actions, len(parts), tuple(notes)


def _in_command_space(
    parts: list[tuple[Any, Any, bool, np.ndarray | None]], config: ImitationConfig
) -> bool:
    """Whether to clone Commands: asked for, or ``auto`` and every kept episode has them."""
    have = [p[3] is not None for p in parts]
    if config.space == "joint":
        return False
    if config.space == "command" and not all(have):
        raise GuideError(
            f"imitation guide: {have.count(False)} of {len(have)} episodes to clone recorded no "
            "Commands; clone their 28-D actions instead (ImitationConfig.space='joint')"
        )
    return all(have) if config.space == "auto" else True


def read_demos(
    dataset: Path | str, config: ImitationConfig
) -> tuple[np.ndarray, np.ndarray, int, tuple[str, ...]]:
    """:func:`demo_arrays` of every episode of ``dataset``.

    Raises:
        GuideError: The dataset cannot be read.

    """
    from recordings.reader import iter_episodes

    try:
        return demo_arrays(iter_episodes(dataset), config)
    except UserError as e:
        raise GuideError(f"imitation guide: {e}") from None


def dataset_fingerprint(dataset: Path) -> str:
    """A digest of the dataset's state: size and mtime of the HDF5 file, the metadata's bytes.

    Raises:
        GuideError: ``dataset`` is not a dataset directory.

    """
    data = Path(dataset) / "data"
    main, meta = data / MAIN_FILE, data / METADATA_FILE
    if not main.is_file():
        raise GuideError(
            f"imitation guide: {dataset} is not a dataset (no data/{MAIN_FILE}); record one "
            "with: python launch.py collect --out DATASET"
        )
    st = main.stat()
    meta_digest = hashlib.sha256(meta.read_bytes()).hexdigest() if meta.is_file() else "none"
    text = json.dumps([st.st_size, st.st_mtime_ns, meta_digest])
    return hashlib.sha256(text.encode()).hexdigest()
