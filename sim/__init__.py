"""The door: a registered Gymnasium env with the D4RL door-binary reward, and its renderer.

``JumpStart/DoorBinary-v0`` is registered when :mod:`sim.door` is first imported, which
any use of ``sim.ENV_ID``, ``sim.make_door``, ... does. The door module is loaded lazily so cheap
imports such as :mod:`sim.errors` (used by every CLI config) do not pull in MuJoCo and
Gymnasium-Robotics: ``launch.py --help`` stays instant.
"""

from __future__ import annotations

import importlib
from typing import Any

from sim.errors import UserError

_DOOR_NAMES = (
    "ACT_DIM",
    "ENV_ID",
    "EPISODE_STEPS",
    "OBS_DIM",
    "SUCCESS_HINGE_ANGLE",
    "SUCCESS_OPEN_STEPS",
    "DoorBinaryEnv",
    "episode_success",
    "make_door",
    "normalized_score",
    "register",
)

__all__ = [*_DOOR_NAMES, "UserError"]


def __getattr__(name: str) -> Any:
    if name in _DOOR_NAMES:
        door = importlib.import_module("sim.door")
        door.register()
        return getattr(door, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
