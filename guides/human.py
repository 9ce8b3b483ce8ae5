"""The human guide: a teleop device, the task-frame assist, the Command -> action mapper.

The device is a keyboard, a gamepad or both; the assist is :mod:`guides.assist`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from episode.guide import GuideError
from guides.assist import HumanAssist
from guides.mapping import mapper_for
from teleop.command import Command
from teleop.command_space import encode

if TYPE_CHECKING:
    import gymnasium

    from teleop.mapper import CommandMapper


class Device(Protocol):
    """What the human guide needs from a device (both teleop devices satisfy it)."""

    @property
    def is_connected(self) -> bool:
        """Whether the device can be used now."""
        ...

    def get_action(self, dt: float = 0.01) -> Command:
        """This control step's Command."""
        ...


class HumanGuide:
    """Acts as the person at the device asks, through the scripted guide's own mapper.

    Args:
        device: A teleop device the app forwards events to (keyboard, gamepad, or a merge).
        mapper: Turns a Command into the 28-D action (``teleop.mapper.CommandMapper``).
        dt: Control step (s) of simulated time handed to ``device.get_action``.

    """

    kind = "human"

    def __init__(self, device: Device, mapper: CommandMapper, dt: float = 0.01) -> None:
        if not dt > 0.0:
            raise ValueError(f"dt must be > 0, got {dt!r}")
        self.device = device
        self.mapper = mapper
        self.dt = dt
        self.assist = HumanAssist(dt)
        self.last_command = Command()
        """The Command of the last step, after the assist (what the mapper got)."""

    def reset(self, obs: np.ndarray) -> None:
        """Start a new episode (or a takeover): the mapper re-anchors its targets on ``obs``."""
        self.last_command = Command()
        self.mapper.reset(obs)
        self.assist.reset()

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Map the device's Command for this step, through the assist, to a (28,) action."""
        self.last_command = self.assist(self.device.get_action(self.dt), obs)
        if self.assist.released:  # the pull let the door swing: the grasp toggle opens too
            set_grasp = getattr(self.device, "set_grasp", None)
            if callable(set_grasp):
                set_grasp(False)
        return self.mapper(self.last_command, obs)

    @property
    def command_vector(self) -> np.ndarray:
        """The last Command as a 6-D vector (what the runner records with the step)."""
        return encode(self.last_command)


def build(argument: str | None, env: gymnasium.Env, seed: int, *, device: Device) -> HumanGuide:
    """Registry builder for ``human``: the app's ``device`` through a mapper for ``env``."""
    del seed  # a person needs none
    if argument is not None:
        raise GuideError(f"the human guide takes no argument (human), got human:{argument}")
    dt = float(getattr(env.unwrapped, "dt"))  # noqa: B009  (a MuJoCo env's control period)
    return HumanGuide(device, mapper_for(env), dt=dt)
