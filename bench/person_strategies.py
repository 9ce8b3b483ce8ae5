"""What a person at the keyboard decides to press: the virtual human's strategy.

A strategy looks at one (delayed) observation and says which motion keys it wants held and
whether it wants the hand closed (Space toggles the grasp: :class:`~bench.virtual_human.
KeyScript` taps it when the wish and the toggle differ).

:class:`AssistedPerson` uses the controls as a person is meant to: reach the handle with the
palm keys, close the hand, hold Right until the latch gauge says free (the twist stops by
itself there), hold F to pull until the hand lets go, then let go of F.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pygame

from guides.scripted import GRASP_OFFSET, HOVER_HEIGHT, UNLATCHED, DoorView, Phase
from teleop.keyboard import PALM_KEYS, PULL_KEY

AXIS_KEYS: dict[tuple[int, int], int] = {
    (axis, int(sign)): key for key, (axis, sign) in PALM_KEYS.items()
}
"""(palm axis, direction +1/-1) -> the key that moves the palm that way."""
TWIST_KEYS: dict[int, int] = {1: pygame.K_RIGHT, -1: pygame.K_LEFT}
"""Twist direction -> arrow key."""
WRIST_KEYS: dict[int, int] = {1: pygame.K_UP, -1: pygame.K_DOWN}
"""Wrist direction -> arrow key."""
MOTION_KEYS: frozenset[int] = frozenset(
    {*AXIS_KEYS.values(), *TWIST_KEYS.values(), *WRIST_KEYS.values(), PULL_KEY, pygame.K_LSHIFT}
)
"""Every motion key a strategy may hold."""


class KeyStrategy(Protocol):
    """Decides the keys a person wants from what they see."""

    def reset(self, obs: np.ndarray) -> None:
        """Start an episode."""
        ...

    def want(self, obs: np.ndarray, grasp: float) -> tuple[frozenset[int], bool]:
        """Motion keys to hold, and whether the hand should be closed.

        Args:
            obs: What the person sees (their reaction delay already applied).
            grasp: The grasp level the HUD shows (0 open .. 1 closed).

        """
        ...


def keys_toward(error: np.ndarray, tolerance: float, margin: float) -> set[int]:
    """The palm keys that close ``error``: coarse axes first, then fine (Shift) to ``tolerance``.

    At full speed the person lets go of an axis ``margin`` (m) before its target (they know
    how far the hand goes on during their reaction time); once every axis is that close they
    finish with Shift held (fine motion).
    """
    coarse = {
        AXIS_KEYS[(axis, 1 if e > 0 else -1)] for axis, e in enumerate(error) if abs(e) > margin
    }
    if coarse:
        return coarse
    fine = {
        AXIS_KEYS[(axis, 1 if e > 0 else -1)] for axis, e in enumerate(error) if abs(e) > tolerance
    }
    return fine | {pygame.K_LSHIFT} if fine else set()


FOLLOW_STEPS = 15
"""Steps the person keeps F held after the hand let go (watching the door swing): the
scripted guide's phases (:class:`~guides.scripted.Phase`) with RELEASE for this follow."""


class AssistedPerson:
    """A person using the assist: reach, close, twist (auto-stop), hold pull, let go.

    Args:
        margin: How far (m) before a target the person lets go of a full-speed key.
        tolerance: How close (m) the palm must be before the person stops moving it.
        rng: Per-episode aiming error of where on the handle the person grasps.

    """

    def __init__(
        self, margin: float = 0.04, tolerance: float = 0.012, rng: np.random.Generator | None = None
    ) -> None:
        self.margin, self.tolerance = margin, tolerance
        self._rng = rng or np.random.default_rng(0)
        self.phase = Phase.REACH
        self._aim = np.zeros(3)
        self._follow = 0

    def reset(self, obs: np.ndarray) -> None:
        """Start from the reach; draw this episode's aiming error (a few mm)."""
        del obs
        self.phase = Phase.REACH
        self._aim = self._rng.normal(0.0, 0.004, 3)

    def want(self, obs: np.ndarray, grasp: float) -> tuple[frozenset[int], bool]:
        """Keys and grasp for this phase; the phase moves on from what the HUD shows."""
        v = DoorView.from_obs(obs)
        grasp_point = v.handle + GRASP_OFFSET + self._aim
        if self.phase is Phase.REACH:
            error = grasp_point + HOVER_HEIGHT * np.array([0.0, 0.0, 1.0]) - v.palm
            if np.all(np.abs(error) <= 2 * self.tolerance):
                self.phase = Phase.DESCEND
            return frozenset(keys_toward(error, self.tolerance, self.margin)), False
        if self.phase is Phase.DESCEND:
            error = grasp_point - v.palm
            if np.all(np.abs(error) <= self.tolerance):
                self.phase = Phase.GRASP
            return frozenset(keys_toward(error, self.tolerance, self.margin)), False
        if self.phase is Phase.GRASP:
            if grasp >= 0.99:
                self.phase = Phase.TWIST
            return frozenset(), True
        if self.phase is Phase.TWIST:
            if v.latch >= UNLATCHED:
                self.phase = Phase.PULL
                return frozenset(), True
            return frozenset({TWIST_KEYS[1]}), True
        if self.phase is Phase.PULL:
            if grasp < 0.99:  # the assist let the door go: keep F a moment as it swings
                self.phase, self._follow = Phase.RELEASE, 0
            return frozenset({PULL_KEY}), grasp >= 0.99
        self._follow += 1  # RELEASE: F held while the door swings, then hands off
        return frozenset({PULL_KEY} if self._follow <= FOLLOW_STEPS else ()), False


__all__ = [
    "AXIS_KEYS",
    "MOTION_KEYS",
    "TWIST_KEYS",
    "WRIST_KEYS",
    "AssistedPerson",
    "KeyStrategy",
    "keys_toward",
]
