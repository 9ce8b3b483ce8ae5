"""The door's Gymnasium id and its registration: cheap (Gymnasium only, no MuJoCo).

``import sim`` registers the id, so ``gymnasium.make("JumpStart/DoorBinary-v0")`` works after
it (and ``gymnasium.make("sim:JumpStart/DoorBinary-v0")`` imports it first by itself); the
physics module :mod:`sim.door` is imported when the env is made.
"""

from __future__ import annotations

import gymnasium as gym

ENV_ID = "JumpStart/DoorBinary-v0"
"""The registered Gymnasium id of the door with the binary reward."""

EPISODE_STEPS = 200
"""Steps per episode (dt = 0.01 s each, so 2 s of simulated time)."""


def register() -> None:
    """Register ``JumpStart/DoorBinary-v0`` (idempotent)."""
    if ENV_ID not in gym.registry:
        gym.register(
            id=ENV_ID,
            entry_point="sim.door:DoorBinaryEnv",
            max_episode_steps=EPISODE_STEPS,
        )


__all__ = ["ENV_ID", "EPISODE_STEPS", "register"]
