"""An example user guide: ``python launch.py train --guide docs/examples/my_guide.py:make_guide``.

A user guide is any Python callable named as ``FILE.py:NAME`` (or ``package.module:NAME``) that
is one of:

* a factory with no required arguments returning a guide (an object with ``reset(obs)`` and
  ``act(obs) -> action``) or a function ``obs -> action``;
* a function ``obs -> action`` itself.

``obs`` is the door's 39-D observation (indices in ``sim/door.py``); the action is 28 floats
in [-1, 1] (out-of-range values are clipped, NaN stops the run). Before a run starts the guide
plays one test episode; a broken guide stops the command with one line and exit code 2.

This file shows both forms:

* ``make_guide``: the scripted controller (which drives the hand through the same Command
  mapper as the keyboard), made sloppier so it opens the door only some of the time, like a
  "medium" guide in the JSRL paper;
* ``open_hand``: a function that holds the arm at mid-range and opens the fingers (it never
  opens the door; a template for your own controller).
"""

from __future__ import annotations

import numpy as np

import sim
from guides.scripted import ScriptedConfig, ScriptedGuide
from sim.door import ACT_DIM
from teleop.mapper import CommandMapper


class SloppyScripted:
    """The scripted guide at a lower skill: command noise and a grasp-point error."""

    kind = "sloppy-scripted"

    def __init__(self, skill: float = 0.7, seed: int = 0) -> None:
        model = sim.make_door().unwrapped.model  # the door's MuJoCo model, for the mapper
        self.inner = ScriptedGuide(CommandMapper(model), ScriptedConfig(skill=skill, seed=seed))

    def reset(self, obs: np.ndarray) -> None:
        """Start an episode."""
        self.inner.reset(obs)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The scripted guide's action for ``obs``."""
        return self.inner.act(obs)


def make_guide() -> SloppyScripted:
    """Factory named on the command line: ``docs/examples/my_guide.py:make_guide``."""
    return SloppyScripted(skill=0.7)


def open_hand(obs: np.ndarray) -> np.ndarray:
    """A bare ``obs -> action`` function: arm and wrist at mid-range, fingers open."""
    del obs  # a real controller reads it: obs[29:32] palm, obs[32:35] handle, obs[28] hinge
    action = np.zeros(ACT_DIM, dtype=np.float32)  # 0 = the middle of each actuator's range
    action[6:] = -1.0  # finger joints at the low (open) end of their ranges
    return action
