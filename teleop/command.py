"""What a person (or the scripted guide) asks of the hand, in the units a person thinks in.

A device turns pygame events into a :class:`Command` each control step (LeRobot's
``get_action``) and discrete :class:`TeleopEvent` s on a separate channel (``get_events``).
The mapper (:mod:`teleop.mapper`) turns a ``Command`` into the 28-D action.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field


class TeleopEvent(enum.Enum):
    """Discrete requests from a device, delivered on the events channel."""

    TAKE_OVER = "take_over"
    """The human grabs control now (an intervention)."""
    HAND_BACK = "hand_back"
    """The human gives control back to the guide or explorer."""
    TOGGLE_CONTROL = "toggle_control"
    """Take over if not in control, else hand back (one button on a gamepad)."""
    START = "start"
    """Start the episode (the guide segment waits for the human)."""
    PAUSE = "pause"
    """Pause or resume."""
    RESET = "reset"
    """End this episode and start a new one."""
    SPEED_UP = "speed_up"
    """Run the explorer segment faster."""
    SLOW_DOWN = "slow_down"
    """Run the explorer segment slower."""
    HELP = "help"
    """Show or hide the help overlay."""
    QUIT = "quit"
    """Close the session."""


@dataclass(frozen=True)
class Command:
    """One control step's request, in physical units.

    All rates are in the world frame of the door scene: x to the right of the hand, y toward
    the door, z up (the same frame as the palm and handle positions in the observation).
    """

    palm_velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Palm linear velocity (m/s) in the world frame."""
    twist: float = 0.0
    """Roll rate of the hand about the forearm axis (rad/s); turns the door's latch."""
    wrist: float = 0.0
    """Wrist flexion rate (rad/s); tilts the palm up (+) or down (-)."""
    grasp: float = 0.0
    """Grasp level: 0 = open hand, 1 = full power grasp (all finger synergies closed)."""
    pull: bool = False
    """Task-frame help: pull the handle along the door's arc (the human guide turns it into a
    palm velocity before the mapper, so the recorded Command is plain palm/twist/wrist/grasp)."""
    events: frozenset[TeleopEvent] = field(default_factory=frozenset)
    """Discrete events raised during this step (also available on the device events channel)."""

    def __post_init__(self) -> None:
        values = (*self.palm_velocity, self.twist, self.wrist, self.grasp)
        if len(self.palm_velocity) != 3:
            raise ValueError(f"palm_velocity needs 3 values, got {self.palm_velocity!r}")
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"Command values must be finite, got {values!r}")
        if not 0.0 <= self.grasp <= 1.0:
            raise ValueError(f"grasp must be in [0, 1], got {self.grasp!r}")
