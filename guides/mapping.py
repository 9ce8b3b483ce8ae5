"""The :class:`~teleop.mapper.CommandMapper` a guide drives a given door env through."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teleop.mapper import CommandMapper, MapperConfig

if TYPE_CHECKING:
    import gymnasium


def mapper_for(env: gymnasium.Env) -> CommandMapper:
    """A :class:`CommandMapper` for ``env`` (its model, its control period)."""
    unwrapped: Any = env.unwrapped  # the MuJoCo env: its model and control period
    return CommandMapper(unwrapped.model, MapperConfig(dt=float(unwrapped.dt)))
