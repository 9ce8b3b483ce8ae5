"""Datasets Minari wrote (not this project): read through Minari's own reader.

A dataset made by ``minari.create_dataset_from_buffers``, a ``DataCollector``, ``minari
combine`` (of our recordings too) or a download of the same door is a Minari dataset without
our format tag. Where its spaces fit the door (39-D observations, 28-D actions) its episodes
come back as :class:`~recordings.episode.Episode` s, so ``recordings info``, ``train
--offline-data``, ``--guide imitation:`` and ``replay`` take it:

- every step counts as the guide's (``Actor.GUIDE``: someone else's demonstration) unless the
  dataset has our ``infos/actor``;
- ``success`` is ``infos/success`` when recorded, else the door-binary reward's (0 = open);
- the reward is the door-binary one, ``success - 1`` (a dense Adroit reward is replaced);
- ``h`` is the episode's length (the guide acted throughout); ``guide_kind`` is ``minari``
  unless the episode says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import h5py
import numpy as np

from episode.types import Actor
from recordings.episode import Episode
from recordings.layout import DatasetPaths
from recordings.schema import FORMAT_NAME
from recordings.summary import DatasetSummary, Tally
from sim.errors import UserError

FOREIGN_KIND = "minari"
"""``guide_kind`` of an episode from a dataset Minari wrote."""


def is_foreign(paths: DatasetPaths) -> bool:
    """A Minari dataset (``metadata.json`` and ``main_data.hdf5``) without our format tag."""
    if not (paths.main.is_file() and paths.metadata.is_file()):
        return False
    try:
        with h5py.File(paths.main, "r") as f:
            return f.attrs.get("format") != FORMAT_NAME and _is_minari(paths)
    except OSError:
        return False  # not HDF5: our own reader says what is wrong with it


def _is_minari(paths: DatasetPaths) -> bool:
    try:
        meta = json.loads(paths.metadata.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and "dataset_id" in meta and "total_episodes" in meta


def _dataset(paths: DatasetPaths) -> Any:
    """Minari's dataset object, its spaces checked against the door's."""
    import minari

    from sim.door import ACT_DIM, OBS_DIM

    try:
        ds = minari.MinariDataset(paths.data)
    except Exception as e:  # Minari's own errors: one line
        raise UserError(f"{paths.dataset}: Minari cannot read it ({e})") from None
    obs, act = ds.observation_space, ds.action_space
    if getattr(obs, "shape", None) != (OBS_DIM,) or getattr(act, "shape", None) != (ACT_DIM,):
        raise UserError(
            f"{paths.dataset} is a Minari dataset of another task: observations "
            f"{getattr(obs, 'shape', obs)}, actions {getattr(act, 'shape', act)}; the door has "
            f"({OBS_DIM},) and ({ACT_DIM},)"
        )
    return ds


def foreign_count(paths: DatasetPaths) -> int:
    """Episodes in a dataset Minari wrote."""
    return int(_dataset(paths).total_episodes)


def foreign_episodes(paths: DatasetPaths, ids: Iterable[int] | None = None) -> Iterator[Episode]:
    """The episodes of a dataset Minari wrote, as ours (see the module docstring)."""
    ds = _dataset(paths)
    indices = list(range(ds.total_episodes) if ids is None else ids)
    for i in indices:
        if not 0 <= i < ds.total_episodes:
            raise UserError(f"{paths.dataset} has episodes 0..{ds.total_episodes - 1}, not {i}")
    try:
        for i, data in zip(indices, ds.iterate_episodes(indices), strict=True):
            yield _convert(i, data)
    except (KeyError, OSError, ValueError, TypeError) as e:  # a damaged or odd file
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise UserError(
            f"{paths.dataset} is not a Jump-Start Teleop recording, and Minari cannot read it "
            f"either ({first})"
        ) from None


def _convert(i: int, data: Any) -> Episode:
    """One Minari ``EpisodeData`` as our Episode (binary reward, guide steps)."""
    n = len(data.actions)
    infos = dict(data.infos or {})
    success = _rows(infos.get("success"), n)
    if success is None:  # no flag: the door-binary reward says it (0 once open)
        success = np.concatenate([[False], np.asarray(data.rewards) >= 0.0])
    success = success.astype(bool)
    actor = _rows(infos.get("actor"), n)
    if actor is None:
        actor = np.full(n + 1, int(Actor.GUIDE), dtype=np.int8)
    return Episode(
        id=i,
        observations=np.asarray(data.observations, dtype=np.float64),
        actions=np.asarray(data.actions, dtype=np.float32),
        rewards=success[1:].astype(np.float64) - 1.0,
        terminations=np.asarray(data.terminations, dtype=bool),
        truncations=np.asarray(data.truncations, dtype=bool),
        infos={
            "actor": actor.astype(np.int8),
            "h": np.full(n + 1, n, np.int32),
            "success": success,
        },
        attrs={"id": i, "h": n, "guide_kind": FOREIGN_KIND, "weight_version": 0},
    )


def _rows(values: Any, n: int) -> np.ndarray | None:
    """Per-step infos as T + 1 rows (Minari's convention); T rows get a reset row in front."""
    if values is None:
        return None
    arr = np.asarray(values).reshape(-1)
    if len(arr) == n + 1:
        return arr
    if len(arr) == n:
        return np.concatenate([arr[:1] * 0, arr])
    return None


def foreign_summary(paths: DatasetPaths) -> DatasetSummary:
    """``recordings info`` of a dataset Minari wrote."""
    ds = _dataset(paths)
    tally = Tally(ds.action_space)
    for ep in foreign_episodes(paths):
        tally.add(ep.rewards, ep.step_success, ep.actions, ep.actor, ep.attrs)
    env_spec = getattr(ds.spec, "env_spec", None)
    summary = tally.summary(paths, str(getattr(env_spec, "id", None) or "?"))
    summary.notes.append("written by Minari, not by this project: every step counts as a guide's")
    return summary


__all__ = ["FOREIGN_KIND", "foreign_count", "foreign_episodes", "foreign_summary", "is_foreign"]
