"""The human guide: a teleop device (keyboard or gamepad) plus the Command -> action mapper."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from episode.guide import GuideError
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
        self.last_command = Command()

    def reset(self, obs: np.ndarray) -> None:
        """Start a new episode: the mapper re-anchors its targets on ``obs``."""
        self.last_command = Command()
        self.mapper.reset(obs)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Map the device's Command for this step to a (28,) action."""
        self.last_command = self.device.get_action(self.dt)
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
