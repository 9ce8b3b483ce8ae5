"""The replay viewer: recorded episodes with the app's view, timeline and horizon plot.

The sim state of each step is restored from its observation (no physics is run):

* ``qpos[1:28]`` is ``obs[0:27]``; the door hinge ``qpos[28]`` is ``obs[28]`` and the latch
  ``qpos[29]`` is ``obs[27]``;
* the arm slide ``ARTz`` (``qpos[0]``, not observed) is recovered from the observed palm
  position: it is a pure translation at the root of the arm's chain, so the palm is the palm
  with ``ARTz = 0`` plus ``ARTz`` times the slide axis;
* the door's position is drawn at random by ``env.reset``: the viewer resets the env with the
  episode's recorded ``seed`` attribute, which puts the door where it was; then it checks the
  handle position the model gives against the reset observation's and, if they differ (no
  seed recorded, or another env version), moves the door's ``frame`` body by the difference
  (the door hangs from that jointless body, so this is exact at rest).

Keys: Space play/pause, Right/Left one step, Up/Down ten steps, Home/End, N/B next/previous
episode, = / - faster/slower, click the timeline to seek, drag / wheel on the view to orbit /
zoom (V resets), F1 or H help, Escape quits.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np
import pygame

from app import theme
from app.camera import SCENE_VIEW, OrbitCamera
from app.config import ReplayConfig
from app.hud import Hud, ReplayState
from app.layout import frame_to_surface, panel_rect, timeline_rect, view_rect, window_size
from app.overlay import draw_view_frame
from app.plot import HorizonPlot
from app.theme import Fonts, TextCache
from app.timeline import EpisodeTrack, draw_timeline
from episode.types import Actor
from learner.interrupts import stop_requests
from recordings.episode import Episode
from sim.door import OBS_HANDLE, OBS_HINGE, OBS_LATCH, OBS_PALM, make_door
from sim.errors import UserError
from sim.render import DoorRenderer

log = logging.getLogger(__name__)

HANDLE_TOLERANCE = 1e-4
"""Handle position error (m) at reset above which the door body is moved to match it."""
PLOT_EPISODES = 2000
"""Most episodes read for the dataset's horizon plot (the last ones)."""

REPLAY_KEYS: tuple[tuple[str, str], ...] = (
    ("Space", "play / pause"),
    ("Right / Left", "one step forward / back"),
    ("Up / Down", "ten steps forward / back"),
    ("Home / End", "first / last step"),
    ("N / B", "next / previous episode"),
    ("PageDown / PageUp", "next / previous episode"),
    ("= / -", "faster / slower"),
    ("mouse click", "on the timeline: seek there"),
    ("mouse drag / wheel", "orbit / zoom the view (V resets it)"),
    ("F1 or H", "show / hide this help"),
    ("Escape", "quit"),
)
"""The replay viewer's bindings (help overlay)."""

LEGEND: tuple[tuple[str, str], ...] = (
    ("blue", "the guide acted (steps before h)"),
    ("green", "the explorer acted (steps from h on)"),
    ("orange", "a human took over (intervention)"),
    ("gold flag", "the step the door opened"),
    ("white line", "the step shown"),
)
"""What the timeline's colours mean (help overlay)."""


@dataclass
class ReplayData:
    """A dataset opened for replay."""

    dataset: Path
    """Dataset directory."""
    count: int
    """Episodes in it."""
    start: int
    """Episode to show first."""
    hs: list[int] = field(default_factory=list)
    """Guide horizon of each episode (for the plot)."""
    successes: list[bool] = field(default_factory=list)
    """Whether the door was open at the end of each episode."""


def load_replay(dataset: Path, episode: int) -> ReplayData:
    """Open ``dataset`` for replay, checking ``episode`` exists.

    Raises:
        UserError: Not a dataset, an empty one, or no such episode.

    """
    from recordings.reader import episode_count, iter_episodes

    count = episode_count(dataset)
    if count == 0:
        raise UserError(f"{dataset} holds no episodes yet: nothing to replay")
    if not 0 <= episode < count:
        raise UserError(f"{dataset} has episodes 0..{count - 1}; --episode {episode} is not one")
    data = ReplayData(Path(dataset), count, episode)
    for ep in iter_episodes(dataset, range(max(0, count - PLOT_EPISODES), count)):
        data.hs.append(ep.h)
        data.successes.append(bool(len(ep) and ep.step_success[-1]))
    return data


class StateRestorer:
    """Puts the door env's MuJoCo state where a recorded observation says it was.

    Args:
        env: A door env (``sim.make_door()``); its state is overwritten, no physics is run.

    """

    def __init__(self, env: object) -> None:
        self.env = env
        base = env.unwrapped  # type: ignore[attr-defined]
        self.model: mujoco.MjModel = base.model
        self.data: mujoco.MjData = base.data
        self._door = self.model.body("frame").id
        self._palm = self.model.site("S_grasp").id
        self._handle = self.model.site("S_handle").id
        self._hinge = self.model.jnt_qposadr[self.model.joint("door_hinge").id]
        self._latch = self.model.jnt_qposadr[self.model.joint("latch").id]
        scratch = mujoco.MjData(self.model)
        mujoco.mj_kinematics(self.model, scratch)
        axis = scratch.xaxis[0]
        self._slide_axis = axis / np.linalg.norm(axis)
        self.door_moved = False
        """The door body had to be moved to match the handle (the seed did not place it)."""

    def start_episode(self, seed: int | None, first_obs: np.ndarray) -> None:
        """Place the door for an episode: reset with its seed, then check the handle.

        Args:
            seed: The episode's reset seed (None if it had none).
            first_obs: The episode's reset observation (the scene at rest, so the observed
                handle position and the joints agree exactly).

        """
        self.env.reset(seed=seed)  # type: ignore[attr-defined]
        self.door_moved = False
        self.apply(first_obs)
        offset = np.asarray(first_obs[OBS_HANDLE], np.float64) - self.data.site_xpos[self._handle]
        if np.linalg.norm(offset) > HANDLE_TOLERANCE:
            self.model.body_pos[self._door] += offset
            self.door_moved = True
            self.apply(first_obs)

    def apply(self, obs: np.ndarray) -> None:
        """Set the joints for ``obs`` (the door body stays where :meth:`start_episode` put it).

        An observation's palm and handle positions are MuJoCo's positions from the start of
        the last physics substep, its joint angles those from the end, so while the hand
        moves the restored palm can differ from the observed one by a substep's motion
        (below a millimetre); at rest they agree exactly.
        """
        m, d = self.model, self.data
        obs = np.asarray(obs, dtype=np.float64)
        d.qpos[1:28] = obs[0:27]
        d.qpos[self._hinge] = obs[OBS_HINGE]
        d.qpos[self._latch] = obs[OBS_LATCH]
        d.qpos[0] = 0.0
        d.qvel[:] = 0.0
        mujoco.mj_kinematics(m, d)
        d.qpos[0] = float(np.dot(obs[OBS_PALM] - d.site_xpos[self._palm], self._slide_axis))
        mujoco.mj_forward(m, d)


class ReplayViewer:
    """Plays a dataset's episodes in an open pygame window.

    Args:
        cfg: The replay config.
        surface: The display surface.
        data: The dataset (:func:`load_replay`).

    """

    def __init__(self, cfg: ReplayConfig, surface: pygame.Surface, data: ReplayData) -> None:
        self.cfg, self.surface, self.data = cfg, surface, data
        self.fonts = Fonts.load()
        self.text = TextCache()
        self.hud = Hud(self.fonts, self.text)
        self.env = make_door()
        model: mujoco.MjModel = getattr(self.env.unwrapped, "model")  # noqa: B009
        model.vis.quality.offsamples = cfg.antialias
        self.renderer = DoorRenderer(model, cfg.view_size, cfg.view_size, view=SCENE_VIEW)
        self.orbit = OrbitCamera(self.renderer.camera, view_rect(cfg.view_size))
        self.restorer = StateRestorer(self.env)
        self.plot = HorizonPlot()
        for h, ok in zip(data.hs, data.successes, strict=True):
            self.plot.add(h, ok)
        self.track = EpisodeTrack()
        self.rate = cfg.rate
        self.playing = not cfg.paused
        self.help_visible = False
        self.quit_requested = False
        self.frames = 0
        self.episode: Episode | None = None
        self.index = -1
        self.cursor = 0
        self._credit = 0.0
        self._last = time.perf_counter()
        self._view: pygame.Surface | None = None
        self._shown = (-1, -1)
        self._frame_times: deque[float] = deque(maxlen=60)
        self._clock = pygame.time.Clock()
        self.load_episode(data.start)

    # -- navigation --------------------------------------------------------------------------
    def load_episode(self, index: int) -> None:
        """Show episode ``index`` (wrapped into range) from its first step."""
        from recordings.reader import read_one

        index %= self.data.count
        ep = read_one(self.data.dataset, index)
        self.episode, self.index = ep, index
        self.restorer.start_episode(ep.seed, ep.observations[0])
        self.track.reset(ep.h, steps=len(ep), plan_explorer=True, guide_kind=ep.guide_kind)
        for t, (actor, ok) in enumerate(zip(ep.actor, ep.step_success, strict=True)):
            self.track.record(t, Actor(int(actor)), bool(ok), ep.observations[t + 1])
        self.seek(0)

    def seek(self, step: int) -> None:
        """Show the state after ``step`` steps (clamped to the episode)."""
        assert self.episode is not None
        self.cursor = max(0, min(len(self.episode), int(step)))
        self.track.t = len(self.episode)  # every step is known: colour them all

    def handle_events(self) -> None:
        """Keys, mouse and window events."""
        for event in pygame.event.get():
            if self.orbit.handle_event(event):
                self._view = None  # re-render from the new camera
            if event.type == pygame.QUIT:
                self.quit_requested = True
            elif event.type == pygame.KEYDOWN:
                self._key(event.key)
            elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                self._click(event.pos)

    def _key(self, key: int) -> None:
        moves = {pygame.K_RIGHT: 1, pygame.K_LEFT: -1, pygame.K_UP: 10, pygame.K_DOWN: -10}
        if key in moves:
            self.playing = False
            self.seek(self.cursor + moves[key])
        elif key == pygame.K_SPACE:
            self.playing = not self.playing
            if self.playing and self.episode is not None and self.cursor >= len(self.episode):
                self.seek(0)
        elif key == pygame.K_HOME:
            self.seek(0)
        elif key == pygame.K_END:
            self.seek(10**9)
        elif key in (pygame.K_n, pygame.K_PAGEDOWN):
            self.load_episode(self.index + 1)
        elif key in (pygame.K_b, pygame.K_PAGEUP):
            self.load_episode(self.index - 1)
        elif key in (pygame.K_EQUALS, pygame.K_PLUS, pygame.K_KP_PLUS):
            self.rate = min(2000.0, self.rate * 2)
        elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
            self.rate = max(0.5, self.rate / 2)
        elif key in (pygame.K_F1, pygame.K_h):
            self.help_visible = not self.help_visible
        elif key == pygame.K_ESCAPE:
            self.quit_requested = True

    def _click(self, pos: tuple[int, int]) -> None:
        v = self.cfg.view_size
        bar = timeline_rect(v).inflate(-20, 0)
        if bar.collidepoint(pos) and self.episode is not None:
            self.playing = False
            self.seek(round((pos[0] - bar.x) / bar.w * len(self.episode)))

    def _advance(self, now: float) -> None:
        dt, self._last = now - self._last, now
        if not self.playing or self.episode is None:
            self._credit = 0.0
            return
        self._credit += dt * self.rate
        steps = int(self._credit)
        self._credit -= steps
        if steps:
            self.seek(self.cursor + steps)
        if self.cursor >= len(self.episode):
            self.playing = False

    # -- drawing -----------------------------------------------------------------------------
    def _render_view(self) -> pygame.Surface:
        assert self.episode is not None
        if self._view is None or self._shown != (self.index, self.cursor):
            self.restorer.apply(self.episode.observations[self.cursor])
            self._view = frame_to_surface(self.renderer.render(self.restorer.data))
            self._shown = (self.index, self.cursor)
        return self._view

    def actor_at_cursor(self) -> Actor:
        """Who chose the action taken from the state shown (the last actor at the end)."""
        assert self.episode is not None
        actors = self.episode.actor
        if len(actors) == 0:
            return Actor.GUIDE
        return Actor(int(actors[min(self.cursor, len(actors) - 1)]))

    def state(self) -> ReplayState:
        """The panel's content for this frame."""
        ep = self.episode
        assert ep is not None
        note = "door placed by the episode's seed"
        if ep.seed is None or self.restorer.door_moved:
            note = "door placed from the recorded handle position"
        return ReplayState(
            dataset=self.data.dataset.name,
            episode=self.index,
            episodes=self.data.count,
            actor=self.actor_at_cursor(),
            t=self.cursor,
            steps=len(ep),
            h=ep.h,
            guide_kind=ep.guide_kind,
            seed=ep.seed,
            weight_version=ep.weight_version,
            playing=self.playing,
            rate=self.rate,
            success=ep.success,
            opened_at=self.track.opened_at,
            score=ep.normalized_score,
            counts=self.track.counts(),
            restore_note=note,
            fps=self._fps(),
        )

    def draw(self) -> None:
        """Draw the view, the timeline with the cursor, the panel and the help."""
        v = self.cfg.view_size
        self.surface.fill(theme.BACKGROUND)
        self.surface.blit(self._render_view(), (0, 0))
        banner = "" if self.playing else "Paused"
        actor = self.actor_at_cursor()
        draw_view_frame(self.surface, view_rect(v), actor, banner, self.fonts, self.text)
        draw_timeline(
            self.surface, timeline_rect(v), self.track, self.fonts, self.text, cursor=self.cursor
        )
        self.hud.draw_replay_panel(self.surface, panel_rect(v), self.state(), self.plot)
        if self.help_visible:
            self.hud.draw_help(
                self.surface,
                (("REPLAY", REPLAY_KEYS), ("TIMELINE", LEGEND)),
                "Replay keys (F1 or H closes)",
            )

    def _fps(self) -> float:
        times = self._frame_times
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    # -- run ---------------------------------------------------------------------------------
    def frame(self) -> None:
        """One frame: events, playback, drawing."""
        now = time.perf_counter()
        self.handle_events()
        self._advance(now)
        self.draw()
        pygame.display.flip()
        self.frames += 1
        self._frame_times.append(time.perf_counter())
        self._clock.tick(60)

    def run(self, max_frames: int | None = None) -> int:
        """Run until closed (or ``max_frames``); return 0."""
        limit = max_frames if max_frames is not None else self.cfg.max_frames
        try:
            with stop_requests() as stop:
                while not (self.quit_requested or stop.requested) and (
                    limit is None or self.frames < limit
                ):
                    self.frame()
        except KeyboardInterrupt:  # a second Ctrl-C
            log.info("interrupted")
        finally:
            self.renderer.close()
            self.env.close()
        return 0


__all__ = ["ReplayData", "ReplayViewer", "StateRestorer", "load_replay", "window_size"]
