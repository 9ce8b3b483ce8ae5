"""The human's input: keyboard and gamepad together, fed from the app's one event loop."""

from __future__ import annotations

import pygame

from teleop.command import Command, TeleopEvent
from teleop.gamepad import GamepadDevice
from teleop.keyboard import KeyboardDevice


class DeviceHub:
    """Keyboard plus gamepad as one device: palm rates add up, the firmer grasp wins.

    Args:
        keyboard: The keyboard device (always connected while the window is open).
        gamepad: The gamepad device (may come and go).

    """

    kind = "keyboard+gamepad"

    def __init__(
        self, keyboard: KeyboardDevice | None = None, gamepad: GamepadDevice | None = None
    ) -> None:
        self.keyboard = keyboard or KeyboardDevice()
        self.gamepad = gamepad or GamepadDevice()
        self._pad_was_connected = False
        self.pad_lost = False
        """The gamepad was unplugged since the last :meth:`take_pad_lost`."""

    @property
    def is_connected(self) -> bool:
        """Some device is there to drive the hand."""
        return self.keyboard.is_connected or self.gamepad.is_connected

    def connect(self) -> None:
        """Connect both devices (no gamepad is fine)."""
        self.keyboard.connect()
        self.gamepad.connect()
        self._pad_was_connected = self.gamepad.is_connected

    def close(self) -> None:
        """Close both devices."""
        self.keyboard.close()
        self.gamepad.close()

    def handle_event(self, event: pygame.event.Event) -> None:
        """Forward one pygame event to both devices; notice a gamepad unplugged."""
        self.keyboard.handle_event(event)
        self.gamepad.handle_event(event)
        connected = self.gamepad.is_connected
        if self._pad_was_connected and not connected:
            self.pad_lost = True
        self._pad_was_connected = connected

    def take_pad_lost(self) -> bool:
        """Whether the gamepad was unplugged since the last call (then clears it)."""
        lost, self.pad_lost = self.pad_lost, False
        return lost

    def get_action(self, dt: float = 0.01) -> Command:
        """The merged Command of both devices for this control step."""
        a = self.keyboard.get_action(dt)
        b = self.gamepad.get_action(dt)
        palm = tuple(x + y for x, y in zip(a.palm_velocity, b.palm_velocity, strict=True))
        return Command(
            palm_velocity=(palm[0], palm[1], palm[2]),
            twist=a.twist + b.twist,
            wrist=a.wrist + b.wrist,
            grasp=max(a.grasp, b.grasp),
            pull=a.pull or b.pull,
            events=a.events | b.events,
        )

    @property
    def moving(self) -> bool:
        """Either device moves the hand now (the hold-to-run pace advances the sim)."""
        return self.keyboard.moving or self.gamepad.moving

    def set_grasp(self, closed: bool) -> None:
        """Set both devices' grasp toggles."""
        self.keyboard.set_grasp(closed)
        self.gamepad.set_grasp(closed)

    def get_events(self) -> list[TeleopEvent]:
        """Discrete events of both devices since the last call."""
        return self.keyboard.get_events() + self.gamepad.get_events()

    def describe(self) -> str:
        """Which devices are connected, for the HUD."""
        pad = f"gamepad: {self.gamepad.name}" if self.gamepad.is_connected else "no gamepad"
        return f"keyboard · {pad}"
