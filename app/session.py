"""The session's state machine: phase, who controls, pacing. Pure logic, no window, no sim.

The main loop feeds it :class:`~teleop.command.TeleopEvent` s and the wall clock, and asks it
how many env steps to take this frame. Phases::

    WAITING_FOR_START --START--> RUNNING --PAUSE/START--> PAUSED --PAUSE/START--> RUNNING
    RUNNING --episode over--> EPISODE_DONE --(pause elapsed | START)--> next episode
    any --RESET--> (the loop ends the episode) --> next episode

Pacing: steps driven by a person (the guide segment, or a human who took over) run at
``guide_rate`` steps per second of wall time (20 by default: 10 s for a 200-step episode), the
explorer segment at ``explorer_rate``; SPEED_UP / SLOW_DOWN double / halve the rate of the
segment running now. A frame never takes more than ``max_steps_per_frame`` steps, and no
backlog builds up while the loop is slow.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from teleop.command import TeleopEvent

MIN_RATE = 1.0
"""Slowest pace (steps/s)."""
MAX_RATE = 2000.0
"""Fastest pace (steps/s)."""


class Phase(enum.Enum):
    """Where the session is."""

    WAITING_FOR_START = "waiting for start"
    """An episode is reset and shown; nothing steps until START."""
    RUNNING = "running"
    """Steps are taken at the pace of the segment running."""
    PAUSED = "paused"
    """Stopped mid-episode until PAUSE or START."""
    EPISODE_DONE = "episode done"
    """The episode ended; the next starts after a short pause (or at START)."""


@dataclass
class Pacing:
    """Steps per second of wall time for each kind of segment."""

    guide_rate: float = 20.0
    """Pace of steps a person drives or watches the guide take (steps/s)."""
    explorer_rate: float = 60.0
    """Pace of the explorer segment (steps/s)."""
    max_steps_per_frame: int = 8
    """Most env steps one frame may take (keeps frames short at high rates)."""
    fixed_steps_per_frame: int = 0
    """When > 0, exactly this many steps per frame whatever the clock (tests, benchmarks)."""
    hold_to_run: bool = True
    """While a person drives, the sim runs only while they move the hand (a motion key held,
    a stick pushed, the fingers closing); letting go stops the clock so they can look."""

    def __post_init__(self) -> None:
        for name in ("guide_rate", "explorer_rate"):
            value = getattr(self, name)
            if not MIN_RATE <= value <= MAX_RATE:
                raise ValueError(f"{name} must be in [{MIN_RATE}, {MAX_RATE}], got {value!r}")
        if self.max_steps_per_frame < 1:
            raise ValueError(f"max_steps_per_frame must be >= 1, got {self.max_steps_per_frame}")
        if self.fixed_steps_per_frame < 0:
            raise ValueError(
                f"fixed_steps_per_frame must be >= 0, got {self.fixed_steps_per_frame}"
            )


@dataclass
class Session:
    """Phase, control and pacing of the app session.

    Args:
        pacing: Rates; SPEED_UP / SLOW_DOWN change them in place.
        wait_for_start: Episodes wait in WAITING_FOR_START until START (else they run at once).
        done_pause_s: Seconds an ended episode stays on screen before the next one.

    """

    pacing: Pacing = field(default_factory=Pacing)
    wait_for_start: bool = True
    done_pause_s: float = 1.0
    phase: Phase = Phase.WAITING_FOR_START
    human_in_control: bool = False
    """A person took over (every step is an intervention until they hand back)."""
    help_visible: bool = False
    quit_requested: bool = False
    reset_requested: bool = False
    """RESET arrived: the loop ends the episode and calls :meth:`begin_episode`."""
    run_on: bool = False
    """Hold-to-run is off for the rest of this episode: the person pressed Return while
    driving (hands off: the sim runs on at the guide's pace)."""
    message: str = ""
    """Last notice for the HUD (e.g. why the session paused)."""
    _credit: float = 0.0
    _last_time: float | None = None
    _done_at: float = 0.0
    _start_now: bool = False

    # -- events ------------------------------------------------------------------------------
    def handle(
        self, event: TeleopEvent, now: float, human_segment: bool, person_driving: bool = False
    ) -> None:
        """Apply one device event.

        Args:
            event: The event.
            now: Wall clock (s).
            human_segment: The segment running now is paced for a person (guide or human).
            person_driving: A person drives now: with hold-to-run, Return lets the sim run on.

        """
        if event is TeleopEvent.START:
            self._on_start(now, person_driving)
        elif event is TeleopEvent.PAUSE:
            self._toggle_pause(now)
        elif event is TeleopEvent.RESET:
            self.reset_requested = True
        elif event is TeleopEvent.TOGGLE_CONTROL:
            self.set_human_control(not self.human_in_control)
        elif event is TeleopEvent.TAKE_OVER:
            self.set_human_control(True)
        elif event is TeleopEvent.HAND_BACK:
            self.set_human_control(False)
        elif event in (TeleopEvent.SPEED_UP, TeleopEvent.SLOW_DOWN):
            self.change_speed(2.0 if event is TeleopEvent.SPEED_UP else 0.5, human_segment)
        elif event is TeleopEvent.HELP:
            self.help_visible = not self.help_visible
        elif event is TeleopEvent.QUIT:
            self.quit_requested = True

    def _on_start(self, now: float, person_driving: bool = False) -> None:
        if self.phase is Phase.WAITING_FOR_START or self.phase is Phase.PAUSED:
            self._run(now)
        elif self.phase is Phase.RUNNING and person_driving and self.pacing.hold_to_run:
            if not self.run_on:
                self.run_on = True
                self.message = "hands off: the sim runs on (P pauses)"
            else:
                self.pause("paused (Return or P resumes)")
        elif self.phase is Phase.RUNNING:
            self.pause("paused (Return or P resumes)")
        elif self.phase is Phase.EPISODE_DONE:
            self._start_now = True

    def _toggle_pause(self, now: float) -> None:
        if self.phase is Phase.RUNNING:
            self.pause("paused (P or Return resumes)")
        elif self.phase is Phase.PAUSED:
            self._run(now)

    def _run(self, now: float) -> None:
        self.phase = Phase.RUNNING
        self.message = ""
        self._credit, self._last_time = 0.0, now

    def pause(self, why: str) -> None:
        """Pause a running episode (no-op in other phases) and say why on the HUD."""
        if self.phase is Phase.RUNNING:
            self.phase = Phase.PAUSED
            self.message = why

    def set_human_control(self, on: bool) -> None:
        """Take over (``on``) or hand back."""
        self.human_in_control = on
        self.message = "you have control (Tab hands back)" if on else ""

    def change_speed(self, factor: float, human_segment: bool) -> float:
        """Scale the rate of the segment running now; return the new rate."""
        name = "guide_rate" if human_segment else "explorer_rate"
        rate = min(MAX_RATE, max(MIN_RATE, getattr(self.pacing, name) * factor))
        setattr(self.pacing, name, rate)
        return rate

    def device_lost(self, human_acting: bool) -> None:
        """The human's device went away: pause if they were acting, and say so."""
        if human_acting and self.phase is Phase.RUNNING:
            self.pause("gamepad unplugged: paused (plug it back in, or Return goes on)")
        else:
            self.message = "gamepad unplugged"

    # -- episodes ----------------------------------------------------------------------------
    def begin_episode(self, now: float) -> None:
        """A new episode is reset: wait for START or run at once."""
        self.reset_requested = False
        self._start_now = False
        self.run_on = False
        if self.wait_for_start:
            self.phase = Phase.WAITING_FOR_START
            self.message = "press Return (or Start) to begin"
        else:
            self._run(now)

    def episode_finished(self, now: float) -> None:
        """The running episode ended."""
        self.phase = Phase.EPISODE_DONE
        self._done_at = now

    def ready_for_next(self, now: float) -> bool:
        """The ended episode has been shown long enough (or START was pressed)."""
        if self.phase is not Phase.EPISODE_DONE:
            return False
        return self._start_now or now - self._done_at >= self.done_pause_s

    # -- pacing ------------------------------------------------------------------------------
    def rate(self, human_segment: bool) -> float:
        """Steps per second of the segment kind."""
        return self.pacing.guide_rate if human_segment else self.pacing.explorer_rate

    def hold(self, now: float) -> None:
        """The sim waits for the person (hold-to-run): no steps, and no backlog builds up."""
        self._last_time = now
        self._credit = 0.0

    def steps_due(self, now: float, human_segment: bool) -> int:
        """Env steps to take this frame (0 unless RUNNING)."""
        if self.phase is not Phase.RUNNING:
            self._last_time = now
            return 0
        p = self.pacing
        if p.fixed_steps_per_frame:
            return p.fixed_steps_per_frame
        last = now if self._last_time is None else self._last_time
        self._last_time = now
        self._credit += max(0.0, now - last) * self.rate(human_segment)
        steps = min(int(self._credit), p.max_steps_per_frame)
        self._credit = min(self._credit - steps, 1.0)
        return steps
