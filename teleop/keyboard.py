"""The keyboard as a teleop device: held keys become a :class:`Command`, presses become events.

The app owns the one pygame event loop and forwards every event to
:meth:`KeyboardDevice.handle_event`; the device never reads the queue nor
``pygame.key.get_pressed()`` (posted events do not show there), so its key state comes from
``KEYDOWN`` / ``KEYUP`` alone. Losing window focus releases every held key, so a key let go
while another window had focus cannot stay stuck down.

Bindings (world frame of the door scene: x right, y toward the door, z up):

========================  ==========================================
key                       effect
========================  ==========================================
D / A                     palm +x / -x
W / S                     palm +y / -y (toward / away from the door)
E / Q                     palm +z / -z (up / down)
Right / Left arrow        twist + / - (stops by itself once the latch is free)
Up / Down arrow           wrist + / -
Space                     grasp: close / open (a toggle; the fingers ramp)
F (hold)                  pull the handle along the door's arc (lets go as the door swings)
Shift (hold)              fine motion: palm, twist and wrist at a quarter of their speed
Tab                       TOGGLE_CONTROL (take over / hand back)
Return                    START (while you drive with hold-to-run: hands off, the sim runs on)
P                         PAUSE
R                         RESET
= / -                     SPEED_UP / SLOW_DOWN
F1 or H                   HELP
Escape                    QUIT
========================  ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

from teleop.command import Command, TeleopEvent

# key -> (axis index in palm_velocity, sign)
PALM_KEYS: dict[int, tuple[int, float]] = {
    pygame.K_d: (0, 1.0),
    pygame.K_a: (0, -1.0),
    pygame.K_w: (1, 1.0),
    pygame.K_s: (1, -1.0),
    pygame.K_e: (2, 1.0),
    pygame.K_q: (2, -1.0),
}
"""Keys that move the palm: key code -> (world axis, direction)."""

GRASP_KEY = pygame.K_SPACE
"""Toggles the grasp (close / open)."""
PULL_KEY = pygame.K_f
"""Held: pull the handle along the door's arc."""
FINE_KEYS: frozenset[int] = frozenset({pygame.K_LSHIFT, pygame.K_RSHIFT})
"""Held: fine motion."""
MOTION_KEYS: frozenset[int] = frozenset(
    {*PALM_KEYS, pygame.K_RIGHT, pygame.K_LEFT, pygame.K_UP, pygame.K_DOWN, PULL_KEY}
)
"""Keys that move the hand while held (the app's hold-to-run pace advances the sim)."""

EVENT_KEYS: dict[int, TeleopEvent] = {
    pygame.K_TAB: TeleopEvent.TOGGLE_CONTROL,
    pygame.K_RETURN: TeleopEvent.START,
    pygame.K_KP_ENTER: TeleopEvent.START,
    pygame.K_p: TeleopEvent.PAUSE,
    pygame.K_r: TeleopEvent.RESET,
    pygame.K_EQUALS: TeleopEvent.SPEED_UP,
    pygame.K_PLUS: TeleopEvent.SPEED_UP,
    pygame.K_KP_PLUS: TeleopEvent.SPEED_UP,
    pygame.K_MINUS: TeleopEvent.SLOW_DOWN,
    pygame.K_KP_MINUS: TeleopEvent.SLOW_DOWN,
    pygame.K_F1: TeleopEvent.HELP,
    pygame.K_h: TeleopEvent.HELP,
    pygame.K_ESCAPE: TeleopEvent.QUIT,
}
"""Keys that raise a discrete event when pressed."""

HELP_LINES: tuple[tuple[str, str], ...] = (
    ("D / A", "palm right / left (+x / -x)"),
    ("W / S", "palm toward / away from the door (+y / -y)"),
    ("E / Q", "palm up / down (+z / -z)"),
    ("Right / Left", "twist + / - (turns the latch; stops when it is free)"),
    ("Up / Down", "wrist up / down"),
    ("Space", "close / open the grasp (toggle)"),
    ("F (hold)", "pull the door open along its arc"),
    ("Shift (hold)", "fine motion (a quarter of the speed)"),
    ("Tab", "take over / hand back (intervention)"),
    ("Return", "start; while you drive: hands off, the sim runs on"),
    ("P", "pause / resume"),
    ("R", "reset: end this episode, start a new one"),
    ("= / -", "faster / slower (the segment running now)"),
    ("F1 or H", "show / hide this help"),
    ("Escape", "quit (recordings flushed, checkpoint saved)"),
)
"""(keys, what they do) rows for the help overlay."""


@dataclass(frozen=True)
class KeyboardConfig:
    """Rates of the keyboard device (per held key)."""

    palm_speed: float = 0.75
    """Palm speed (m/s of simulated time) per held key; each palm axis is -v, 0 or +v. An
    episode is 2 s of simulated time: much slower and the reach alone uses it up."""
    twist_speed: float = 6.0
    """Twist rate (rad/s) while a left/right arrow key is held."""
    wrist_speed: float = 1.5
    """Wrist rate (rad/s) while an up/down arrow key is held."""
    grasp_rate: float = 8.0
    """Grasp level change per second of simulated time, toward closed or open (Space)."""
    fine_scale: float = 0.25
    """Speed factor while Shift is held (fine motion near the handle)."""

    def __post_init__(self) -> None:
        for name in ("palm_speed", "twist_speed", "wrist_speed", "grasp_rate", "fine_scale"):
            value = getattr(self, name)
            if not value >= 0.0:
                raise ValueError(f"KeyboardConfig.{name} must be >= 0, got {value!r}")


class KeyboardDevice:
    """Turns forwarded keyboard events into Commands (held keys) and TeleopEvents (presses).

    Args:
        config: Rates per held key; defaults to :class:`KeyboardConfig`.

    """

    kind = "keyboard"

    def __init__(self, config: KeyboardConfig | None = None) -> None:
        self.config = config or KeyboardConfig()
        self.is_connected = False
        self._held: set[int] = set()
        self._grasp = 0.0
        self._closed = False
        self._events: list[TeleopEvent] = []
        self._step_events: list[TeleopEvent] = []

    def connect(self) -> None:
        """Start listening (a keyboard is always present once the window is open)."""
        self.is_connected = True
        self.release_all()

    def close(self) -> None:
        """Stop listening and forget all state."""
        self.is_connected = False
        self.release_all()
        self._events.clear()
        self._step_events.clear()

    def release_all(self) -> None:
        """Forget held keys and open the hand (e.g. at episode start or on focus loss)."""
        self._held.clear()
        self._grasp = 0.0
        self._closed = False

    def set_grasp(self, closed: bool) -> None:
        """Set the grasp toggle at once (the human guide lets go when a pull flings the door)."""
        self._closed = bool(closed)
        self._grasp = 1.0 if closed else 0.0

    @property
    def grasp_closed(self) -> bool:
        """The grasp toggle: True once Space closed the hand (the fingers may still ramp)."""
        return self._closed

    @property
    def moving(self) -> bool:
        """A motion key is held or the fingers are still ramping (the sim runs for a person)."""
        target = 1.0 if self._closed else 0.0
        return bool(self._held & MOTION_KEYS) or self._grasp != target

    def handle_event(self, event: pygame.event.Event) -> None:
        """Update key state from one forwarded pygame event (others are ignored)."""
        if not self.is_connected:
            return
        if event.type == pygame.KEYDOWN:
            if event.key == GRASP_KEY and event.key not in self._held:
                self._closed = not self._closed
            self._held.add(event.key)
            teleop_event = EVENT_KEYS.get(event.key)
            if teleop_event is not None:
                self._events.append(teleop_event)
                self._step_events.append(teleop_event)
        elif event.type == pygame.KEYUP:
            self._held.discard(event.key)
        elif event.type == pygame.WINDOWFOCUSLOST:
            self._held.clear()

    def held_keys(self) -> frozenset[int]:
        """Key codes currently held down (as tracked from events)."""
        return frozenset(self._held)

    def get_action(self, dt: float = 0.01) -> Command:
        """Return this control step's Command from the held keys; the grasp ramps by ``dt``.

        Args:
            dt: Control step (s) of simulated time; the grasp changes by ``grasp_rate * dt``.

        """
        if not dt >= 0.0:
            raise ValueError(f"dt must be >= 0, got {dt!r}")
        cfg = self.config
        scale = cfg.fine_scale if self._held & FINE_KEYS else 1.0
        palm = [0.0, 0.0, 0.0]
        for key, (axis, sign) in PALM_KEYS.items():
            if key in self._held:
                palm[axis] += sign * cfg.palm_speed * scale
        twist = cfg.twist_speed * scale * self._pair(pygame.K_RIGHT, pygame.K_LEFT)
        wrist = cfg.wrist_speed * scale * self._pair(pygame.K_UP, pygame.K_DOWN)
        self._grasp += (1.0 if self._closed else -1.0) * cfg.grasp_rate * dt
        self._grasp = min(1.0, max(0.0, self._grasp))
        events = frozenset(self._step_events)
        self._step_events.clear()
        return Command(
            palm_velocity=(palm[0], palm[1], palm[2]),
            twist=twist,
            wrist=wrist,
            grasp=self._grasp,
            pull=PULL_KEY in self._held,
            events=events,
        )

    def get_events(self) -> list[TeleopEvent]:
        """Return and clear the discrete events raised since the last call."""
        events, self._events = self._events, []
        return events

    def _pair(self, plus: int, minus: int) -> float:
        return float(plus in self._held) - float(minus in self._held)
