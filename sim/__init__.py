"""The door: a registered Gymnasium env with the D4RL door-binary reward, and its renderer.

``import sim`` registers ``JumpStart/DoorBinary-v0`` with Gymnasium (:mod:`sim.registration`),
so ``gymnasium.make("JumpStart/DoorBinary-v0")`` works after it. The door module itself is
loaded lazily, on the first use of ``sim.make_door``, ``sim.OBS_DIM``, ..., so cheap imports
such as :mod:`sim.errors` (used by every CLI config) do not pull in MuJoCo and
Gymnasium-Robotics: ``launch.py --help`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import Any

from sim.errors import UserError
from sim.registration import ENV_ID, EPISODE_STEPS, register

register()

_DOOR_NAMES = (
    "ACT_DIM",
    "OBS_DIM",
    "SUCCESS_HINGE_ANGLE",
    "SUCCESS_OPEN_STEPS",
    "DoorBinaryEnv",
    "episode_success",
    "make_door",
    "normalized_score",
)

__all__ = [*_DOOR_NAMES, "ENV_ID", "EPISODE_STEPS", "UserError", "register"]


def __getattr__(name: str) -> Any:
    if name in _DOOR_NAMES:
        return getattr(importlib.import_module("sim.door"), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
