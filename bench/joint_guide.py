"""A 28-D guide for the learning benchmark, given to ``train`` as a user's callable.

``python launch.py train --guide bench/joint_guide.py:make`` loads it the way a user's own
guide is loaded. It acts in the 28 joint targets, not in Commands: the scripted controller at
medium skill, with its own per-joint noise added to every action, so no Command reproduces its
actions exactly and the learner must label its steps (``teleop.command_space.CommandLabeler``)
to feed a Command-space explorer. It exposes no ``command_vector``: to the product it is any
user's 28-D guide.
"""

from __future__ import annotations

import numpy as np

import sim
from guides.scripted import ScriptedConfig, ScriptedGuide
from teleop.mapper import CommandMapper

JOINT_NOISE = 0.05
"""Standard deviation of the per-joint noise (action units) added to every step."""


class JointSpaceGuide:
    """Scripted skill-0.5 actions plus independent joint noise, as plain (28,) arrays."""

    kind = "joint-scripted"

    def __init__(self, skill: float = 0.5, seed: int = 0) -> None:
        model = sim.make_door().unwrapped.model
        self._inner = ScriptedGuide(CommandMapper(model), ScriptedConfig(skill=skill, seed=seed))
        self._rng = np.random.default_rng(seed)

    def reset(self, obs: np.ndarray) -> None:
        """Start an episode."""
        self._inner.reset(obs)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The (28,) action for ``obs``."""
        action = self._inner.act(obs) + self._rng.normal(0.0, JOINT_NOISE, sim.ACT_DIM)
        return np.clip(action, -1.0, 1.0).astype(np.float32)


def make() -> JointSpaceGuide:
    """The factory ``--guide bench/joint_guide.py:make`` names."""
    return JointSpaceGuide()
