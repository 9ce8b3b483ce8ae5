"""The app's loop: events -> devices and session; paced env steps; render; HUD; flip.

One frame of :class:`App`:

1. every pygame event goes to the devices (keyboard, gamepad) and the app's own keys;
2. the devices' TeleopEvents go to the :class:`~app.session.Session` (start, pause, reset,
   take over, speed, help, quit);
3. the session says how many env steps are due; each is one :meth:`EpisodeRunner.step`
   (with the human's action when they took over: an intervention);
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

import dataclasses
import logging
import sys
import time
from collections import deque
from pathlib import Path

import pygame

import sim
from app import theme
from app.camera import OrbitCamera
from app.config import AppConfig
from app.devices import DeviceHub
from app.hud import Hud, HudState, LearnerView, RecordingView, draw_view_frame
from app.layout import panel_rect, timeline_rect, view_rect
from app.plot import HorizonPlot
from app.scene_view import SceneView
from app.session import Pacing, Phase, Session
from app.theme import Fonts, TextCache
from app.timeline import EpisodeTrack, draw_timeline
from app.training import Learning
from episode.guide import Guide, GuideError
from episode.runner import EpisodeRunner
from episode.types import Actor
from guides.dagger import APP_IMITATION, DaggerConfig, DaggerLoop
from guides.factory import make_guide, mapper_for, register
from guides.human import HumanGuide
from learner.checkpoint import no_interrupts
from recordings.writer import RecordingError
from teleop.gamepad import GamepadConfig, GamepadDevice
from teleop.keyboard import KeyboardConfig, KeyboardDevice

log = logging.getLogger(__name__)

GUIDE_CYCLE = ("human", "scripted")
"""Guide kinds the G key cycles through (plus the one given with --guide)."""


def _human_outside_the_app(argument: str | None, env: object, seed: int) -> Guide:
    raise GuideError("the human guide drives through the window: use python launch.py app")


register("human", _human_outside_the_app, "human (the app: keyboard / gamepad)")

PIN_STEP = 10
"""How far [ and ] move a pinned h."""
STATUS_PERIOD_S = 0.25
"""How often the panel refreshes the learner and recorder status and the FPS figure."""


class App:
    """One app session in an open pygame window.

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
        self.human_mapper = mapper_for(self.env)
        self.human = HumanGuide(self.devices, self.human_mapper, dt=float(self.env.unwrapped.dt))
        self._guides: dict[str, Guide] = {"human": self.human}
        self.guide_spec = cfg.guide
        guide = self._guide(cfg.guide)  # a bad spec fails here, before anything is started
        self.view = SceneView(
            self.env,
            cfg.view_size,
            cfg.render_hz,
            cfg.antialias,
            use_process=cfg.render_process,
            render_nice=cfg.render_nice,
        )
        self.orbit = OrbitCamera(self.view.camera, view_rect(cfg.view_size))
        try:
            self.learning = Learning(cfg, self.env, guide, progress=self._loading)
        except BaseException:
            self.view.close()
            raise
        self.runner = EpisodeRunner(
            self.env,
            guide,
            self.learning.explorer,
            recorder=self.learning.recorder,
            replay=self.learning.replay,
        )
        self.plot = HorizonPlot(h1=self.learning.curriculum.status().H1 or None)
        for h, ok in zip(self.learning.history.hs, self.learning.history.successes, strict=True):
            self.plot.add(h, ok)
        wait = cfg.wait_for_start if cfg.wait_for_start is not None else cfg.guide == "human"
        pacing = Pacing(cfg.guide_rate, cfg.explorer_rate,
                        fixed_steps_per_frame=cfg.fixed_steps_per_frame)  # fmt: skip
        self.session = Session(pacing, wait_for_start=wait, done_pause_s=cfg.episode_pause_s)
        self.track = EpisodeTrack()
        self.assist = _dagger_loop(cfg)
        """When the imitation guide trains and takes over (off with --imitate-after 0)."""
        self.pinned_h: int | None = cfg.h
        self.next_guide: str | None = None
        self.frames = 0
        self.last_result = ""
        self.alert = ""
        """A lasting problem shown in red on the panel (e.g. the recorder failed)."""
        self._seed: int | None = None
        self._human_mapper_live = False
        self._frame_times: deque[float] = deque(maxlen=60)
        self._errors_seen: set[str] = set()
        self._clock = pygame.time.Clock()
        self.fps_limit = cfg.fps_limit
        """Most frames per second (``--fps-limit``; scripts may change it)."""
        self._started = False
        self._closed = False
        self._slow: tuple[float, LearnerView | None, RecordingView | None, float] | None = None
        self.profile: list[tuple[float, float, bool]] | None = None
        """Set to a list to collect (events+steps s, drawing s, view rendered) per frame."""

    # -- guides ------------------------------------------------------------------------------
    def _guide(self, spec: str) -> Guide:
        """The guide a spec names, built once (``human`` is the app's own)."""
        if spec not in self._guides:
            self._loading(f"loading guide {spec}")
            self._guides[spec] = make_guide(spec, self.env, seed=self.cfg.seed)
        return self._guides[spec]

    def guide_choices(self) -> list[str]:
        """Guide specs the G key cycles through."""
        choices = list(GUIDE_CYCLE)
        if self.cfg.guide not in choices:
            choices.append(self.cfg.guide)
        return choices

    def cycle_guide(self) -> str:
        """Choose the next guide kind; it takes over at the next episode."""
        choices = self.guide_choices()
        current = self.next_guide or self.guide_spec
        spec = (
            choices[(choices.index(current) + 1) % len(choices)]
            if current in choices
            else choices[0]
        )
        self.next_guide = None if spec == self.guide_spec else spec
        self.session.message = f"next episode: guide {spec}"
        if self.session.phase is Phase.WAITING_FOR_START and self.runner.t == 0:
            self.session.reset_requested = True
        return spec

    # -- episodes ----------------------------------------------------------------------------
    def horizon(self) -> int:
        """The guide horizon h of the next episode: pinned, or the curriculum's."""
        if self.pinned_h is not None:
            return self.pinned_h
        return min(self.learning.curriculum.horizon(), sim.EPISODE_STEPS)

    def new_episode(self, now: float) -> None:
        """End the episode in progress (kept, truncated) and reset a new one."""
        self._end_unfinished()
        if self.next_guide is not None:
            self.guide_spec, self.next_guide = self.next_guide, None
        self.runner.guide = self._next_guide()
        if self.cfg.wait_for_start is None and not self.alert:
            self.session.wait_for_start = self.runner.guide is self.human  # a person starts
        if self.learning.sync_explorer():
            log.info("explorer now acts with weights v%d", self.learning.explorer.version)
        h = self.horizon()
        self._seed = self.learning.next_seed()
        try:
            self.runner.reset(self._seed, h)
        except RecordingError as e:  # the recorder failed since the last check
            self._recording_failed(str(e))
            self.runner.reset(self._seed, h)
        self._human_mapper_live = self.runner.guide is self.human
        self.track.reset(h)
        self.session.set_human_control(False)
        self.session.begin_episode(now)
        if self.runner.guide is self.human and h > 0 and self.session.wait_for_start:
            self.session.message = "you are the guide: press Return to start, F1 for keys"
        self.view.mark_dirty()

    def _next_guide(self) -> Guide:
        """The chosen guide, or the imitation guide standing in for it (episode starts only)."""
        base = self._guide(self.guide_spec)
        imitation = self.assist.guide(str(getattr(base, "kind", "")))
        if imitation is not None and imitation is not self.runner.guide:
            log.info("the imitation guide v%d takes the guide role", self.assist.in_use)
        return imitation or base

    def _end_unfinished(self) -> None:
        """End the episode in progress; its steps are kept (an episode with none is not)."""
        if self.runner.done:
            return
        kind = self.runner.result().guide_kind
        try:
            result = self.runner.finish()
        except RecordingError as e:
            self._recording_failed(str(e))
            result = None
        self.assist.episode_ended(kind)
        if result is not None and result.steps > 0:
            self.last_result = f"episode ended early at step {result.steps} (kept, truncated)"

    def _episode_over(self, now: float) -> None:
        result = self.runner.result()
        self.assist.episode_ended(result.guide_kind)
        self.learning.episode_finished(result)
        self.plot.add(result.h, result.open_at_end)
        self.plot.set_h1(self.learning.curriculum.status().H1 or None)
        opened = f"door opened at step {result.first_success_step}"
        if result.open_at_end:
            self.last_result = (
                f"last: {opened}, open at the end, score {result.normalized_score:.0f}"
            )
        elif result.success:
            self.last_result = f"last: {opened}, shut again by the end"
        else:
            self.last_result = "last: the door stayed shut"
        if result.n_human:
            self.last_result += f", {result.n_human} human steps"
        self.session.set_human_control(False)
        self.session.episode_finished(now)

    # -- stepping ----------------------------------------------------------------------------
    def human_segment(self) -> bool:
        """The next step is paced for a person (the guide's segment, or human control)."""
        return self.session.human_in_control or self.runner.next_actor is Actor.GUIDE

    def actor_now(self) -> Actor:
        """Who acts at the next step."""
        return Actor.HUMAN if self.session.human_in_control else self.runner.next_actor

    def step_once(self) -> None:
        """Take one env step (the human's action if they took over)."""
        human_action = None
        if self.session.human_in_control:
            obs = self.runner.obs
            if not self._human_mapper_live:
                self.human_mapper.reset(obs)  # take over from where the hand is
                self._human_mapper_live = True
            human_action = self.human_mapper(self.devices.get_action(self.human.dt), obs)
        elif self.runner.guide is not self.human or self.runner.next_actor is not Actor.GUIDE:
            self._human_mapper_live = False
        try:
            tr = self.runner.step(human_action)
        except RecordingError as e:  # raised as the episode ended: the step itself was taken
            self._recording_failed(str(e))
            self.learning.step_taken()
            self.view.mark_dirty()
            return
        self.track.record(tr.t, tr.actor, tr.success)
        self.assist.record(tr.obs, tr.action, tr.actor)
        self.learning.step_taken()
        self.view.mark_dirty()

    def _run_steps(self, now: float) -> None:
        human = self.human_segment()
        for _ in range(self.session.steps_due(now, human)):
            self.step_once()
            if self.runner.done:
                self._episode_over(now)
                return
            if self.human_segment() != human:
                return  # the pace changes at the handover

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
            self.session.handle(teleop_event, now, self.human_segment())
        if self.devices.take_pad_lost():
            human_acting = self.session.human_in_control or (
                self.runner.guide is self.human and self.runner.next_actor is Actor.GUIDE
            )
            self.session.device_lost(human_acting)

    def _app_key(self, key: int) -> None:
        if key == pygame.K_g:
            self.cycle_guide()
        elif key == pygame.K_i:
            self.toggle_imitation()
        elif key in (pygame.K_LEFTBRACKET, pygame.K_RIGHTBRACKET):
            base = self.pinned_h if self.pinned_h is not None else self.runner.h
            delta = PIN_STEP if key == pygame.K_RIGHTBRACKET else -PIN_STEP
            self.pin_h(base + delta)
        elif key == pygame.K_c:
            self.pin_h(None)
        elif key == pygame.K_F12:
            path = self.save_screenshot()
            self.session.message = f"screenshot saved: {path}"

    def toggle_imitation(self) -> None:
        """Switch between the imitation guide and the human guide (from the next episode)."""
        self.session.message = self.assist.toggle()
        self._switch_if_waiting()

    def _switch_if_waiting(self) -> None:
        """A guide change applies now if the episode waits at its first step."""
        base_kind = str(getattr(self._guide(self.guide_spec), "kind", ""))
        waiting = self.session.phase is Phase.WAITING_FOR_START and self.runner.t == 0
        if waiting and self.assist.switch_due(base_kind):
            self.session.reset_requested = True

    def _poll_assist(self) -> None:
        """Announce a newly trained imitation guide; take it at once if nothing runs yet."""
        news = self.assist.news()
        if news is not None:
            log.info("%s", news)
            self.session.message = news
            self._switch_if_waiting()

    def pin_h(self, h: int | None) -> None:
        """Pin h (None: follow the curriculum); applies now if the episode has not started."""
        self.pinned_h = None if h is None else max(0, min(sim.EPISODE_STEPS, int(h)))
        what = "follows the curriculum" if h is None else f"pinned at {self.pinned_h}"
        self.session.message = f"h {what} (from the next episode)"
        if self.session.phase is Phase.WAITING_FOR_START and self.runner.t == 0:
            self.session.reset_requested = True

    # -- frame -------------------------------------------------------------------------------
    def frame(self) -> None:
        """One frame: events, steps, workers, drawing."""
        now = time.perf_counter()
        self._check_workers()
        self._poll_assist()
        self.handle_events(now)
        if self.session.quit_requested:
            return  # closing: no more steps
        if self.session.reset_requested:
            self.new_episode(now)
        self._run_steps(now)
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
        lines = self.learning.worker_errors()
        imitation = self.assist.error_line()
        if imitation is not None:
            lines.append(imitation)
            if imitation not in self._errors_seen:
                self.session.message = "the imitation trainer failed: see the panel"
        for line in lines:
            if line.startswith("recorder"):
                self._recording_failed(line)
            elif line not in self._errors_seen:
                self._errors_seen.add(line)
                self._slow = None  # show it now
                log.error("%s", line)
                self.learning.failed.append(line)

    def _recording_failed(self, line: str) -> None:
        if self.runner.recorder is None:
            return
        self.runner.recorder = None  # nothing more can be saved; driving goes on
        self._slow = None  # show it now
        log.error("%s", line)
        self.learning.failed.append(line)
        self.alert = "recording failed: new episodes are not saved (Esc quits)"
        self.session.wait_for_start = True  # nothing runs on unnoticed
        self.session.pause("paused: recording failed, see the panel")

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
        if self.view.notice:
            self.session.message, self.view.notice = self.view.notice, ""
        self._view_overlay(view_rect(v))
        draw_timeline(self.surface, timeline_rect(v), self.track, self.fonts, self.text)
        self.hud.draw_panel(self.surface, panel_rect(v), self.hud_state(), self.plot)
        if self.session.help_visible:
            self.hud.draw_help(self.surface)

    def _view_overlay(self, rect: pygame.Rect) -> None:
        banner = {
            Phase.WAITING_FOR_START: "Press Return to start",
            Phase.PAUSED: "Paused",
        }.get(self.session.phase, "")
        if self.session.phase is Phase.EPISODE_DONE:
            banner = "Door open!" if self.track.opened_at is not None else "Episode over"
        draw_view_frame(self.surface, rect, self.actor_now(), banner, self.fonts, self.text)

    def _slow_parts(self) -> tuple[LearnerView | None, RecordingView | None, float]:
        """Learner and recorder status and the FPS figure, refreshed 4 times a second."""
        now = time.perf_counter()
        if self._slow is None or now - self._slow[0] >= STATUS_PERIOD_S:
            parts = (self.learning.learner_view(), self.learning.recording_view(), self.fps())
            self._slow = (now, *parts)
        return self._slow[1], self._slow[2], self._slow[3]

    def hud_state(self) -> HudState:
        """The panel's content for this frame."""
        status = self.learning.curriculum.status()
        learner, recording, fps = self._slow_parts()
        guide = self.runner.guide
        return HudState(
            actor=self.actor_now(),
            guide_kind=self.assist.label(guide) or str(getattr(guide, "kind", "?")),
            phase=self.session.phase,
            t=self.runner.t,
            steps=sim.EPISODE_STEPS,
            h=self.runner.h,
            h_pinned=self.pinned_h is not None,
            h1=status.H1,
            stage=status.stage,
            n_stages=status.n_stages,
            strategy=status.strategy,
            reason=status.reason,
            rate=self.session.rate(self.human_segment()),
            episode=self.learning.history.episodes,
            seed=self._seed,
            last_result=self.last_result,
            next_guide=self.next_guide or "",
            learner=learner,
            recording=recording,
            imitation=self.assist.status() if self.assist.enabled else None,
            message=self.session.message,
            alert=self.alert,
            fps=fps,
            devices=self.devices.describe(),
        )

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
        self.learning.start()
        self.new_episode(time.perf_counter())

    def run(self, max_frames: int | None = None) -> int:
        """Run until closed (or ``max_frames``); shut down cleanly; return the exit code."""
        limit = max_frames if max_frames is not None else self.cfg.max_frames
        try:
            self.start()
            while not self.session.quit_requested and (limit is None or self.frames < limit):
                self.frame()
        except KeyboardInterrupt:
            log.info("interrupted: saving and closing")
        finally:
            errors = self.shutdown()
        failures = list(self.learning.failed)
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
            self.assist.close()  # the episode in progress is kept, but trains nothing now
            try:
                self._end_unfinished()
            except Exception as e:
                errors.append(e)
            errors += self.learning.close()
            self._check_workers()
            self.devices.close()
            self.view.close()
            self.env.close()
        return errors


def _dagger_loop(cfg: AppConfig) -> DaggerLoop:
    """The app's DAgger loop: ``--imitate-after`` demos, ``--imitate-steps`` per round."""
    imitation = dataclasses.replace(APP_IMITATION, steps=cfg.imitate_steps, seed=cfg.seed)
    return DaggerLoop(DaggerConfig(after=cfg.imitate_after, imitation=imitation))


__all__ = ["App"]
