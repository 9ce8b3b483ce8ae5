"""One episode in memory and as an HDF5 group (Minari's layout plus our infos and attributes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from recordings.schema import (
    COMMAND_DIM,
    COMMAND_KEY,
    EPISODE_ATTRS,
    INFO_KEYS,
    NO_ACTOR,
    STEP_KEYS,
)
from sim.door import episode_success, normalized_score

STEP_DTYPES: dict[str, str] = {"rewards": "float64", "terminations": "bool", "truncations": "bool"}
"""Dtypes of the per-step datasets (observations and actions follow their spaces)."""


@dataclass(frozen=True)
class Episode:
    """One recorded episode, arrays as stored (Minari's convention).

    ``observations`` and every ``infos[KEY]`` have T + 1 rows: row 0 belongs to the reset
    observation, row t + 1 to the step that took ``actions[t]``. The per-step views
    (:attr:`actor`, :attr:`step_h`, :attr:`step_success`) drop row 0 so they line up with
    ``actions``.
    """

    id: int
    """Episode index in the dataset (the group is ``episode_{id}``)."""
    observations: np.ndarray
    """(T + 1, obs_dim)."""
    actions: np.ndarray
    """(T, act_dim), after the sanitizer: what the env was given."""
    rewards: np.ndarray
    """(T,) float64."""
    terminations: np.ndarray
    """(T,) bool."""
    truncations: np.ndarray
    """(T,) bool."""
    infos: dict[str, np.ndarray]
    """``actor`` (int8), ``h`` (int32), ``success`` (bool); T + 1 rows each."""
    attrs: dict[str, Any] = field(default_factory=dict)
    """Group attributes: id, total_steps, seed, h, guide_kind, weight_version, ...."""

    def __len__(self) -> int:
        return len(self.rewards)

    @property
    def actor(self) -> np.ndarray:
        """(T,) int8: who chose ``actions[t]`` (:class:`recordings.schema.Actor`)."""
        return self.infos["actor"][1:]

    @property
    def step_h(self) -> np.ndarray:
        """(T,) int32: the guide horizon in force at step t."""
        return self.infos["h"][1:]

    @property
    def step_success(self) -> np.ndarray:
        """(T,) bool: the door was open after step t."""
        return self.infos["success"][1:]

    @property
    def commands(self) -> np.ndarray | None:
        """(T, 6) float32: each step as a Command vector, or None (recorded before them)."""
        command = self.infos.get(COMMAND_KEY)
        return None if command is None else command[1:]

    @property
    def seed(self) -> int | None:
        """The reset seed, or None if the episode was reset without one."""
        seed = self.attrs.get("seed")
        return None if seed is None else int(seed)

    @property
    def h(self) -> int:
        """The episode's guide horizon."""
        return int(self.attrs["h"])

    @property
    def guide_kind(self) -> str:
        """The guide's kind (``human``, ``scripted``, ...)."""
        return str(self.attrs["guide_kind"])

    @property
    def weight_version(self) -> int:
        """The explorer's weight version during the episode."""
        return int(self.attrs["weight_version"])

    @property
    def episode_return(self) -> float:
        """Sum of rewards."""
        return float(self.rewards.sum())

    @property
    def normalized_score(self) -> float:
        """``100 * (1 + return / 200)``: percent of steps with the door open."""
        return normalized_score(self.episode_return)

    @property
    def success(self) -> bool:
        """D4RL's success: the door open for >= 25 steps (:func:`sim.door.episode_success`)."""
        return episode_success(int(np.count_nonzero(self.step_success)))

    @property
    def ever_opened(self) -> bool:
        """Whether the door was open after at least one step."""
        return bool(self.step_success.any())


def make_attrs(
    episode_id: int, rewards: np.ndarray, success: np.ndarray, meta: dict[str, Any]
) -> dict[str, Any]:
    """Build an episode's attributes from its arrays and ``meta`` (seed, h, guide_kind, ...)."""
    attrs: dict[str, Any] = {
        "id": int(episode_id),
        "total_steps": len(rewards),
        "h": int(meta["h"]),
        "guide_kind": str(meta["guide_kind"]),
        "weight_version": int(meta["weight_version"]),
        "rewards_sum": float(rewards.sum()),
        "success": episode_success(int(np.count_nonzero(success))),
        "ever_opened": bool(success.any()),
    }
    if meta.get("seed") is not None:
        attrs["seed"] = int(meta["seed"])
    return attrs


def write_episode(file: h5py.File, ep: Episode) -> None:
    """Write ``ep`` as group ``episode_{id}`` in the layout of Minari's HDF5 storage."""
    group = file.create_group(f"episode_{ep.id}")
    _dataset(group, "observations", ep.observations)
    _dataset(group, "actions", ep.actions)
    for key in ("rewards", "terminations", "truncations"):
        _dataset(group, key, getattr(ep, key))
    infos = group.create_group("infos")
    for key, value in ep.infos.items():
        _dataset(infos, key, value)
    group.attrs.update(ep.attrs)  # last: a group with its attributes is a whole episode


def _dataset(group: h5py.Group, name: str, data: np.ndarray) -> None:
    # Contiguous (Minari's own writer chunks them to allow resizing, which an ended episode
    # never needs): ~20 % smaller and faster; readers, Minari included, see no difference.
    group.create_dataset(name, data=data)


def read_episode(file: h5py.File, episode_id: int) -> Episode:
    """Read group ``episode_{episode_id}`` (assumes :func:`group_problems` found none)."""
    group = file[f"episode_{episode_id}"]
    attrs = {k: _plain(v) for k, v in group.attrs.items()}
    return Episode(
        id=episode_id,
        observations=group["observations"][()],
        actions=group["actions"][()],
        rewards=group["rewards"][()],
        terminations=group["terminations"][()],
        truncations=group["truncations"][()],
        infos={k: group["infos"][k][()] for k in (*INFO_KEYS, COMMAND_KEY) if k in group["infos"]},
        attrs=attrs,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def group_problems(
    group: Any,
    name: str,
    obs_shape: tuple[int, ...],
    act_shape: tuple[int, ...],
    *,
    deep: bool = True,
) -> list[str]:
    """Say what is wrong with one episode group (empty list: it is sound).

    Args:
        group: ``file[name]`` (anything: the file may be foreign).
        name: The group's name, for messages.
        obs_shape: One observation's shape (from the dataset's observation space).
        act_shape: One action's shape.
        deep: Also read the values (finite, actors in the schema); False checks only the
            structure and shapes, which costs no data reads.

    """
    if not isinstance(group, h5py.Group):
        return [f"{name} is not a group"]
    missing = [
        k for k in ("observations", *STEP_KEYS) if not isinstance(group.get(k), h5py.Dataset)
    ]
    infos = group.get("infos")
    if not isinstance(infos, h5py.Group):
        missing.append("infos")
    else:
        missing += [f"infos/{k}" for k in INFO_KEYS if not isinstance(infos.get(k), h5py.Dataset)]
    missing += [f"attribute {a}" for a in EPISODE_ATTRS if a not in group.attrs]
    if missing:
        return [f"{name} lacks {', '.join(missing)}"]
    steps = group["rewards"].shape[0] if group["rewards"].ndim == 1 else -1
    want = {
        "observations": (steps + 1, *obs_shape),
        "actions": (steps, *act_shape),
        **{k: (steps,) for k in STEP_DTYPES},
        **{f"infos/{k}": (steps + 1,) for k in INFO_KEYS},
    }
    if COMMAND_KEY in infos:
        want[f"infos/{COMMAND_KEY}"] = (steps + 1, COMMAND_DIM)
    problems = [
        f"{name}/{k} has shape {group[k].shape}, expected {shape}"
        for k, shape in want.items()
        if group[k].shape != shape
    ]
    if steps < 1:
        problems.append(f"{name} has no steps (rewards shape {group['rewards'].shape})")
    if problems or not deep:
        return problems
    return _value_problems(group, name, steps)


def _value_problems(group: h5py.Group, name: str, steps: int) -> list[str]:
    problems = []
    if int(group.attrs["total_steps"]) != steps:
        problems.append(
            f"{name} attribute total_steps={group.attrs['total_steps']} but {steps} steps"
        )
    actor = group["infos/actor"][()]
    valid = {NO_ACTOR, 0, 1, 2}
    if int(actor[0]) != NO_ACTOR or not set(np.unique(actor[1:]).tolist()) <= valid - {NO_ACTOR}:
        problems.append(f"{name}/infos/actor has values outside the schema: {np.unique(actor)}")
    for key in ("observations", "actions", "rewards"):
        if not np.all(np.isfinite(group[key][()])):
            problems.append(f"{name}/{key} has NaN or inf entries")
    return problems
