"""Input devices and the mapper from a person's :class:`Command` to the 28-D hand action."""

from teleop.command import Command, TeleopEvent
from teleop.mapper import CommandMapper, MapperConfig

__all__ = ["Command", "CommandMapper", "MapperConfig", "TeleopEvent"]
