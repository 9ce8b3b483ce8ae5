"""The door: a registered Gymnasium env with the D4RL door-binary reward, and its renderer.

Importing this package registers ``JumpStart/DoorBinary-v0``.
"""

from sim.door import (
    ACT_DIM,
    ENV_ID,
    EPISODE_STEPS,
    OBS_DIM,
    SUCCESS_HINGE_ANGLE,
    DoorBinaryEnv,
    make_door,
    normalized_score,
    register,
)
from sim.errors import UserError

register()

__all__ = [
    "ACT_DIM",
    "ENV_ID",
    "EPISODE_STEPS",
    "OBS_DIM",
    "SUCCESS_HINGE_ANGLE",
    "DoorBinaryEnv",
    "UserError",
    "make_door",
    "normalized_score",
    "register",
]
