"""Task milestones read from the observation alone: where an episode changes phase.

Any guide (a person, the scripted guide, a user's 28-D callable) goes through the same
phases on this door: reach the lever, grasp and turn it, unlatch, swing the door, open. The
steps at which an episode first reaches each one place the curriculum's stages where the
task really changes, instead of evenly between H1 and 0.
"""

from __future__ import annotations

import numpy as np

from sim.door import OBS_HINGE, OBS_LATCH, OBS_PALM_TO_HANDLE, SUCCESS_HINGE_ANGLE

MILESTONES: tuple[str, ...] = ("reach", "turn", "unlatch", "swing", "open")
"""Milestone names, in the order an opening episode reaches them."""

REACH_DISTANCE = 0.05
"""Palm within this distance (m) of the handle: the lever is reached."""
TURN_LATCH = 0.2
"""Latch past this angle (rad): the lever is grasped and turning."""
UNLATCH_LATCH = 1.2
"""Latch past this angle (rad): the door is free to swing."""
SWING_HINGE = 0.4
"""Hinge past this angle (rad): the door is being pulled open."""


def reached(obs: np.ndarray) -> tuple[bool, ...]:
    """Which milestones hold in one 39-D observation, in :data:`MILESTONES` order."""
    o = np.asarray(obs, dtype=np.float64).reshape(-1)
    return (
        bool(np.linalg.norm(o[OBS_PALM_TO_HANDLE]) < REACH_DISTANCE),
        bool(o[OBS_LATCH] > TURN_LATCH),
        bool(o[OBS_LATCH] > UNLATCH_LATCH),
        bool(o[OBS_HINGE] > SWING_HINGE),
        bool(o[OBS_HINGE] >= SUCCESS_HINGE_ANGLE),
    )


HELD = "hold"
"""Where an episode that reached every milestone failed: the door was not open long enough."""

FAILURE_LABELS: dict[str, str] = {
    "reach": "never reached the lever",
    "turn": "reached the lever, never turned it",
    "unlatch": "turned the lever, never unlatched",
    "swing": "unlatched, never swung the door",
    "open": "swung the door, never opened it",
    HELD: "opened, not for 25 steps",
}
"""What each :func:`stuck_at` key means, for tables and logs."""


def stuck_at(milestones: tuple[int | None, ...]) -> str:
    """The first milestone an episode never reached (``"hold"`` when it reached them all).

    For a failed episode this names where it failed: ``"swing"`` is a door unlatched but never
    pulled past 0.4 rad, ``"open"`` one swung but never to 1.35 rad, ``"hold"`` one that opened
    but not for the 25 steps success needs.

    Raises:
        ValueError: ``milestones`` does not have one entry per milestone.

    """
    if len(milestones) != len(MILESTONES):
        raise ValueError(f"expected {len(MILESTONES)} milestone steps, got {len(milestones)}")
    return next((name for name, m in zip(MILESTONES, milestones, strict=True) if m is None), HELD)


class MilestoneTracker:
    """Records the first step at which each milestone held (1-based: after that step)."""

    def __init__(self) -> None:
        self.first: list[int | None] = [None] * len(MILESTONES)

    def reset(self) -> None:
        """Forget the episode."""
        self.first = [None] * len(MILESTONES)

    def observe(self, steps_taken: int, obs: np.ndarray) -> None:
        """Note the milestones that hold in ``obs``, reached after ``steps_taken`` steps."""
        if all(f is not None for f in self.first):
            return
        for i, ok in enumerate(reached(obs)):
            if ok and self.first[i] is None:
                self.first[i] = steps_taken


__all__ = ["FAILURE_LABELS", "HELD", "MILESTONES", "MilestoneTracker", "reached", "stuck_at"]
