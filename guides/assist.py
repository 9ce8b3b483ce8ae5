"""Task-frame help for a person: what keys are too coarse for, done along the door's geometry.

A person at a keyboard can reach the handle and close the hand; what defeats them is the
motion in the door's frame. :class:`HumanAssist` turns one device :class:`Command` into the
Command the mapper gets (the one recorded with the step):

- **twist** with the hand closed: the palm follows the lever's arc about the latch axis (as
  the scripted guide's does), and a forward twist stops by itself once the latch is free;
- **pull** (``Command.pull``, the F key / X button held): the handle moves along the door's
  arc about the hinge at the scripted guide's pull speed, the palm held on the lever and the
  wrist following the door; when the door would swing open by itself the hand lets go at
  once (a fling no key press is fast enough for; :attr:`HumanAssist.released` says so) and,
  while the key is still held, the palm follows the swinging door without braking it.

Everything else passes through unchanged.
"""

from __future__ import annotations

import numpy as np

from guides.scripted import (
    GAIN,
    PULL_SPEED,
    RELEASE_FOLLOW,
    RELEASE_LIFT,
    UNLATCHED,
    WRIST_FOLLOW,
    DoorView,
    door_will_open,
)
from teleop.command import Command

_Y = np.array([0.0, 1.0, 0.0])
_Z = np.array([0.0, 0.0, 1.0])
GRASPING = 0.5
"""Grasp level above which the hand counts as holding the lever."""
COAST_TO = 1.3
"""The pull lets go when the door would coast this far (rad) by itself (tuned with the virtual
human on seeds 1000+: holding on longer brakes the door more than it pushes it)."""


class HumanAssist:
    """Resolves a person's Command in the door's frame (see the module docstring).

    Args:
        dt: Control step (s): the door's speed comes from consecutive observations.

    """

    def __init__(self, dt: float) -> None:
        if not dt > 0.0:
            raise ValueError(f"dt must be > 0, got {dt!r}")
        self.dt = dt
        self.released = False
        """The last pull let the door go (the device's grasp toggle should open)."""
        self._grip: np.ndarray | None = None
        self._let_go = False
        self._hinge: float | None = None
        self._hinge_rate = 0.0

    def reset(self) -> None:
        """Forget the pull in progress and the door's speed (a new episode or takeover)."""
        self._grip, self._hinge, self._hinge_rate, self.released = None, None, 0.0, False
        self._let_go = False

    def __call__(self, command: Command, obs: np.ndarray) -> Command:
        """The Command for the mapper: ``command`` with twist and pull resolved."""
        v = DoorView.from_obs(obs)
        self._track_hinge(v.hinge)
        self.released = False
        holding = command.grasp >= GRASPING
        palm = np.asarray(command.palm_velocity, dtype=np.float64)
        twist, wrist, grasp = command.twist, command.wrist, command.grasp
        if twist > 0.0 and v.latch >= UNLATCHED:
            twist = 0.0  # the latch is free: turning further only strains the lever
        if not holding:
            self._grip = None
        elif twist != 0.0:  # the palm follows the lever's arc, held where it grips the lever
            arc = twist * np.cross(_Y, v.palm - v.latch_axis_point())
            palm = palm + arc + GAIN * (self._on_lever(v) - v.palm)
        if command.pull and self._let_go:  # the door swings: follow it, do not brake it
            palm, grasp = RELEASE_FOLLOW * self._tangent(v) + RELEASE_LIFT * _Z, 0.0
        elif command.pull and holding:
            palm, wrist = self._pull(v)
            if door_will_open(v.hinge, self._hinge_rate, coast_to=COAST_TO):
                grasp, self.released, self._let_go, self._grip = 0.0, True, True, None
        if not command.pull:
            self._let_go = False
        return Command(
            palm_velocity=(float(palm[0]), float(palm[1]), float(palm[2])),
            twist=twist,
            wrist=wrist,
            grasp=grasp,
            events=command.events,
        )

    def _on_lever(self, v: DoorView) -> np.ndarray:
        """Where the palm grips the lever, in the world (fixed on the lever since the grip)."""
        frame = v.lever_frame()
        if self._grip is None:  # taken when the closed hand first twists or pulls
            self._grip = frame.T @ (v.palm - v.handle)
        return v.handle + frame @ self._grip

    def _pull(self, v: DoorView) -> tuple[np.ndarray, float]:
        """Palm velocity along the door's arc, held on the lever; wrist following the door."""
        velocity = PULL_SPEED * self._tangent(v) + GAIN * (self._on_lever(v) - v.palm)
        return velocity, WRIST_FOLLOW * self._hinge_rate

    @staticmethod
    def _tangent(v: DoorView) -> np.ndarray:
        """Unit direction of the handle's motion as the door opens (about the hinge axis)."""
        tangent = np.cross(_Z, v.handle - v.hinge_point())
        return tangent / max(float(np.linalg.norm(tangent)), 1e-9)

    def _track_hinge(self, hinge: float) -> None:
        if self._hinge is not None:
            self._hinge_rate = (hinge - self._hinge) / self.dt
        self._hinge = hinge


__all__ = ["GRASPING", "HumanAssist"]
