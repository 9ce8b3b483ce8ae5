"""The scene view: the inset from above, its cadence, and the reset scene shown at an episode start.

Real MuJoCo rendering (in-process and in the render process), real pygame surfaces.
"""

from __future__ import annotations

import time

import numpy as np
import pygame
import pytest

import sim
from app import theme
from app.camera import INSET_VIEW, SCENE_VIEW, inset_size
from app.overlay import INSET_MARGIN
from app.scene_view import InsetOptions, SceneView
from app.session import Phase
from sim.render import CameraView, DoorRenderer
from tests import test_app
from tests.test_app import VIEW, frames, make_app, post_key

surface = test_app.surface  # the app tests' window fixture


def pixels(s: pygame.Surface, rect: pygame.Rect | None = None) -> np.ndarray:
    """``(h, w, 3)`` RGB pixels of a surface (or of ``rect`` in it)."""
    if rect is not None:
        s = s.subsurface(rect)
    return pygame.surfarray.array3d(s).transpose(1, 0, 2).astype(int)


def fresh_render(env, size: tuple[int, int], view: CameraView) -> np.ndarray:
    with DoorRenderer(env.unwrapped.model, *size, view=view) as r:
        return r.render(env.unwrapped.data).astype(int)


def test_the_inset_from_above_is_drawn_framed_in_the_views_corner(surface, tmp_path):
    app = make_app(surface, tmp_path / "run", guide="scripted", h=200)
    try:
        app.start()
        frames(app, 5)
        app.draw(force_render=True)
        inset = app.view.inset_surface()
        assert inset is not None and inset.get_size() == inset_size(VIEW) == (80, 60)
        rect = inset.get_rect(bottomright=(VIEW - INSET_MARGIN, VIEW - INSET_MARGIN))
        shown = pixels(app.surface, rect)
        below_label = shown[20:]  # the label sits on the top rows
        np.testing.assert_array_equal(below_label, pixels(inset)[20:])
        np.testing.assert_array_equal(pixels(inset), fresh_render(app.env, (80, 60), INSET_VIEW))
        assert not np.array_equal(pixels(inset), fresh_render(app.env, (80, 60), SCENE_VIEW))
        frame = rect.inflate(2, 2)
        assert tuple(app.surface.get_at((frame.left, frame.bottom - 1)))[:3] == theme.DIM
        assert tuple(app.surface.get_at((frame.right - 1, frame.centery)))[:3] == theme.DIM
    finally:
        app.shutdown()


def test_no_inset_leaves_the_corner_to_the_scene(surface, tmp_path):
    app = make_app(surface, tmp_path / "run", guide="scripted", h=200, inset=False)
    try:
        app.start()
        frames(app, 3)
        assert app.view.inset_surface() is None and app.view.inset_renders == 0
        corner = pygame.Rect(VIEW - 90, VIEW - 70, 80, 60)
        np.testing.assert_array_equal(
            pixels(app.surface, corner), pixels(app.view.surface(), corner)
        )
    finally:
        app.shutdown()


@pytest.mark.parametrize(("every", "expected"), [(1, 9), (3, 3)])
def test_the_inset_renders_with_every_kth_scene_frame(every, expected):
    env = sim.make_door()
    env.reset(seed=0)
    view = SceneView(env, 240, render_hz=240.0, use_process=False,
                     inset=InsetOptions((80, 60), every))  # fmt: skip
    try:
        renders = 0
        while renders < 9:
            env.step(np.full(sim.ACT_DIM, 0.3, np.float32))
            view.mark_dirty()
            time.sleep(1.5 / view.render_hz)  # the pace lets each marked frame render
            view.surface()
            renders += view.take_rendered()
        assert view.inset_renders == expected
    finally:
        view.close()
        env.close()


def test_the_render_process_renders_the_inset_too():
    env = sim.make_door()
    env.reset(seed=2)
    view = SceneView(env, 240, use_process=True, inset=InsetOptions((80, 60)))
    try:
        assert view.mode == "process", view.notice
        main = view.surface(force=True)
        inset = view.inset_surface()
        assert inset is not None and inset.get_size() == (80, 60)
        expected = fresh_render(env, (80, 60), INSET_VIEW)
        assert np.abs(pixels(inset) - expected).mean() < 1.0
        assert np.abs(pixels(main) - fresh_render(env, (240, 240), SCENE_VIEW)).mean() < 1.0
    finally:
        view.close()
        env.close()


def test_waiting_for_start_shows_the_new_episodes_reset_scene(surface, tmp_path):
    app = make_app(surface, tmp_path / "run", guide="scripted", h=200, wait_for_start=True,
                   render_process=True, fixed_steps_per_frame=50,
                   episode_pause_s=30.0)  # fmt: skip
    data = app.env.unwrapped.data
    try:
        assert app.view.mode == "process", app.view.notice
        app.start()
        post_key(pygame.K_RETURN)
        for _ in range(50):
            app.frame()
            if app.session.phase is Phase.EPISODE_DONE:
                break
        assert app.session.phase is Phase.EPISODE_DONE, (app.session.phase, app.episodes.runner.t)
        last = data.qpos.copy()
        post_key(pygame.K_RETURN)  # skips the pause: the next episode is reset, waits for Return
        app.frame()
        assert app.session.phase is Phase.WAITING_FOR_START and app.episodes.runner.t == 0
        reset = data.qpos.copy()
        assert not np.allclose(reset, last)
        for _ in range(5):  # every frame while it waits shows the reset scene
            np.testing.assert_array_equal(app.view.shown_qpos, reset)
            clear = pygame.Rect(8, 110, 130, 60)  # under the banner, left of the inset
            shown = pixels(app.surface, clear)
            expected = fresh_render(app.env, (VIEW, VIEW), SCENE_VIEW)[110:170, 8:138]
            assert np.abs(shown - expected).mean() < 1.0
            app.frame()
    finally:
        app.shutdown()
