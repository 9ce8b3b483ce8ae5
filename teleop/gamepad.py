"""A gamepad as a teleop device, with hot-plug: unplugging it pauses the human, never crashes.

The app forwards every pygame event to :meth:`GamepadDevice.handle_event`; stick, trigger and
button state comes from ``JOYAXISMOTION`` / ``JOYBUTTONDOWN`` / ``JOYBUTTONUP`` events of the
open pad (matched by ``instance_id``), never from polling. ``JOYDEVICEADDED`` opens a pad when
none is open; ``JOYDEVICEREMOVED`` of the open pad closes it: ``is_connected`` turns False and
:meth:`GamepadDevice.get_action` returns a zero Command (the hand holds still).

Bindings (indices are configurable in :class:`GamepadConfig`; defaults follow SDL's
GameController axis order and the Xbox button numbering pygame reports on Linux):

====================================  =========================================
input                                 effect
====================================  =========================================
left stick x / y                      palm x / y (stick forward = toward the door)
right trigger / left trigger          palm +z / -z (up / down)
right stick x                         twist
right stick y                         wrist (stick forward = wrist up)
A (button 0)                          grasp: close / open (a toggle; the fingers ramp)
X (button 2) held                     pull the handle along the door's arc
right shoulder (button 5)             TOGGLE_CONTROL (take over / hand back)
Start (button 7)                      START (start; again: pause / resume)
Back (button 6)                       RESET
====================================  =========================================

Sticks have a dead-zone (0.15 by default), rescaled so output still reaches full speed.
Triggers are read as 0 (released) .. 1 (pressed): a trigger seen below -0.5 is taken to rest
at -1 (raw joystick style) and rescaled from [-1, 1]; otherwise its value is used as is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pygame

from teleop.command import Command, TeleopEvent

log = logging.getLogger(__name__)

HELP_LINES: tuple[tuple[str, str], ...] = (
    ("left stick", "palm right/left and toward/away from the door"),
    ("RT / LT", "palm up / down"),
    ("right stick x", "twist the hand"),
    ("right stick y", "wrist up / down"),
    ("A", "close / open the grasp (toggle)"),
    ("X (hold)", "pull the door open along its arc"),
    ("RB", "take over / hand back (intervention)"),
    ("Start", "start the episode (again: pause / resume)"),
    ("Back", "reset: end this episode, start a new one"),
)
"""(input, what it does) rows for the help overlay."""


@dataclass(frozen=True)
class GamepadConfig:
    """Rates, dead-zone and input indices of the gamepad device."""

    palm_speed: float = 0.25
    """Palm speed (m/s) at full stick or trigger deflection."""
    twist_speed: float = 2.0
    """Twist rate (rad/s) at full right-stick x deflection."""
    wrist_speed: float = 1.5
    """Wrist rate (rad/s) at full right-stick y deflection."""
    grasp_rate: float = 4.0
    """Grasp level change per second of simulated time, toward closed or open (A toggles)."""
    dead_zone: float = 0.15
    """Stick deflections below this magnitude count as zero."""
    axis_left_x: int = 0
    """Axis index of the left stick's x."""
    axis_left_y: int = 1
    """Axis index of the left stick's y (negative = pushed forward)."""
    axis_right_x: int = 2
    """Axis index of the right stick's x."""
    axis_right_y: int = 3
    """Axis index of the right stick's y (negative = pushed forward)."""
    axis_left_trigger: int = 4
    """Axis index of the left trigger."""
    axis_right_trigger: int = 5
    """Axis index of the right trigger."""
    button_grasp: int = 0
    """Button that toggles the grasp (A)."""
    button_pull: int = 2
    """Button held to pull along the door's arc (X)."""
    button_toggle: int = 5
    """Button that takes over / hands back (right shoulder)."""
    button_reset: int = 6
    """Button that resets the episode (Back)."""
    button_start: int = 7
    """Button that starts (then pauses / resumes) the episode (Start)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.dead_zone < 1.0:
            raise ValueError(f"GamepadConfig.dead_zone must be in [0, 1), got {self.dead_zone!r}")
        for name in ("palm_speed", "twist_speed", "wrist_speed", "grasp_rate"):
            value = getattr(self, name)
            if not value >= 0.0:
                raise ValueError(f"GamepadConfig.{name} must be >= 0, got {value!r}")


class Joystick(Protocol):
    """The part of ``pygame.joystick.JoystickType`` the device uses."""

    def get_instance_id(self) -> int:
        """SDL instance id that this pad's events carry."""
        ...

    def get_name(self) -> str:
        """Human-readable pad name."""
        ...


def _open_pygame_joystick(device_index: int) -> Joystick:
    if not pygame.joystick.get_init():
        pygame.joystick.init()
    return pygame.joystick.Joystick(device_index)


class GamepadDevice:
    """Turns forwarded joystick events into Commands and TeleopEvents; survives unplugging.

    Args:
        config: Rates, dead-zone and indices; defaults to :class:`GamepadConfig`.
        opener: Opens the pad at an SDL device index (``pygame.joystick.Joystick`` by
            default; tests on a machine without a pad pass a stand-in).

    """

    kind = "gamepad"

    def __init__(
        self,
        config: GamepadConfig | None = None,
        opener: Callable[[int], Joystick] = _open_pygame_joystick,
    ) -> None:
        self.config = config or GamepadConfig()
        self._opener = opener
        self._pad: Joystick | None = None
        self._instance_id: int | None = None
        self.name = ""
        self.last_error: str | None = None
        self._listening = False
        self._axes: dict[int, float] = {}
        self._buttons: set[int] = set()
        self._rests_at_minus_one: set[int] = set()
        self._grasp = 0.0
        self._closed = False
        self._events: list[TeleopEvent] = []
        self._step_events: list[TeleopEvent] = []

    @property
    def is_connected(self) -> bool:
        """True while a pad is open."""
        return self._pad is not None

    def connect(self) -> None:
        """Start listening and open the first pad present, if any (no pad is not an error)."""
        self._listening = True
        if self._pad is not None:
            return
        try:
            if not pygame.joystick.get_init():
                pygame.joystick.init()
            count = pygame.joystick.get_count()
        except pygame.error as e:
            self.last_error = f"joystick subsystem unavailable: {e}"
            log.warning(self.last_error)
            return
        if count > 0:
            self._open(0)

    def close(self) -> None:
        """Stop listening, drop the pad and all state."""
        self._listening = False
        self._drop()
        self._events.clear()
        self._step_events.clear()

    def handle_event(self, event: pygame.event.Event) -> None:
        """Update pad state from one forwarded pygame event (others are ignored)."""
        if not self._listening:
            return
        if event.type == pygame.JOYDEVICEADDED:
            if self._pad is None:
                self._open(int(getattr(event, "device_index", 0)))
        elif event.type == pygame.JOYDEVICEREMOVED:
            if self._pad is not None and getattr(event, "instance_id", None) == self._instance_id:
                log.warning("gamepad %r unplugged: the human pauses", self.name)
                self._drop()
        elif self._pad is None or getattr(event, "instance_id", None) != self._instance_id:
            return
        elif event.type == pygame.JOYAXISMOTION:
            self._on_axis(int(event.axis), float(event.value))
        elif event.type == pygame.JOYBUTTONDOWN:
            self._on_button_down(int(event.button))
        elif event.type == pygame.JOYBUTTONUP:
            self._buttons.discard(int(event.button))

    def get_action(self, dt: float = 0.01) -> Command:
        """Return this control step's Command; a zero Command while no pad is connected.

        Args:
            dt: Control step (s) of simulated time; the grasp changes by ``grasp_rate * dt``.

        """
        if not dt >= 0.0:
            raise ValueError(f"dt must be >= 0, got {dt!r}")
        events = frozenset(self._step_events)
        self._step_events.clear()
        if self._pad is None:
            return Command(events=events)
        cfg = self.config
        self._grasp += (1.0 if self._closed else -1.0) * cfg.grasp_rate * dt
        self._grasp = min(1.0, max(0.0, self._grasp))
        up = self._trigger(cfg.axis_right_trigger) - self._trigger(cfg.axis_left_trigger)
        return Command(
            palm_velocity=(
                cfg.palm_speed * self._stick(cfg.axis_left_x),
                -cfg.palm_speed * self._stick(cfg.axis_left_y),
                cfg.palm_speed * up,
            ),
            twist=cfg.twist_speed * self._stick(cfg.axis_right_x),
            wrist=-cfg.wrist_speed * self._stick(cfg.axis_right_y),
            grasp=self._grasp,
            pull=cfg.button_pull in self._buttons,
            events=events,
        )

    @property
    def grasp_closed(self) -> bool:
        """The grasp toggle: True once A closed the hand (the fingers may still ramp)."""
        return self._closed

    def release_all(self) -> None:
        """Forget stick and button state and open the hand (e.g. at an episode's start)."""
        self._axes.clear()
        self._buttons.clear()
        self._grasp, self._closed = 0.0, False

    def set_grasp(self, closed: bool) -> None:
        """Set the grasp toggle at once (the human guide lets go when a pull flings the door)."""
        self._closed = bool(closed)
        self._grasp = 1.0 if closed else 0.0

    @property
    def moving(self) -> bool:
        """A stick, trigger or the pull button is in use, or the fingers are still ramping."""
        if self._pad is None:
            return False
        cfg = self.config
        sticks = (cfg.axis_left_x, cfg.axis_left_y, cfg.axis_right_x, cfg.axis_right_y)
        triggers = (cfg.axis_left_trigger, cfg.axis_right_trigger)
        target = 1.0 if self._closed else 0.0
        return (
            any(self._stick(a) != 0.0 for a in sticks)
            or any(self._trigger(a) > cfg.dead_zone for a in triggers)
            or cfg.button_pull in self._buttons
            or self._grasp != target
        )

    def get_events(self) -> list[TeleopEvent]:
        """Return and clear the discrete events raised since the last call."""
        events, self._events = self._events, []
        return events

    def _open(self, device_index: int) -> None:
        try:
            pad = self._opener(device_index)
            instance_id = int(pad.get_instance_id())
            name = str(pad.get_name())
        except (pygame.error, OSError, ValueError, IndexError) as e:
            self.last_error = f"could not open gamepad {device_index}: {e}"
            log.warning(self.last_error)
            return
        self._pad, self._instance_id, self.name = pad, instance_id, name
        self.last_error = None
        self._reset_state()
        log.info("gamepad connected: %s (instance %d)", name, instance_id)

    def _drop(self) -> None:
        pad, self._pad, self._instance_id = self._pad, None, None
        self._reset_state()
        quit_pad: Any = getattr(pad, "quit", None)
        if callable(quit_pad):
            try:
                quit_pad()
            except pygame.error as e:  # already gone with the device
                log.debug("closing the unplugged gamepad: %s", e)

    def _reset_state(self) -> None:
        self._axes.clear()
        self._buttons.clear()
        self._rests_at_minus_one.clear()
        self._grasp = 0.0
        self._closed = False

    def _on_axis(self, axis: int, value: float) -> None:
        self._axes[axis] = max(-1.0, min(1.0, value))
        if axis in (self.config.axis_left_trigger, self.config.axis_right_trigger) and (
            value < -0.5
        ):
            self._rests_at_minus_one.add(axis)

    def _on_button_down(self, button: int) -> None:
        cfg = self.config
        if button == cfg.button_grasp and button not in self._buttons:
            self._closed = not self._closed
        self._buttons.add(button)
        event = {
            cfg.button_toggle: TeleopEvent.TOGGLE_CONTROL,
            cfg.button_start: TeleopEvent.START,
            cfg.button_reset: TeleopEvent.RESET,
        }.get(button)
        if event is not None:
            self._events.append(event)
            self._step_events.append(event)

    def _stick(self, axis: int) -> float:
        value = self._axes.get(axis, 0.0)
        dz = self.config.dead_zone
        if abs(value) < dz:
            return 0.0
        return (abs(value) - dz) / (1.0 - dz) * (1.0 if value > 0 else -1.0)

    def _trigger(self, axis: int) -> float:
        value = self._axes.get(axis, 0.0)
        if axis in self._rests_at_minus_one:
            value = (value + 1.0) / 2.0
        return max(0.0, min(1.0, value))
