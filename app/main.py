"""The app's window loop: events -> devices and session; paced env steps; render; HUD; flip.

One frame of :class:`App`:

1. every pygame event goes to the devices (keyboard, gamepad) and the app's own keys;
2. the devices' TeleopEvents go to the :class:`~app.session.Session` (start, pause, reset,
   take over, speed, help, quit);
3. the :class:`~app.episodes.EpisodeController` takes the env steps the session says are due,
   through the one :class:`~learner.session.LearningSession` (with the human's action when
   they took over: an intervention);
4. the view is re-rendered only when the sim moved; the HUD, timeline and plot are drawn;
5. worker threads (learner, recorder, imitation trainer) are checked: an error reaches the
   HUD and the log.

With ``--imitate-after K`` a :class:`~guides.dagger.DaggerLoop` watches the episodes: after K
that the human guided, an imitation guide trains on them in the background and takes the
guide role from an episode boundary; the human's takeovers become its corrections (DAgger).

Closing the window, Escape or Ctrl-C ends the session: the episode in progress is kept
(truncated), the learner stops, a checkpoint is saved and the recordings are flushed.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from pathlib import Path

import pygame

import sim
from app import theme
from app.camera import OrbitCamera, inset_size
from app.config import AppConfig
from app.devices import DeviceHub
from app.episodes import EpisodeController
from app.hud import DoorGauges, Hud, HudState, LearnerView, RecordingView
from app.layout import panel_rect, timeline_rect, view_rect
from app.overlay import draw_inset, draw_view_frame
from app.scene_view import InsetOptions, SceneView
from app.session import Pacing, Phase, Session
from app.theme import Fonts, TextCache
from app.timeline import draw_timeline
from guides.human import HumanGuide
from guides.mapping import mapper_for
from learner.interrupts import no_interrupts, stop_requests
from recordings.writer import RecordingError
from teleop.gamepad import GamepadConfig, GamepadDevice
from teleop.keyboard import KeyboardConfig, KeyboardDevice

log = logging.getLogger(__name__)


PIN_STEP = 10
"""How far [ and ] move a pinned h."""
STATUS_PERIOD_S = 0.25
"""How often the panel refreshes the learner and recorder status and the FPS figure."""


class App:
    """One app session in an open pygame window: it forwards events and draws.

    The :class:`~app.episodes.EpisodeController` drives the learning session.

    Args:
        cfg: The app config.
        surface: The display surface (``pygame.display.set_mode``).

    """

    def __init__(self, cfg: AppConfig, surface: pygame.Surface) -> None:
        self.cfg = cfg
        self.surface = surface
        self.fonts = Fonts.load()
        self.text = TextCache()
        self.hud = Hud(self.fonts, self.text)
        self._loading("opening the door scene")
        self.env = sim.make_door()
        self.model = self.env.unwrapped.model
        self.devices = DeviceHub(
            KeyboardDevice(KeyboardConfig(palm_speed=cfg.palm_speed, twist_speed=cfg.twist_speed)),
            GamepadDevice(GamepadConfig(palm_speed=cfg.palm_speed, twist_speed=cfg.twist_speed)),
        )
        self.devices.connect()
        self.human = HumanGuide(self.devices, mapper_for(self.env), dt=float(self.env.unwrapped.dt))
        wait = cfg.wait_for_start if cfg.wait_for_start is not None else cfg.guide == "human"
        pacing = Pacing(cfg.guide_rate, cfg.explorer_rate,
                        fixed_steps_per_frame=cfg.fixed_steps_per_frame,
                        hold_to_run=cfg.hold_to_run)  # fmt: skip
        self.session = Session(pacing, wait_for_start=wait, done_pause_s=cfg.episode_pause_s)
        self.view = SceneView(
            self.env,
            cfg.view_size,
            cfg.render_hz,
            cfg.antialias,
            use_process=cfg.render_process,
            render_nice=cfg.render_nice,
            inset=InsetOptions(inset_size(cfg.view_size) if cfg.inset else None, cfg.inset_every),
        )
        self.orbit = OrbitCamera(self.view.camera, view_rect(cfg.view_size))
        try:
            self.episodes = EpisodeController(
                cfg, self.env, self.human, self.session, self._loading, self.view.mark_dirty,
            )  # fmt: skip
        except BaseException:
            self.view.close()
            raise
        self.frames = 0
        self._frame_times: deque[float] = deque(maxlen=60)
        self._clock = pygame.time.Clock()
        self.fps_limit = cfg.fps_limit
        """Most frames per second (``--fps-limit``; scripts may change it)."""
        self._started = False
        self._closed = False
        self._slow: tuple[float, LearnerView | None, RecordingView | None, float] | None = None
        self.profile: list[tuple[float, float, bool]] | None = None
        """Set to a list to collect (events+steps s, drawing s, view rendered) per frame."""

    # -- events ------------------------------------------------------------------------------
    def handle_events(self, now: float) -> None:
        """Dispatch the pygame queue (the app's one event loop)."""
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.session.quit_requested = True
            elif event.type == pygame.KEYDOWN:
                self._app_key(event.key)
            if self.orbit.handle_event(event):
                self.view.mark_dirty()
            self.devices.handle_event(event)
        for teleop_event in self.devices.get_events():
            self.session.handle(teleop_event, now, self.episodes.human_segment(),
                                person_driving=self.episodes.human_acting())  # fmt: skip
        if self.devices.take_pad_lost():
            self.session.device_lost(self.episodes.human_acting())

    def _app_key(self, key: int) -> None:
        ep = self.episodes
        if key == pygame.K_g:
            ep.cycle_guide()
        elif key == pygame.K_i:
            ep.toggle_imitation()
        elif key in (pygame.K_LEFTBRACKET, pygame.K_RIGHTBRACKET):
            base = ep.pinned_h if ep.pinned_h is not None else ep.runner.h
            ep.pin_h(base + (PIN_STEP if key == pygame.K_RIGHTBRACKET else -PIN_STEP))
        elif key == pygame.K_c:
            ep.pin_h(None)
        elif key == pygame.K_F12:
            path = self.save_screenshot()
            self.session.message = f"screenshot saved: {path}"

    # -- frame -------------------------------------------------------------------------------
    def frame(self) -> None:
        """One frame: events, steps, workers, drawing."""
        now = time.perf_counter()
        self._check_workers()
        self.episodes.poll_assist()
        self.handle_events(now)
        if self.session.quit_requested:
            return  # closing: no more steps
        if self.session.reset_requested:
            self.new_episode(now)
        self.episodes.run_steps(now)
        if self.session.ready_for_next(now):
            self.new_episode(now)
        self._check_workers()
        t_sim = time.perf_counter()
        self.draw()
        pygame.display.flip()
        t_draw = time.perf_counter()
        self.frames += 1
        self._frame_times.append(t_draw)
        if self.profile is not None:
            self.profile.append((t_sim - now, t_draw - t_sim, self.view.take_rendered()))
        self._clock.tick(self.fps_limit)

    def _check_workers(self) -> None:
        """Surface worker errors (HUD, log, exit code) once each; detach a failed recorder."""
        self.episodes.check_workers()
        if self.episodes.take_news():
            self._slow = None  # show it now

    def fps(self) -> float:
        """Frames per second over the last second or so."""
        times = self._frame_times
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    # -- drawing -----------------------------------------------------------------------------
    def draw(self, force_render: bool = False) -> None:
        """Draw the view, its overlays, the timeline, the panel and the help.

        Args:
            force_render: Re-render the scene now even if ``render_hz`` says wait.

        """
        v = self.cfg.view_size
        self.surface.fill(theme.BACKGROUND)
        self.surface.blit(self.view.surface(force_render), (0, 0))
        draw_inset(self.surface, view_rect(v), self.view.inset_surface(), self.fonts, self.text)
        if self.view.notice:
            self.session.message, self.view.notice = self.view.notice, ""
        self._view_overlay(view_rect(v))
        draw_timeline(self.surface, timeline_rect(v), self.episodes.track, self.fonts, self.text)
        self.hud.draw_panel(self.surface, panel_rect(v), self.hud_state(), self.episodes.plot)
        if self.session.help_visible:
            self.hud.draw_help(self.surface)

    def _view_overlay(self, rect: pygame.Rect) -> None:
        banner = {
            Phase.WAITING_FOR_START: "Press Return to start",
            Phase.PAUSED: "Paused",
        }.get(self.session.phase, "")
        if self.session.phase is Phase.EPISODE_DONE:
            banner = self.episodes.track.verdict()
        draw_view_frame(
            self.surface, rect, self.episodes.actor_now(), banner, self.fonts, self.text
        )

    def _slow_parts(self) -> tuple[LearnerView | None, RecordingView | None, float]:
        """Learner and recorder status and the FPS figure, refreshed 4 times a second."""
        now = time.perf_counter()
        if self._slow is None or now - self._slow[0] >= STATUS_PERIOD_S:
            parts = (self.episodes.learner_view(), self.episodes.recording_view(), self.fps())
            self._slow = (now, *parts)
        return self._slow[1], self._slow[2], self._slow[3]

    def hud_state(self) -> HudState:
        """The panel's content for this frame."""
        ep = self.episodes
        status = ep.learning.curriculum.status()
        learner, recording, fps = self._slow_parts()
        guide = self.episodes.runner.guide
        return HudState(
            actor=self.episodes.actor_now(),
            guide_kind=self.episodes.assist.label(guide) or str(getattr(guide, "kind", "?")),
            phase=self.session.phase,
            t=self.episodes.runner.t,
            steps=sim.EPISODE_STEPS,
            h=self.episodes.runner.h,
            h_pinned=self.episodes.pinned_h is not None,
            h1=status.H1,
            stage=status.stage,
            n_stages=status.n_stages,
            strategy=status.strategy,
            reason=status.reason,
            rate=self.session.rate(ep.human_segment()),
            episode=ep.episode_number(),
            seed=ep.seed,
            last_result=ep.last_result,
            next_guide=ep.next_guide or "",
            learner=learner,
            recording=recording,
            imitation=self.episodes.assist.status() if self.episodes.assist.enabled else None,
            message=self.session.message,
            alert=self.episodes.alert,
            fps=fps,
            devices=self.devices.describe(),
            door=self._door_gauges(),
        )

    def _door_gauges(self) -> DoorGauges | None:
        """The latch, door and reach gauges of the current observation (None before any)."""
        try:
            return DoorGauges.from_obs(self.episodes.runner.obs)
        except RuntimeError:  # no episode reset yet
            return None

    def _loading(self, message: str) -> None:
        """Show a set-up message before the first frame."""
        log.info("%s", message)
        self.surface.fill(theme.BACKGROUND)
        w, h = self.surface.get_size()
        label = self.fonts.big.render(f"{message}…", True, theme.TEXT)
        self.surface.blit(label, label.get_rect(center=(w // 2, h // 2)))
        pygame.display.flip()
        pygame.event.pump()

    def save_screenshot(self, path: Path | None = None) -> Path:
        """Save the window as PNG (default: RUN_DIR/screenshots/shot_NNNN.png)."""
        if path is None:
            folder = Path(self.cfg.run_dir) / "screenshots"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"shot_{len(list(folder.glob('shot_*.png'))):04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.surface, str(path))
        return path

    # -- run ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the learner and reset the first episode (once; :meth:`run` calls it)."""
        if self._started:
            return
        self._started = True
        self.episodes.learning.start()
        self.new_episode(time.perf_counter())

    def new_episode(self, now: float) -> None:
        """Begin the next episode; one that waits for START is shown at its reset, at once.

        Without the forced render the last frame of the episode before (or one still being
        rendered) would stay on screen under "Press Return to start" until the render process
        delivers the next, which on a busy machine takes a second or more.
        """
        self.episodes.new_episode(now)
        if self.session.phase is Phase.WAITING_FOR_START:
            self.view.surface(force=True)

    def run(self, max_frames: int | None = None) -> int:
        """Run until closed (or ``max_frames``); shut down cleanly; return the exit code."""
        limit = max_frames if max_frames is not None else self.cfg.max_frames
        try:
            with stop_requests() as stop:  # Ctrl-C, SIGTERM: the frame ends, then we close
                self.start()
                while not (self.session.quit_requested or stop.requested) and (
                    limit is None or self.frames < limit
                ):
                    self.frame()
            if stop.requested:
                log.info("interrupted: saving and closing")
        except KeyboardInterrupt:  # a second Ctrl-C
            log.info("interrupted: saving and closing")
        finally:
            errors = self.shutdown()
        failures = list(self.episodes.failed)
        for e in errors:
            if isinstance(e, RecordingError) and any("record" in f for f in failures):
                continue  # the same failure, already listed
            failures.append(f"{type(e).__name__}: {e}")
        for line in failures:
            print(f"error: {line}", file=sys.stderr)
        return 1 if failures else 0

    def shutdown(self) -> list[BaseException]:
        """Keep the episode in progress, stop the learner, checkpoint, flush; never raises."""
        if self._closed:
            return []
        self._closed = True
        errors: list[BaseException] = []
        with no_interrupts():
            errors += self.episodes.close()
            self._check_workers()
            self.devices.close()
            self.view.close()
            self.env.close()
        return errors


__all__ = ["App"]
