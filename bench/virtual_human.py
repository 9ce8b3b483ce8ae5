"""The virtual human: a person at the keyboard, simulated through real pygame key events.

It drives the *real* human guide (:class:`~guides.human.HumanGuide`: a
:class:`~teleop.keyboard.KeyboardDevice`, the task-frame assist and the
:class:`~teleop.mapper.CommandMapper`) and nothing else: each step a key script decides which
keys the person holds, posts ``KEYDOWN`` / ``KEYUP`` events with ``pygame.event.post``, pulls
the queue with ``pygame.event.get()`` and forwards every event to the device, as the app's
event loop does.

The script is limited the way a person is (times are wall-clock seconds; a person gets
``step_seconds`` per env step while a key is held: the app's hold-to-run pace, 20 steps/s):

* **reaction delay**: it sees the observation of ``reaction_s`` ago (jittered per episode);
* **key-change rate**: at most ``max_changes_per_s`` key presses/releases per second, with a
  burst of ``burst`` (two hands can press a few keys together);
* **hold length**: a key stays down (or up) at least ``min_hold_s`` once changed.

The strategy is :class:`~bench.person_strategies.AssistedPerson`: palm keys to the handle,
Space to close, Right until the latch is free, F to pull until the hand lets go.

It gives reproducible "human" demonstrations: :func:`record_virtual_human_demos` writes a
dataset whose steps are ``Actor.HUMAN`` and whose episodes have ``guide_kind="human"``.

Headless use needs an SDL event queue: :func:`ensure_event_queue` initialises pygame's display
module (with the ``dummy`` video driver unless one is set), which is all ``pygame.event.post``
and ``pygame.event.get`` need; no window is opened.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pygame
from tqdm import tqdm

from bench.person_strategies import MOTION_KEYS, AssistedPerson, KeyStrategy
from bench.virtual_pad import PadHands, StandInPad
from guides.human import HumanGuide
from sim.door import EPISODE_STEPS, make_door
from teleop.gamepad import GamepadConfig, GamepadDevice
from teleop.keyboard import KeyboardConfig, KeyboardDevice
from teleop.mapper import CommandMapper, MapperConfig

GRASP_KEY = pygame.K_SPACE
"""Toggles the grasp."""
DRIVING_KEYS: frozenset[int] = frozenset({*MOTION_KEYS, GRASP_KEY})
"""Every key the virtual human may press."""
HUMAN_KEYBOARD = KeyboardConfig()
"""Key rates the virtual human drives with: the keyboard's defaults (0.75 m/s, 6 rad/s)."""
DEMO_SEED = 300_000
"""Seed of the first recorded virtual-human episode (clear of training and eval seeds)."""


@dataclass(frozen=True)
class VirtualHumanConfig:
    """How fast and how well the virtual person drives the keyboard."""

    step_seconds: float = 0.05
    """Wall-clock seconds a person has per env step while driving: 0.05 is the app's
    hold-to-run pace for a person (20 steps/s; the sim waits while no key is held)."""
    reaction_s: float = 0.2
    """Reaction delay (s): the script acts on the observation from this long ago."""
    reaction_jitter_s: float = 0.05
    """Per-episode uniform jitter (s) of the reaction delay."""
    max_changes_per_s: float = 12.0
    """Most key presses plus releases per second (sustained)."""
    burst: int = 3
    """Key changes that may happen at once (the rate's bucket size)."""
    min_hold_s: float = 0.1
    """Shortest time (s) a key stays down, or up, after it changed."""
    seed: int = 0
    """Seed of the jitter and the strategy's noise."""
    device: Literal["keyboard", "gamepad"] = "keyboard"
    """What the person drives with: the keyboard, or a (stand-in) gamepad whose sticks and
    buttons get the events the same keys mean (full deflection at the keyboard's rates)."""
    keyboard: KeyboardConfig = field(default_factory=lambda: HUMAN_KEYBOARD)
    """The keyboard device's rates; the strategy quantizes to the same speeds."""

    def __post_init__(self) -> None:
        for name in ("step_seconds", "max_changes_per_s"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"VirtualHumanConfig.{name} must be positive, got {value!r}")
        for name in ("reaction_s", "reaction_jitter_s", "min_hold_s"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"VirtualHumanConfig.{name} must be >= 0, got {value!r}")
        if self.reaction_jitter_s > self.reaction_s:
            raise ValueError(
                f"reaction_jitter_s ({self.reaction_jitter_s}) must not exceed reaction_s "
                f"({self.reaction_s})"
            )
        if self.burst < 1:
            raise ValueError(f"VirtualHumanConfig.burst must be >= 1, got {self.burst}")

    def steps(self, seconds: float) -> int:
        """``seconds`` of a person's time in env steps (rounded)."""
        return round(seconds / self.step_seconds)


def ensure_event_queue(headless: bool = True) -> None:
    """Make ``pygame.event.post`` / ``get`` usable: initialise pygame's display module.

    Args:
        headless: Use SDL's ``dummy`` video driver unless ``SDL_VIDEODRIVER`` is already set.

    """
    if pygame.display.get_init():
        return
    if headless:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    pygame.display.init()


class KeyScript:
    """Turns a strategy's wishes into key presses and releases, limited as a person is.

    Args:
        strategy: What the person wants held (:class:`~bench.person_strategies.KeyStrategy`).
        config: The person's limits.

    """

    def __init__(self, strategy: KeyStrategy, config: VirtualHumanConfig) -> None:
        self.strategy = strategy
        self.config = config
        self._rng = np.random.default_rng(config.seed)
        self._seen: deque[np.ndarray] = deque()
        self._delay = config.steps(config.reaction_s)
        self._held: set[int] = set()
        self._last_change: dict[int, int] = {}
        self._tokens = float(config.burst)
        self._t = 0
        self.changes = 0
        """Key presses plus releases posted so far (all episodes)."""
        self.last_want: frozenset[int] = frozenset()
        """The keys the person wanted held at the last step (before the limits)."""

    @property
    def held(self) -> frozenset[int]:
        """Keys the script holds down now."""
        return frozenset(self._held)

    @property
    def delay_steps(self) -> int:
        """This episode's reaction delay in env steps."""
        return self._delay

    def reset(self, obs: np.ndarray) -> list[pygame.event.Event]:
        """Start an episode; returns the KEYUP events that let go of every held key."""
        cfg = self.config
        jitter = self._rng.uniform(-cfg.reaction_jitter_s, cfg.reaction_jitter_s)
        self._delay = max(0, cfg.steps(cfg.reaction_s + jitter))
        self.strategy.reset(obs)
        self._seen = deque(maxlen=self._delay + 1)
        releases = [_key_event(pygame.KEYUP, k) for k in sorted(self._held)]
        self.changes += len(releases)
        self._held.clear()
        self._last_change.clear()
        self._tokens = float(cfg.burst)
        self._t = 0
        return releases

    def events(self, obs: np.ndarray, grasp: float, closed_now: bool) -> list[pygame.event.Event]:
        """Key events for this step, given the current observation (seen after the delay).

        Args:
            obs: The observation now (the person acts on the one ``delay`` steps ago).
            grasp: The grasp level the HUD shows now.
            closed_now: The grasp toggle as the HUD shows it (the assist may open it).

        """
        self._seen.append(np.array(obs, copy=True))
        delayed = self._seen[0]  # the observation of `delay` steps ago (the first one early on)
        keys, closed = self.strategy.want(delayed, grasp)
        want = set(keys)
        if closed != closed_now and GRASP_KEY not in self._held:
            want.add(GRASP_KEY)  # a tap toggles the grasp
        self.last_want = frozenset(want)
        events = self._limit(self.last_want)
        self._t += 1
        return events

    def _limit(self, want: frozenset[int]) -> list[pygame.event.Event]:
        """Change as many keys toward ``want`` as the rate and hold limits allow."""
        cfg = self.config
        self._tokens = min(
            float(cfg.burst), self._tokens + cfg.max_changes_per_s * cfg.step_seconds
        )
        min_hold = cfg.steps(cfg.min_hold_s)
        pending = [k for k in sorted(DRIVING_KEYS) if (k in want) != (k in self._held)]
        pending = [k for k in pending if self._t - self._last_change.get(k, -(10**9)) >= min_hold]
        # Releases first (letting go is quicker than finding a key), then presses.
        pending.sort(key=lambda k: (k not in self._held, self._rng.random()))
        events: list[pygame.event.Event] = []
        for key in pending:
            if self._tokens < 1.0:
                break
            self._tokens -= 1.0
            pressed = key not in self._held
            if pressed:
                self._held.add(key)
            else:
                self._held.discard(key)
            self._last_change[key] = self._t
            events.append(_key_event(pygame.KEYDOWN if pressed else pygame.KEYUP, key))
        self.changes += len(events)
        return events


def _key_event(kind: int, key: int) -> pygame.event.Event:
    return pygame.event.Event(kind, key=key, mod=0, unicode="", scancode=0)


class VirtualHuman:
    """A guide that is a simulated person at the keyboard (``kind = "human"``).

    ``act(obs)`` posts the script's key events to pygame's queue, pumps the queue into the
    real :class:`KeyboardDevice` and returns the real :class:`HumanGuide`'s action.

    Args:
        env: The door env (its model and ``dt`` configure the mappers).
        config: The person's limits.
        headless: Use SDL's dummy video driver when no display is initialised.

    """

    kind = "human"

    def __init__(
        self, env: Any, config: VirtualHumanConfig | None = None, *, headless: bool = True
    ) -> None:
        self.config = config or VirtualHumanConfig()
        ensure_event_queue(headless)
        model, dt = env.unwrapped.model, float(env.unwrapped.dt)
        kb = self.config.keyboard
        self.hands: PadHands | None = None
        self.device: KeyboardDevice | GamepadDevice = self._device(kb)
        self.guide = HumanGuide(self.device, CommandMapper(model, MapperConfig(dt=dt)), dt=dt)
        rng = np.random.default_rng([self.config.seed, 1])
        # A person lets go of a key about a reaction time (plus a step) before the target.
        lead = kb.palm_speed * dt * (self.config.steps(self.config.reaction_s) + 2)
        self.script = KeyScript(AssistedPerson(margin=max(0.02, lead), rng=rng), self.config)
        self.events_forwarded = 0
        """pygame events pulled from the queue and forwarded to the device (all episodes)."""

    def _device(self, kb: KeyboardConfig) -> KeyboardDevice | GamepadDevice:
        """The keyboard, or a stand-in gamepad at the keyboard's rates (full deflection)."""
        if self.config.device == "keyboard":
            keyboard = KeyboardDevice(kb)
            keyboard.connect()
            return keyboard
        pad_config = GamepadConfig(
            palm_speed=kb.palm_speed,
            twist_speed=kb.twist_speed,
            wrist_speed=kb.wrist_speed,
            grasp_rate=kb.grasp_rate,
        )
        pad = GamepadDevice(pad_config, opener=lambda _: StandInPad())
        pad.connect()
        pygame.event.post(pygame.event.Event(pygame.JOYDEVICEADDED, device_index=0))
        self.hands = PadHands(pad_config)
        for event in pygame.event.get():
            pad.handle_event(event)
        return pad

    def _send(self, key_events: list[pygame.event.Event]) -> None:
        """Key events as they are, or, on the pad, the stick and button events they mean."""
        if self.hands is None:
            self._post(key_events)
        else:
            self._post(self.hands.events(self.script.held))

    def reset(self, obs: np.ndarray) -> None:
        """Let go of every key (through events), then start the human guide and the script."""
        self._send(self.script.reset(obs))
        self.pump()
        self.device.release_all()
        self.guide.reset(obs)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Post this step's key events, forward the queue to the device, return the action."""
        grasp = self.guide.last_command.grasp
        self._send(self.script.events(obs, grasp, self.device.grasp_closed))
        self.pump()
        return self.guide.act(obs)

    @property
    def command_vector(self) -> np.ndarray:
        """The Command of the last ``act`` as a 6-D vector (the human guide's, assist included)."""
        return self.guide.command_vector

    def pump(self) -> int:
        """Pull every queued pygame event and forward it to the device (as the app does)."""
        events = pygame.event.get()
        for event in events:
            self.device.handle_event(event)
        self.events_forwarded += len(events)
        return len(events)

    def close(self) -> None:
        """Let go of the keys and disconnect the device."""
        if self.hands is None:
            self._post([_key_event(pygame.KEYUP, k) for k in sorted(self.script.held)])
        else:
            self._post(self.hands.events(frozenset()))
        self.pump()
        self.device.close()

    @staticmethod
    def _post(events: list[pygame.event.Event]) -> None:
        for event in events:
            pygame.event.post(event)


@dataclass(frozen=True)
class DemoSummary:
    """What a batch of virtual-human episodes did."""

    dataset: Path | None
    """The dataset written (None: nothing recorded)."""
    episodes: int
    """Episodes run."""
    successes: int
    """Episodes in which the door opened."""
    steps: int
    """Steps taken (all ``Actor.HUMAN``)."""
    key_changes: int
    """Key presses plus releases posted."""
    driving_seconds: float
    """Wall-clock time a person would have spent driving (steps x step_seconds)."""
    first_success_steps: list[int | None]
    """Per episode, the step after which the door first counted as open (None: never)."""

    @property
    def success_rate(self) -> float:
        """Fraction of episodes that opened the door."""
        return self.successes / self.episodes if self.episodes else float("nan")

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready values."""
        return {
            "dataset": None if self.dataset is None else str(self.dataset),
            "episodes": self.episodes,
            "successes": self.successes,
            "success_rate": self.success_rate,
            "steps": self.steps,
            "key_changes": self.key_changes,
            "key_changes_per_s": self.key_changes / max(self.driving_seconds, 1e-9),
            "driving_seconds": self.driving_seconds,
            "first_success_steps": self.first_success_steps,
        }


def run_virtual_human_episodes(
    episodes: int,
    seed: int = DEMO_SEED,
    *,
    config: VirtualHumanConfig | None = None,
    recorder: Any = None,
    progress: bool = False,
) -> DemoSummary:
    """Run ``episodes`` virtual-human episodes (seeds ``seed + i``); every step is HUMAN.

    The episodes go through :class:`~episode.runner.EpisodeRunner` (the one episode runner),
    each step as a human intervention, so a recorder stores ``Actor.HUMAN`` steps and
    ``guide_kind="human"`` episodes with ``h = 200``.

    Args:
        episodes: How many episodes.
        seed: Seed of the first episode.
        config: The person's limits.
        recorder: A :class:`~recordings.writer.DatasetWriter` (or None: nothing written).
        progress: Show a progress bar.

    """
    from episode.runner import EpisodeRunner

    if episodes < 0:
        raise ValueError(f"episodes must be >= 0, got {episodes}")
    cfg = config or VirtualHumanConfig()
    env = make_door()
    human = VirtualHuman(env, cfg)
    runner = EpisodeRunner(env, human, None, recorder=recorder)
    results = []
    bar = tqdm(range(episodes), desc="virtual human", disable=not progress, leave=False)
    try:
        for i in bar:
            runner.reset(seed + i, EPISODE_STEPS)
            while not runner.done:
                action = human.act(runner.obs)
                runner.step(action, human.command_vector)
            results.append(runner.result())
            bar.set_postfix(success=f"{sum(r.success for r in results)}/{len(results)}")
    finally:
        human.close()
        env.close()
    steps = sum(r.steps for r in results)
    return DemoSummary(
        dataset=None if recorder is None else Path(recorder.dataset),
        episodes=len(results),
        successes=sum(r.success for r in results),
        steps=steps,
        key_changes=human.script.changes,
        driving_seconds=steps * cfg.step_seconds,
        first_success_steps=[r.first_success_step for r in results],
    )


def record_virtual_human_demos(
    out: Path,
    episodes: int,
    seed: int = DEMO_SEED,
    *,
    config: VirtualHumanConfig | None = None,
    append: bool = False,
    progress: bool = False,
) -> DemoSummary:
    """Record ``episodes`` virtual-human demonstrations to the dataset ``out``.

    Every step is recorded as ``Actor.HUMAN`` and every episode with ``guide_kind="human"``
    and ``h = 200`` (the person drives the whole episode).

    Args:
        out: Dataset directory, e.g. ``recordings/door-vhuman-v0``.
        episodes: How many episodes.
        seed: Seed of the first episode (episode i uses ``seed + i``).
        config: The person's limits.
        append: Add to an existing dataset instead of refusing.
        progress: Show a progress bar.

    """
    from recordings.writer import DatasetWriter

    with DatasetWriter(Path(out), append=append) as writer:
        return run_virtual_human_episodes(
            episodes, seed, config=config, recorder=writer, progress=progress
        )


@dataclass(frozen=True)
class RecordDemosConfig:
    """Record virtual-human keyboard demonstrations to a dataset (headless)."""

    out: Path
    """Dataset directory, e.g. recordings/door-vhuman-v0 (its last part is the Minari name)."""
    episodes: int = 10
    """Episodes to record."""
    seed: int = DEMO_SEED
    """Seed of the first episode; episode i uses seed + i."""
    append: bool = False
    """Add to an existing dataset instead of refusing."""
    human: VirtualHumanConfig = field(default_factory=VirtualHumanConfig)
    """The virtual person."""


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.virtual_human --out DATASET --episodes N``: record, print a summary."""
    import json

    import tyro

    from sim.errors import UserError

    cfg = tyro.cli(RecordDemosConfig, args=argv)
    try:
        summary = record_virtual_human_demos(
            cfg.out, cfg.episodes, cfg.seed, config=cfg.human, append=cfg.append, progress=True
        )
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
