"""The virtual human drives the real keyboard device and mapper through pygame key events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest

import sim
from bench.person_strategies import Phase
from bench.virtual_human import (
    DEMO_SEED,
    DRIVING_KEYS,
    VirtualHuman,
    VirtualHumanConfig,
    record_virtual_human_demos,
)
from episode.types import Actor
from recordings.reader import iter_episodes, load_transitions

NO_LIMITS = VirtualHumanConfig(
    reaction_s=0.0, reaction_jitter_s=0.0, max_changes_per_s=1e6, burst=100, min_hold_s=0.0
)


def test_the_device_holds_exactly_the_keys_the_person_wants() -> None:
    """With a person's limits off, the keyboard device sees the strategy's keys every step."""
    env = sim.make_door()
    human = VirtualHuman(env, NO_LIMITS)
    obs, _ = env.reset(seed=5)
    human.reset(obs)
    forwarded = human.events_forwarded
    phases = set()
    for _ in range(200):
        action = human.act(obs)
        phases.add(human.script.strategy.phase)
        assert human.device.held_keys() == human.script.last_want
        obs, *_ = env.step(action)
    assert {Phase.GRASP, Phase.TWIST, Phase.PULL} <= phases
    assert human.events_forwarded - forwarded > 10  # the keys really went through the queue
    assert pygame.event.get() == []  # the harness drained the queue
    human.close()


def test_a_persons_limits_hold() -> None:
    """Key changes per second, bursts and hold lengths stay within the configured limits."""
    cfg = VirtualHumanConfig(step_seconds=0.05, reaction_s=0.2, max_changes_per_s=8.0, burst=2,
                             min_hold_s=0.15)  # fmt: skip
    env = sim.make_door()
    human = VirtualHuman(env, cfg)  # the real guide acts, so the hand moves as with a person
    script = human.script
    obs, _ = env.reset(seed=1)
    human.reset(obs)
    last_change: dict[int, int] = {}
    per_step = []
    for t in range(200):
        grasp = human.guide.last_command.grasp
        events = script.events(obs, grasp, human.device.grasp_closed)
        for event in events:
            pygame.event.post(event)
        human.pump()
        per_step.append(len(events))
        for e in events:
            assert e.type in (pygame.KEYDOWN, pygame.KEYUP) and e.key in DRIVING_KEYS
            if e.key in last_change:
                assert t - last_change[e.key] >= cfg.steps(cfg.min_hold_s)
            last_change[e.key] = t
        obs, *_ = env.step(human.guide.act(obs))
    assert sum(per_step) > 20  # it does drive
    window = cfg.steps(1.0)  # one second of the person's time
    for t in range(len(per_step) - window):
        assert sum(per_step[t : t + window]) <= cfg.max_changes_per_s + cfg.burst
    assert max(per_step) <= cfg.burst
    assert script.delay_steps in range(cfg.steps(0.15), cfg.steps(0.25) + 1)
    human.close()


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("vh") / "door-vhuman-v0"
    return out, record_virtual_human_demos(out, episodes=6, seed=DEMO_SEED)


def test_virtual_human_opens_the_door(demos: tuple[Path, object]) -> None:
    _, summary = demos
    assert summary.episodes == 6
    # with the assist a person model opens the door in most episodes
    assert sum(step is not None for step in summary.first_success_steps) >= 3, summary

    assert summary.key_changes > 50


def test_demos_are_recorded_as_human_steps(demos: tuple[Path, object]) -> None:
    out, summary = demos
    episodes = list(iter_episodes(out))
    assert len(episodes) == 6
    assert all(ep.attrs["guide_kind"] == "human" for ep in episodes)
    data = load_transitions(out)
    assert len(data["obs"]) == summary.steps == 6 * sim.EPISODE_STEPS
    assert np.all(data["actor"] == int(Actor.HUMAN))
    opened = {int(e) for e in np.unique(data["episode"][data["success"].astype(bool)])}
    assert len(opened) == sum(step is not None for step in summary.first_success_steps)


def test_demos_carry_the_persons_commands(demos: tuple[Path, object]) -> None:
    """Each step stores the Command the person issued (not a label guessed from the joints)."""
    out, _ = demos
    for ep in iter_episodes(out):
        commands = ep.commands
        assert commands is not None and commands.shape == (sim.EPISODE_STEPS, 6)
        assert np.isfinite(commands).all() and np.abs(commands).max() <= 1.0
        grasp = commands[:, 5]
        assert grasp.min() < -0.9 and grasp.max() > 0.9  # the hand opens, closes on the lever
        assert np.abs(commands[:, :3]).max() > 0.1  # and the palm moves


def test_the_same_person_on_a_gamepad_drives_through_pad_events() -> None:
    """The person's keys become real JOY* events of a stand-in pad; the pad device reads them."""
    env = sim.make_door()
    human = VirtualHuman(env, VirtualHumanConfig(device="gamepad"))
    assert human.device.kind == "gamepad" and human.device.is_connected
    from episode.runner import EpisodeRunner

    runner = EpisodeRunner(env, human, None)
    opened = [runner.run_episode(seed, sim.EPISODE_STEPS).first_success_step for seed in (0, 1)]
    assert any(step is not None for step in opened), opened
    assert human.events_forwarded > 20  # stick and button events went through the queue
    human.close()
