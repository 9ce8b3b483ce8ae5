"""Input devices and the mapper from a person's :class:`Command` to the 28-D hand action."""

from teleop.command import Command, TeleopEvent

__all__ = ["Command", "TeleopEvent"]
