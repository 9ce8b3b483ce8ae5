"""The virtual human on a gamepad: the same person, their keys as a stand-in pad's events.

The machine has no pad; every event is a real pygame event.

:class:`PadHands` maps the keys the person's strategy holds onto the pad the way a person's
thumbs would: palm x / y on the left stick (Shift: a quarter deflection, for the last
centimetres), up / down on the triggers, the twist on the right stick x, the wrist on its y,
A toggles the grasp, X held pulls. It posts ``JOYAXISMOTION`` / ``JOYBUTTONDOWN`` /
``JOYBUTTONUP`` for what changed; the app's own :class:`~teleop.gamepad.GamepadDevice` reads
them.
"""

from __future__ import annotations

import pygame

from teleop.gamepad import GamepadConfig

PAD_ID = 0
"""Instance id of the stand-in pad."""
FINE = 0.25
"""Stick deflection with Shift held (fine motion)."""


class StandInPad:
    """The one part of a pad the machine lacks, its device node: its events are real."""

    def get_instance_id(self) -> int:
        """The pad's SDL instance id."""
        return PAD_ID

    def get_name(self) -> str:
        """The pad's name."""
        return "virtual pad"


class PadHands:
    """Turns held keys into the pad events that give the same Command (see module docstring)."""

    def __init__(self, config: GamepadConfig) -> None:
        self.config = config
        self._axes: dict[int, float] = {}
        self._buttons: set[int] = set()

    def events(self, held: frozenset[int]) -> list[pygame.event.Event]:
        """The pad events that move the sticks and buttons from their last state to ``held``."""
        c = self.config
        scale = FINE if pygame.K_LSHIFT in held else 1.0

        def pair(plus: int, minus: int) -> float:
            return scale * (float(plus in held) - float(minus in held))

        axes = {
            c.axis_left_x: pair(pygame.K_d, pygame.K_a),
            c.axis_left_y: -pair(pygame.K_w, pygame.K_s),  # stick forward = toward the door
            c.axis_right_trigger: scale * float(pygame.K_e in held),
            c.axis_left_trigger: scale * float(pygame.K_q in held),
            c.axis_right_x: pair(pygame.K_RIGHT, pygame.K_LEFT),
            c.axis_right_y: -pair(pygame.K_UP, pygame.K_DOWN),
        }
        buttons = {b for b, key in ((c.button_grasp, pygame.K_SPACE),
                                    (c.button_pull, pygame.K_f)) if key in held}  # fmt: skip
        out = [
            pygame.event.Event(pygame.JOYAXISMOTION, instance_id=PAD_ID, axis=a, value=v)
            for a, v in axes.items()
            if self._axes.get(a, 0.0) != v
        ]
        out += [pygame.event.Event(pygame.JOYBUTTONDOWN, instance_id=PAD_ID, button=b)
                for b in sorted(buttons - self._buttons)]  # fmt: skip
        out += [pygame.event.Event(pygame.JOYBUTTONUP, instance_id=PAD_ID, button=b)
                for b in sorted(self._buttons - buttons)]  # fmt: skip
        self._axes, self._buttons = axes, buttons
        return out


__all__ = ["FINE", "PAD_ID", "PadHands", "StandInPad"]
