"""Creating a dataset, opening one to append, and its Minari ``metadata.json``."""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import h5py
import numpy as np

from recordings import provenance
from recordings.layout import (
    DatasetPaths,
    deserialize_space,
    make_temp,
    serialize_space,
    write_metadata,
)
from recordings.schema import FORMAT_NAME, MINARI_VERSION, SCHEMA_VERSION

ALGORITHM_NAME = "jumpstart-teleop"
"""``metadata.json`` ``algorithm_name``."""


@dataclass
class DatasetState:
    """What a writer needs to know about the dataset it opened."""

    observation_space: gym.spaces.Box
    """The dataset's observation space."""
    action_space: gym.spaces.Box
    """The dataset's action space."""
    total_episodes: int = 0
    """Episodes already in the file."""
    total_steps: int = 0
    """Steps already in the file."""
    created: bool = False
    """Whether the dataset was just created."""
    fixed: list[str] = field(default_factory=list)
    """Crash leftovers repaired on opening."""


REF_MIN_SCORE = -200.0
"""Minari's ``ref_min_score``: the return of an episode whose door never opens."""
REF_MAX_SCORE = 0.0
"""Minari's ``ref_max_score``: the best return (the door open from the first step)."""
REQUIREMENTS = ("jumpstart-teleop", "gymnasium-robotics==1.4.2", "mujoco==4.0.0")
"""What ``minari.load_dataset(...).recover_environment()`` needs installed (Minari's
``requirements``): the project registers the env, Gymnasium-Robotics has its physics."""


def root_attrs(
    paths: DatasetPaths,
    spaces: tuple[gym.spaces.Box, gym.spaces.Box],
    env_id: str,
    author: str | None,
    author_email: str | None = None,
) -> dict[str, Any]:
    """The root attributes of a new ``main_data.hdf5``: enough to rebuild ``metadata.json``.

    The code's permalink and the author's e-mail are looked up here, once
    (:mod:`recordings.provenance`); an e-mail that cannot be found is left out.
    """
    attrs: dict[str, Any] = {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "env_id": env_id,
        "dataset_id": paths.name,
        "observation_space": serialize_space(spaces[0]),
        "action_space": serialize_space(spaces[1]),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    # an env spec that is not serializable is left out: Minari then uses the spaces alone
    with contextlib.suppress(gym.error.Error, TypeError, ValueError):
        attrs["env_spec"] = gym.spec(env_id).to_json()
    attrs["author"] = author or default_author()
    attrs["code_permalink"] = provenance.code_permalink()
    email = provenance.author_email(author_email)
    if email:
        attrs["author_email"] = email
    return attrs


def default_author() -> str:
    """The author of a dataset recorded without ``--author``: the OS user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return "unknown"


def build_metadata(
    attrs: dict[str, Any], name: str, episodes: int, steps: int, size_mb: float
) -> dict[str, Any]:
    """Minari's ``metadata.json`` from the root attributes and the counts."""
    meta: dict[str, Any] = {
        "dataset_id": name,
        "total_episodes": int(episodes),
        "total_steps": int(steps),
        "data_format": "hdf5",
        "jpeg_encoding": False,
        "observation_space": str(attrs["observation_space"]),
        "action_space": str(attrs["action_space"]),
        "minari_version": MINARI_VERSION,
        "algorithm_name": ALGORITHM_NAME,
        "description": (
            f"Jump-Start Teleop recording of {attrs['env_id']}: per-step infos actor "
            "(0 guide, 1 explorer, 2 human), h, success; per-episode attributes h, "
            "guide_kind, seed, weight_version."
        ),
        "dataset_size": size_mb,
        "jumpstart_schema_version": int(attrs["schema_version"]),
    }
    if "env_spec" in attrs:
        meta["env_spec"] = str(attrs["env_spec"])
    # The door-binary return is in [-200, 0]: minari.get_normalized_score(ds, returns) gives
    # our normalized score / 100 (the percent of steps with the door open).
    meta["ref_min_score"], meta["ref_max_score"] = REF_MIN_SCORE, REF_MAX_SCORE
    meta["requirements"] = list(REQUIREMENTS)
    for key in ("author", "author_email"):  # Minari reads both as sets
        if key in attrs:
            meta[key] = [str(attrs[key])]
    if "code_permalink" in attrs:
        meta["code_permalink"] = str(attrs["code_permalink"])
    return meta


def dataset_size_mb(paths: DatasetPaths) -> float:
    """Size of ``DATASET/data`` in MB, rounded as Minari's ``get_size`` does."""
    total = sum(p.stat().st_size for p in paths.data.glob("**/*") if p.is_file())
    return float(np.round(total / 1e6, 1))


def create_dataset(
    paths: DatasetPaths,
    spaces: tuple[gym.spaces.Box, gym.spaces.Box],
    env_id: str,
    author: str | None,
    author_email: str | None = None,
) -> DatasetState:
    """Create an empty dataset: ``main_data.hdf5`` first (atomically), then ``metadata.json``."""
    paths.data.mkdir(parents=True, exist_ok=True)
    attrs = root_attrs(paths, spaces, env_id, author, author_email)
    fd, tmp = make_temp(paths.main)
    os.close(fd)
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            f.attrs.update(attrs)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, paths.main)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    write_metadata(paths, build_metadata(attrs, paths.name, 0, 0, dataset_size_mb(paths)))
    return DatasetState(spaces[0], spaces[1], created=True)


def read_root_attrs(file: h5py.File) -> dict[str, Any]:
    """Root attributes as plain Python values."""
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in file.attrs.items()}


def spaces_from_attrs(attrs: dict[str, Any]) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    """Deserialize the observation and action spaces stored in the root attributes."""
    return (
        deserialize_space(str(attrs["observation_space"])),
        deserialize_space(str(attrs["action_space"])),
    )


def spaces_equal(a: str, b: str) -> bool:
    """Whether two serialized spaces describe the same space."""
    try:
        return json.loads(a) == json.loads(b)
    except (TypeError, ValueError):
        return False
