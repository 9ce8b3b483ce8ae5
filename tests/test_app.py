"""The app end to end: real pygame events through the app's own loop, real env, rendering, HDF5.

SDL's dummy video driver stands in for the display; the only stand-in is the gamepad's device
node (the machine has no pad); its events are real pygame events.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygame
import pytest

from app import theme
from app.config import AppConfig
from app.layout import PANEL_WIDTH, window_size
from app.session import Phase
from episode.types import Actor
from guides.dagger import describe_status
from learner.session_setup import episode_seed
from sim.door import OBS_PALM

VIEW = 240


@pytest.fixture
def surface():
    pygame.display.init()
    pygame.font.init()
    yield pygame.display.set_mode(window_size(VIEW))
    pygame.display.quit()


def make_app(surface, run_dir: Path, **overrides):
    from app.main import App

    settings = {
        "run_dir": run_dir,
        "view_size": VIEW,
        "learner": False,
        "guide_episodes": 1,
        "episode_pause_s": 0.0,
        "fixed_steps_per_frame": 1,
        "fps_limit": 1000,
        "render_process": False,
        **overrides,
    }
    return App(AppConfig(**settings), surface)


def post_key(key: int, down: bool = True) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN if down else pygame.KEYUP, key=key))


def frames(app, n: int) -> None:
    for _ in range(n):
        app.frame()


def runner(app):
    """The learning session's episode runner (t, h, obs, guide)."""
    return app.episodes.runner


def palm(app) -> np.ndarray:
    return np.asarray(runner(app).obs[OBS_PALM], dtype=float).copy()


def test_posted_keys_drive_the_palm_through_the_app_loop(surface, tmp_path):
    app = make_app(surface, tmp_path / "run", guide="human", h=200)
    try:
        app.start()
        frames(app, 3)
        assert app.session.phase is Phase.WAITING_FOR_START  # a human guide waits for START
        assert runner(app).t == 0
        post_key(pygame.K_RETURN)
        frames(app, 2)
        assert app.session.phase is Phase.RUNNING
        for axis, key in enumerate((pygame.K_d, pygame.K_w, pygame.K_e)):
            start = palm(app)
            post_key(key)
            frames(app, 25)
            post_key(key, down=False)
            moved = palm(app) - start
            assert moved[axis] > 0.02, (axis, moved)
            assert np.argmax(np.abs(moved)) == axis, (axis, moved)
        assert np.all(app.episodes.track.actors[: app.episodes.track.t] == int(Actor.GUIDE))
        assert app.hud_state().guide_kind == "human"
    finally:
        app.shutdown()


def test_hold_to_run_the_sim_waits_while_the_person_moves_nothing(surface, tmp_path):
    app = make_app(surface, tmp_path / "run", guide="human", h=200, fixed_steps_per_frame=0,
                   guide_rate=500.0)  # fmt: skip
    try:
        app.start()
        post_key(pygame.K_RETURN)
        frames(app, 2)
        assert app.session.phase is Phase.RUNNING
        for _ in range(10):
            app.frame()
            time.sleep(0.01)
        assert runner(app).t == 0  # running, but nobody drives: the clock waits
        post_key(pygame.K_d)
        for _ in range(10):
            app.frame()
            time.sleep(0.01)
        moved = runner(app).t
        assert moved > 0
        post_key(pygame.K_d, down=False)
        frames(app, 1)
        stopped = runner(app).t
        for _ in range(10):
            app.frame()
            time.sleep(0.01)
        assert runner(app).t == stopped  # let go: it waits again, with no backlog
        post_key(pygame.K_SPACE)  # closing the fingers runs the clock until they are closed
        for _ in range(30):
            app.frame()
            time.sleep(0.01)
        assert runner(app).t > stopped
    finally:
        app.shutdown()


def test_an_episode_the_guide_took_whole_ends_with_the_guides_badge(surface, tmp_path):
    app = make_app(surface, tmp_path / "run", guide="scripted", h=200, h1=150,
                   episode_pause_s=30.0, fixed_steps_per_frame=50)  # fmt: skip
    try:
        app.start()
        while app.session.phase is not Phase.EPISODE_DONE:
            app.frame()
        assert runner(app).t == 200 and app.hud_state().actor is Actor.GUIDE
    finally:
        app.shutdown()


def test_handover_at_h_and_an_override_is_an_intervention(surface, tmp_path):
    from recordings.reader import read_one

    run_dir = tmp_path / "run"
    app = make_app(surface, run_dir, guide="scripted", h=30)
    app.start()
    assert app.session.phase is Phase.RUNNING  # a scripted guide does not wait
    seen = []
    while runner(app).t < 45:
        seen.append((runner(app).t, app.episodes.actor_now()))
        app.frame()
    assert dict(seen)[29] is Actor.GUIDE
    assert dict(seen)[30] is Actor.EXPLORER
    assert np.all(app.episodes.track.actors[:30] == int(Actor.GUIDE))
    assert np.all(app.episodes.track.actors[30:45] == int(Actor.EXPLORER))
    post_key(pygame.K_TAB)  # take over
    frames(app, 10)
    assert app.episodes.actor_now() is Actor.HUMAN
    post_key(pygame.K_TAB)  # hand back
    frames(app, 5)
    t = runner(app).t
    assert np.all(app.episodes.track.actors[45:55] == int(Actor.HUMAN))
    assert np.all(app.episodes.track.actors[55:t] == int(Actor.EXPLORER))
    post_key(pygame.K_ESCAPE)
    assert app.run() == 0
    ep = read_one(run_dir / "episodes" / "door-app-v0", 0)
    assert len(ep) == t
    assert ep.truncations[-1]  # ended early: kept, marked truncated
    assert ep.h == 30 and ep.guide_kind == "scripted"
    np.testing.assert_array_equal(ep.actor, app.episodes.track.actors[:t])
    assert int(np.sum(ep.actor == int(Actor.HUMAN))) == 10
    took_over = ep.commands[ep.actor == int(Actor.HUMAN)]
    np.testing.assert_array_equal(took_over[:, :5], 0.0)  # the person's Command (no key held)


def test_gamepad_plug_and_unplug_mid_episode_pauses_never_crashes(surface, tmp_path):
    from teleop.gamepad import GamepadDevice

    @dataclass
    class PadNode:  # the device node this machine lacks; its events below are real
        instance_id: int = 42

        def get_instance_id(self) -> int:
            return self.instance_id

        def get_name(self) -> str:
            return "test pad"

    app = make_app(surface, tmp_path / "run", guide="human", h=200, wait_for_start=False)
    try:
        app.devices.gamepad = GamepadDevice(opener=lambda index: PadNode())
        app.devices.connect()
        app.start()
        # Announcing a pad that cannot be opened does nothing bad.
        pygame.event.post(pygame.event.Event(pygame.JOYDEVICEREMOVED, instance_id=7))
        frames(app, 2)
        pygame.event.post(pygame.event.Event(pygame.JOYDEVICEADDED, device_index=0))
        frames(app, 1)
        assert app.devices.gamepad.is_connected
        start = palm(app)
        pygame.event.post(
            pygame.event.Event(pygame.JOYAXISMOTION, instance_id=42, axis=0, value=1.0)
        )
        frames(app, 25)
        assert palm(app)[0] - start[0] > 0.02
        pygame.event.post(pygame.event.Event(pygame.JOYDEVICEREMOVED, instance_id=42))
        frames(app, 2)
        assert not app.devices.gamepad.is_connected
        assert app.session.phase is Phase.PAUSED
        assert "unplugged" in app.hud_state().message
        t = runner(app).t
        frames(app, 5)
        assert runner(app).t == t  # the human is paused
        post_key(pygame.K_RETURN)  # go on with the keyboard
        frames(app, 3)
        assert runner(app).t > t
    finally:
        app.shutdown()


def test_hud_timeline_and_horizon_plot_are_drawn(surface, tmp_path):
    app = make_app(surface, tmp_path / "run", guide="scripted", h=20, fixed_steps_per_frame=50,
                   render_process=True)  # fmt: skip
    try:
        assert app.view.mode == "process"  # frames come from the child renderer
        app.start()
        while len(app.episodes.plot.hs) < 3:
            app.frame()
        frames(app, 2)
        post_key(pygame.K_F1)
        shot = app.save_screenshot(tmp_path / "hud.png")
        assert shot.exists()
        pixels = pygame.surfarray.array3d(surface).transpose(1, 0, 2)
        assert pixels.std() > 20  # not blank
        panel = pixels[:, VIEW:]
        assert panel.shape[1] == PANEL_WIDTH
        assert np.all(panel == theme.PLOT_H, axis=-1).sum() > 50  # the horizon plot's line
        timeline = pixels[VIEW:, :VIEW]
        for actor in (Actor.GUIDE, Actor.EXPLORER):
            assert np.all(timeline == theme.ACTOR_COLORS[actor], axis=-1).sum() > 20
        view = pixels[8 : VIEW - 8, 8 : VIEW - 8]
        assert view.std() > 10  # the MuJoCo scene
        app.frame()  # the help overlay
        assert app.session.help_visible
        assert app.episodes.plot.hs[:3] == [20, 20, 20]
    finally:
        app.shutdown()


def test_learner_trains_while_the_window_runs_then_resume(surface, tmp_path):
    run_dir = tmp_path / "run"
    app = make_app(surface, run_dir, guide="scripted", h=20, learner=True, warmup_steps=100,
                   fixed_steps_per_frame=50)  # fmt: skip
    app.start()
    for _ in range(2000):
        app.frame()
        view = app.episodes.learner_view()
        if view is not None and view.updates > 0 and len(app.episodes.plot.hs) >= 2:
            break
    view = app.episodes.learner_view()
    assert view is not None and view.error is None
    assert view.updates > 0 and view.online >= 100
    episodes = len(app.episodes.plot.hs)
    pygame.event.post(pygame.event.Event(pygame.QUIT))  # closing the window
    assert app.run() == 0
    assert list((run_dir / "checkpoints").glob("step_*.pt"))
    resumed = make_app(surface, run_dir, guide="scripted", h=20)
    try:
        assert resumed.episodes.plot.hs[:episodes] == app.episodes.plot.hs[:episodes]
        assert len(resumed.episodes.learning.online) >= app.episodes.learning.env_steps - 1
        resumed.start()
        assert resumed.episodes.seed == episode_seed(
            0, app.episodes.learning.counters.episodes
        )  # no repeat
    finally:
        resumed.shutdown()


def test_a_failed_recorder_reaches_the_hud_and_the_log_and_recorded_data_stays(
    surface, tmp_path, caplog
):
    from recordings.reader import episode_count

    run_dir = tmp_path / "run"
    app = make_app(surface, run_dir, guide="scripted", h=20, fixed_steps_per_frame=50)
    app.start()
    while app.episodes.learning.recorder.episodes_written < 2:
        app.frame()
    dataset = run_dir / "episodes" / "door-app-v0"
    moved = tmp_path / "moved" / "door-app-v0"
    moved.parent.mkdir()
    dataset.rename(moved)  # the writer's file is gone from under it; the data is intact
    for _ in range(30):
        app.frame()
        if app.episodes.alert:
            break
    assert "recording failed" in app.episodes.alert
    state = app.hud_state()
    assert state.recording is not None and state.recording.error
    assert any("recorder failed" in r.getMessage() or "recording to" in r.getMessage()
               for r in caplog.records)  # fmt: skip
    frames(app, 3)  # the app goes on (paused, waiting), it does not crash
    assert app.session.phase in (Phase.PAUSED, Phase.WAITING_FOR_START)
    post_key(pygame.K_ESCAPE)
    assert app.run() == 1  # the failure is reported at exit
    assert episode_count(moved) >= 2


def test_app_keys_switch_guide_and_pin_h_before_the_episode_starts(surface, tmp_path):
    from recordings.reader import iter_episodes

    run_dir = tmp_path / "run"
    app = make_app(surface, run_dir, guide="human", h1=120, guide_episodes=1)
    try:
        app.start()
        frames(app, 2)
        assert app.session.phase is Phase.WAITING_FOR_START and runner(app).h == 120
        post_key(pygame.K_RIGHTBRACKET)  # pin h 10 higher: applies at once (nothing ran yet)
        frames(app, 2)
        assert runner(app).h == 130 and app.hud_state().h_pinned
        post_key(pygame.K_g)  # next guide kind: scripted, which does not wait for START
        frames(app, 3)
        assert runner(app).guide.kind == "scripted"
        assert app.session.phase is Phase.RUNNING and runner(app).t > 0
        post_key(pygame.K_c)  # follow the curriculum again (from the next episode)
        post_key(pygame.K_r)  # end this episode now: kept, truncated
        frames(app, 2)
        assert app.episodes.pinned_h is None and runner(app).h == 120
    finally:
        app.shutdown()
    # The two episodes reset before a step (pin, guide switch) left nothing; the two that ran
    # were kept, each truncated where it stopped.
    episodes = list(iter_episodes(run_dir / "episodes" / "door-app-v0"))
    assert [(ep.h, ep.guide_kind) for ep in episodes] == [(130, "scripted"), (120, "scripted")]
    assert all(len(ep) > 0 and ep.truncations[-1] for ep in episodes)
    # ... and used no seed: the seeds recorded are the run's first two (none skipped)
    assert [ep.seed for ep in episodes] == [episode_seed(0, 0), episode_seed(0, 1)]


def test_imitation_guide_learns_from_your_demos_and_your_takeovers(surface, tmp_path):
    """K human episodes -> background training -> the app asks, the person accepts (I), the
    guide switches at the next boundary; the person's takeovers in imitation-guided episodes
    are aggregated and retrained (DAgger)."""
    from recordings.reader import iter_episodes

    run_dir = tmp_path / "run"
    app = make_app(surface, run_dir, guide="human", h=200, wait_for_start=False,
                   fixed_steps_per_frame=20, imitate_after=2, imitate_steps=100)  # fmt: skip
    trainer = app.episodes.assist.trainer
    try:
        app.start()
        post_key(pygame.K_w)  # the person drives the hand toward the door (held)
        while len(app.episodes.plot.hs) < 2:
            stats = trainer.stats()
            assert not stats.training and stats.version == 0  # nothing trains before K demos
            app.frame()
        status = app.hud_state().imitation
        assert status is not None and status.demos == 2 and status.samples == 400
        assert status.training or status.version == 1
        assert trainer.wait(timeout=120)
        frames(app, 1)
        assert "v1 ready: press I" in app.session.message  # it asks; nothing switches by itself
        assert runner(app).guide is app.human and 0 < runner(app).t < 200  # not mid-episode
        post_key(pygame.K_w, down=False)
        post_key(pygame.K_i)  # accepted
        frames(app, 1)
        assert runner(app).guide is app.human  # this episode stays the person's
        while len(app.episodes.plot.hs) < 3:
            app.frame()
        assert runner(app).guide is not app.human and runner(app).t == 0  # at the boundary
        assert app.hud_state().guide_kind.startswith("imitation v")
        assert trainer.wait(timeout=120)  # the 3rd demo's round
        version = trainer.stats().version
        frames(app, 1)
        post_key(pygame.K_TAB)  # take over for two frames: 40 interventions
        frames(app, 2)
        post_key(pygame.K_TAB)
        while len(app.episodes.plot.hs) < 4:
            app.frame()
        status = app.hud_state().imitation
        assert status.intervention_samples == 40 and status.samples == 600 + 40
        assert trainer.wait(timeout=120) and trainer.stats().version == version + 1
        assert app.hud_state().guide_kind == f"imitation v{version}"  # until the boundary
        while len(app.episodes.plot.hs) < 5:
            app.frame()
        assert app.hud_state().guide_kind == f"imitation v{version + 1}"
        state, data = describe_status(app.hud_state().imitation)
        assert "guiding" in state and "40 interventions" in data
        post_key(pygame.K_i)  # back to the human guide, from the next episode
        frames(app, 1)
        assert runner(app).guide is not app.human and "guide human" in app.session.message
        while len(app.episodes.plot.hs) < 6:
            app.frame()
        assert runner(app).guide is app.human and app.hud_state().guide_kind == "human"
    finally:
        app.shutdown()
    episodes = list(iter_episodes(run_dir / "episodes" / "door-app-v0"))
    kinds = [ep.guide_kind for ep in episodes]
    assert kinds[:6] == ["human"] * 3 + ["imitation"] * 3
    assert [int(np.sum(ep.actor == int(Actor.HUMAN))) for ep in episodes[3:6]] == [40, 0, 0]


def test_a_failed_imitation_trainer_reaches_the_hud_and_the_log(surface, tmp_path, caplog):
    app = make_app(surface, tmp_path / "run", guide="human", h=200, wait_for_start=False,
                   fixed_steps_per_frame=50, imitate_after=1, imitate_steps=50)  # fmt: skip
    try:
        app.start()
        bad = np.full((3, runner(app).obs.shape[0]), np.nan)  # data its thread rejects
        app.episodes.assist.trainer.add_demos(bad, np.zeros((3, 6)))
        for _ in range(50):
            app.frame()
            if app.episodes.assist.error_line() and app.episodes.failed:
                break
        assert any("imitation trainer failed" in line for line in app.episodes.failed)
        assert "imitation trainer failed" in app.session.message
        status = app.hud_state().imitation
        assert status is not None and status.error
        assert any("imitation trainer failed" in r.getMessage() for r in caplog.records)
        frames(app, 3)  # the window goes on with the human guide
        assert runner(app).guide is app.human
    finally:
        app.shutdown()
