"""The recording schema shared by the writer, the reader, the learner and the app.

``Actor`` (who chose a step's action) belongs to the episode layer; it is stored per step.
"""

from __future__ import annotations

from episode.types import Actor

NO_ACTOR = -1
"""``infos/actor[0]``: the reset observation was chosen by no one (see the README's schema)."""

FORMAT_NAME = "jumpstart-teleop/recordings"
"""Root attribute ``format`` of ``main_data.hdf5``: marks a file this package wrote."""

SCHEMA_VERSION = 1
"""Root attribute ``schema_version`` of ``main_data.hdf5``; bumped on incompatible changes."""

MINARI_VERSION = "0.5.4"
"""The Minari version whose on-disk layout the writer follows (``metadata.json``)."""

MAIN_FILE = "main_data.hdf5"
"""The HDF5 file inside ``DATASET/data/``."""

METADATA_FILE = "metadata.json"
"""The Minari metadata inside ``DATASET/data/``."""

INFO_KEYS: dict[str, str] = {"actor": "int8", "h": "int32", "success": "bool"}
"""Per-step ``infos/KEY`` datasets (T + 1 entries each, like Minari's) and their dtypes."""

COMMAND_KEY = "command"
"""Optional per-step ``infos/command`` (T + 1, 6) float32: the step as a teleop Command vector
(palm velocity xyz, twist, wrist, grasp, in a person's units: +-1 is 2 m/s, 6 rad/s, 3 rad/s,
grasp open/closed; issued by the actor, or the label that best explains a 28-D action; an
explorer trained with ``--explorer-speed`` above 1 may exceed 1 in the rates); row 0 (the
reset) is NaN. Datasets written before it lack it."""

COMMAND_DIM = 6
"""Entries of a Command vector."""

EPISODE_ATTRS: tuple[str, ...] = (
    "id",
    "total_steps",
    "h",
    "guide_kind",
    "weight_version",
    "rewards_sum",
    "success",
)
"""Attributes every episode group carries (``seed`` too, unless the episode had none; newer
episodes also ``ever_opened``). ``success`` is D4RL's rule: the door open for >= 25 steps."""

STEP_KEYS: tuple[str, ...] = ("actions", "rewards", "terminations", "truncations")
"""Per-step datasets with T entries; ``observations`` has T + 1."""

__all__ = ["Actor"]
