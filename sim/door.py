"""The Adroit door with the D4RL door-binary reward, registered as ``JumpStart/DoorBinary-v0``.

Gymnasium-Robotics ``AdroitHandDoor-v1`` is the physics; this module only changes the reward
(its dense reward has a sign bug) to the binary ``success - 1`` of D4RL's door-binary, so an
episode's return is minus the number of steps with the door not yet open.
"""

from __future__ import annotations

from typing import Any, ClassVar

import farama_notifications
import gymnasium as gym
import numpy as np

# gymnasium_robotics prints a notice at import about the *dense* Adroit rewards; this env
# replaces the reward with the binary one, so the notice does not apply and would only
# clutter every command's stderr.
farama_notifications.notifications.pop("gymnasium_robotics", None)

from gymnasium_robotics.envs.adroit_hand.adroit_door import AdroitHandDoorEnv  # noqa: E402

from sim.registration import ENV_ID, EPISODE_STEPS, register  # noqa: E402

OBS_DIM = 39
"""Observation size: qpos[1:28], latch, hinge, palm xyz, handle xyz, palm - handle, open flag."""

ACT_DIM = 28
"""Action size: ARTz slide, 3 arm rotations, 2 wrist joints, 22 finger joints; each in [-1, 1]."""

SUCCESS_HINGE_ANGLE = 1.35
"""Hinge angle (rad) at and past which the door counts as open."""

SUCCESS_OPEN_STEPS = 25
"""D4RL's Adroit rule: an episode is a success when the door is open for at least this many
of its steps (``hand_manipulation_suite``'s ``evaluate_success``). The one definition of an
episode's success everywhere (evaluation, curriculum, plots, HUD, ``recordings info``)."""

# Indices into the 39-D observation, for code that reads it by meaning.
OBS_LATCH = 27
OBS_HINGE = 28
OBS_PALM = slice(29, 32)
OBS_HANDLE = slice(32, 35)
OBS_PALM_TO_HANDLE = slice(35, 38)
OBS_OPEN_FLAG = 38


class DoorBinaryEnv(AdroitHandDoorEnv):
    """``AdroitHandDoor-v1`` with reward ``success - 1`` and ``info["success"]`` as a bool.

    Everything else (observation, action, door randomization, rendering) is the base env's,
    except that it offers the offscreen render modes only: ``human`` opens a GLFW window that
    aborts the process where there is no display (``check_env`` tries every listed mode).
    """

    metadata: ClassVar[dict[str, Any]] = {
        **AdroitHandDoorEnv.metadata,
        "render_modes": ["rgb_array", "depth_array"],
    }

    def step(self, a: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Step the base env and replace its reward with the door-binary one."""
        obs, _, terminated, truncated, info = super().step(a)
        success = bool(info["success"])
        info["success"] = success
        return obs, float(success) - 1.0, terminated, truncated, info


def normalized_score(episode_return: float) -> float:
    """Percent of an episode's steps with the door open: ``100 * (1 + return / 200)``.

    Args:
        episode_return: Sum of door-binary rewards over a 200-step episode, in [-200, 0].

    """
    return 100.0 * (1.0 + float(episode_return) / EPISODE_STEPS)


def episode_success(open_steps: int) -> bool:
    """D4RL's Adroit success: the door was open for >= ``SUCCESS_OPEN_STEPS`` steps.

    Args:
        open_steps: Steps of the episode after which the door counted as open.

    """
    return int(open_steps) >= SUCCESS_OPEN_STEPS


EnvState = dict[str, np.ndarray]
"""The door's full physical state: ``qpos``, ``qvel`` and ``door_body_pos`` (the door's
randomized place), as ``AdroitHandDoorEnv.get_env_state`` returns it."""


def get_state(env: gym.Env) -> EnvState:
    """The door's physical state now (:data:`EnvState`), copied."""
    return {k: np.array(v, copy=True) for k, v in env.unwrapped.get_env_state().items()}  # type: ignore[attr-defined]


def restore(env: gym.Env, state: EnvState, *, t: int, seed: int | None = None) -> np.ndarray:
    """Reset ``env`` into ``state`` as it was after ``t`` steps of an episode.

    The physics continues exactly as from the saved episode (the base env's
    ``initial_state_dict`` reset option), and the time limit counts from ``t``, so the
    episode is truncated where the saved one was (after ``EPISODE_STEPS`` in all).

    Returns:
        The observation of the restored state (its site positions fresh: they can differ by
        about a millimetre from the saved episode's observation, which MuJoCo computes one
        integration step behind).

    Raises:
        ValueError: ``t`` is not in ``[0, EPISODE_STEPS)``.

    """
    if not 0 <= int(t) < EPISODE_STEPS:
        raise ValueError(f"restore: t must be in [0, {EPISODE_STEPS}), got {t}")
    obs, _ = env.reset(seed=seed, options={"initial_state_dict": state})
    limit: Any = env
    while limit is not None and not isinstance(limit, gym.wrappers.TimeLimit):
        limit = getattr(limit, "env", None)
    if limit is not None:
        setattr(limit, "_elapsed_steps", int(t))  # noqa: B010 (TimeLimit has no public setter)
    return np.asarray(obs)


def make_door(render_mode: str | None = None, **kwargs: Any) -> gym.Env:
    """Make the registered door env (200 steps, binary reward).

    Args:
        render_mode: Passed to the base env; the app renders with :mod:`sim.render` instead.
        **kwargs: Extra keyword arguments for ``gym.make``.

    """
    register()
    return gym.make(ENV_ID, render_mode=render_mode, **kwargs)


register()  # importing the door module registers its id
