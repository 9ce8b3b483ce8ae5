"""The session state machine and pacing (pure logic: no window, no sim)."""

from __future__ import annotations

import numpy as np
import pytest

from app.session import Pacing, Phase, Session
from teleop.command import TeleopEvent as E


def _session(**kw) -> Session:
    return Session(Pacing(guide_rate=20.0, explorer_rate=100.0, max_steps_per_frame=8), **kw)


def test_waits_for_start_then_runs_at_the_guide_pace():
    s = _session(wait_for_start=True)
    s.begin_episode(now=0.0)
    assert s.phase is Phase.WAITING_FOR_START
    assert s.steps_due(5.0, human_segment=True) == 0  # waiting: nothing runs away
    s.handle(E.START, 5.0, True)
    assert s.phase is Phase.RUNNING
    # 0.25 s of wall time at 20 steps/s = 5 steps, in frames of 1/60 s.
    steps = sum(s.steps_due(5.0 + k / 60, True) for k in range(1, 16))
    assert steps in (4, 5)
    # The explorer segment runs at its own (faster) pace.
    steps = sum(s.steps_due(5.25 + k / 60, False) for k in range(1, 16))
    assert 20 <= steps <= 26


def test_no_backlog_after_a_slow_frame_and_a_cap_per_frame():
    s = _session(wait_for_start=False)
    s.begin_episode(now=0.0)
    assert s.phase is Phase.RUNNING
    assert s.steps_due(10.0, human_segment=False) == 8  # 1000 due, capped
    assert s.steps_due(10.0 + 1 / 60, human_segment=False) <= 2  # and not carried over


def test_fixed_steps_per_frame_ignores_the_clock():
    s = Session(Pacing(fixed_steps_per_frame=3), wait_for_start=False)
    s.begin_episode(0.0)
    assert [s.steps_due(0.0, True) for _ in range(3)] == [3, 3, 3]
    s.handle(E.PAUSE, 0.0, True)
    assert s.steps_due(1.0, True) == 0


def test_pause_resume_start_toggles():
    s = _session()
    s.begin_episode(0.0)
    s.handle(E.PAUSE, 0.1, True)
    assert s.phase is Phase.WAITING_FOR_START  # PAUSE does not start an episode
    s.handle(E.START, 0.2, True)
    s.handle(E.PAUSE, 0.3, True)
    assert s.phase is Phase.PAUSED and s.message
    s.handle(E.PAUSE, 0.4, True)
    assert s.phase is Phase.RUNNING
    s.handle(E.START, 0.5, True)  # Return / the pad's Start while running: pause
    assert s.phase is Phase.PAUSED
    s.handle(E.START, 0.6, True)
    assert s.phase is Phase.RUNNING


def test_return_while_a_person_drives_lets_the_sim_run_on():
    s = _session()
    s.begin_episode(0.0)
    s.handle(E.START, 0.1, True, person_driving=True)  # starts the episode
    assert s.phase is Phase.RUNNING and not s.run_on
    s.handle(E.START, 0.2, True, person_driving=True)  # hands off: hold-to-run ends
    assert s.phase is Phase.RUNNING and s.run_on and "runs on" in s.message
    s.handle(E.START, 0.3, True, person_driving=True)  # again: now it pauses
    assert s.phase is Phase.PAUSED
    s.begin_episode(1.0)
    assert not s.run_on  # each episode starts with hold-to-run on


def test_episode_done_waits_then_next_or_start_skips_the_wait():
    s = _session(done_pause_s=1.0)
    s.begin_episode(0.0)
    s.handle(E.START, 0.0, True)
    s.episode_finished(2.0)
    assert s.phase is Phase.EPISODE_DONE
    assert s.steps_due(2.5, True) == 0
    assert not s.ready_for_next(2.5)
    assert s.ready_for_next(3.0)
    s.handle(E.START, 2.1, True)
    assert s.ready_for_next(2.1)
    s.begin_episode(2.1)
    assert s.phase is Phase.WAITING_FOR_START


def test_control_speed_help_reset_quit():
    s = _session()
    s.handle(E.TOGGLE_CONTROL, 0.0, True)
    assert s.human_in_control
    s.handle(E.TOGGLE_CONTROL, 0.0, True)
    assert not s.human_in_control
    s.handle(E.TAKE_OVER, 0.0, True)
    s.handle(E.HAND_BACK, 0.0, True)
    assert not s.human_in_control
    s.handle(E.SPEED_UP, 0.0, False)
    assert (s.pacing.guide_rate, s.pacing.explorer_rate) == (20.0, 200.0)
    s.handle(E.SLOW_DOWN, 0.0, True)
    assert (s.pacing.guide_rate, s.pacing.explorer_rate) == (10.0, 200.0)
    for _ in range(20):
        s.handle(E.SLOW_DOWN, 0.0, True)
    assert s.pacing.guide_rate == 1.0
    s.handle(E.HELP, 0.0, True)
    assert s.help_visible
    s.handle(E.RESET, 0.0, True)
    assert s.reset_requested
    s.begin_episode(0.0)
    assert not s.reset_requested
    s.handle(E.QUIT, 0.0, True)
    assert s.quit_requested


def test_device_lost_pauses_only_a_human_who_is_acting():
    s = _session(wait_for_start=False)
    s.begin_episode(0.0)
    s.device_lost(human_acting=False)
    assert s.phase is Phase.RUNNING and "unplugged" in s.message
    s.device_lost(human_acting=True)
    assert s.phase is Phase.PAUSED and "unplugged" in s.message


def test_bad_pacing_is_refused():
    with pytest.raises(ValueError, match="guide_rate"):
        Pacing(guide_rate=0.0)
    with pytest.raises(ValueError, match="max_steps_per_frame"):
        Pacing(max_steps_per_frame=0)


def test_the_end_banner_tells_open_from_opened_and_shut_again():
    from app.timeline import EpisodeTrack
    from episode.types import Actor

    track = EpisodeTrack()
    track.reset(h=0)
    for t in range(10):
        track.record(t, Actor.EXPLORER, success=False)
    assert "stayed shut" in track.verdict()
    for t in range(10, 40):
        track.record(t, Actor.EXPLORER, success=True)
    assert track.verdict() == "Door open! (opened at step 11)"  # open for 30 steps, open now
    track.record(40, Actor.EXPLORER, success=False)
    assert "shut again" in track.verdict()  # the old banner kept saying "Door open!"
    track.reset(h=0)
    track.record(0, Actor.EXPLORER, success=True)
    track.record(1, Actor.EXPLORER, success=False)
    assert track.verdict() == "Door opened briefly at step 1 (open 1 of the 25 steps that count)"


def test_the_banner_says_why_a_door_stayed_shut():
    import sim
    from app.timeline import EpisodeTrack
    from episode.types import Actor
    from sim.door import OBS_HINGE, OBS_LATCH, OBS_PALM_TO_HANDLE

    env = sim.make_door()
    obs, _ = env.reset(seed=0)
    env.close()
    far = np.array(obs, dtype=np.float64)
    near = far.copy()
    near[OBS_PALM_TO_HANDLE] = 0.01
    track = EpisodeTrack()
    track.reset(h=200)
    track.record(0, Actor.GUIDE, False, far)
    assert track.verdict() == "The door stayed shut: the hand never reached the handle"
    turned = near.copy()
    turned[OBS_LATCH] = 0.99
    track.record(1, Actor.GUIDE, False, near)
    track.record(2, Actor.GUIDE, False, turned)
    assert track.verdict() == (
        "The door stayed shut: handle reached at step 2, the latch turned 0.99 rad of the 1.2 "
        "that free it"
    )
    pulled = turned.copy()
    pulled[OBS_LATCH], pulled[OBS_HINGE] = 1.3, 1.18
    track.record(3, Actor.GUIDE, False, pulled)
    assert track.verdict() == (
        "The door stayed shut: latch freed at step 4, the door reached 1.18 rad of 1.35"
    )


def test_door_gauges_read_the_observation():
    import sim
    from app.hud import DoorGauges

    env = sim.make_door()
    obs, _ = env.reset(seed=0)
    g = DoorGauges.from_obs(obs)
    assert abs(g.latch) < 0.05 and abs(g.hinge) < 0.05 and g.reach_cm > 5.0
    obs = obs.copy()
    obs[27], obs[28], obs[35:38] = 1.3, 1.4, (0.0, 0.03, 0.04)
    g = DoorGauges.from_obs(obs)
    assert (g.latch, g.hinge) == pytest.approx((1.3, 1.4)) and g.reach_cm == pytest.approx(5.0)


def test_a_banner_splits_into_headline_and_reason():
    from app.overlay import split_banner

    assert split_banner("Paused") == ("Paused", "")
    assert split_banner("The door stayed shut: latch freed at step 4") == (
        "The door stayed shut", "latch freed at step 4")  # fmt: skip
    assert split_banner("Door open! (opened at step 11)") == ("Door open!", "opened at step 11")


def test_the_legend_calls_a_persons_guide_steps_yours():
    from app.timeline import EpisodeTrack
    from episode.types import Actor

    track = EpisodeTrack()
    track.reset(h=200, guide_kind="human")
    assert track.legend_name(Actor.GUIDE) == "you (guide)"
    assert track.legend_name(Actor.HUMAN) == "takeover"
    track.reset(h=50, guide_kind="scripted")
    assert track.legend_name(Actor.GUIDE) == "guide"
