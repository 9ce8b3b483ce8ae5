"""The recording schema shared by the writer, the reader, the learner and the app."""

from __future__ import annotations

import enum


class Actor(enum.IntEnum):
    """Who chose a step's action; stored per step as ``infos/actor`` (int8)."""

    GUIDE = 0
    """The guide, for steps ``t < h``."""
    EXPLORER = 1
    """The RL explorer, for steps ``t >= h``."""
    HUMAN = 2
    """A human intervention: the person took over this step."""
