"""The app's episode controller: guide switching and pinning, and the learning session's calls.

:class:`EpisodeController` drives the one :class:`~learner.session.LearningSession` for the
window: it picks the guide of each episode (``--guide``, the G key, or the imitation guide the
:class:`~guides.dagger.DaggerLoop` trained), pins ``h`` ([ / ] / C), starts and ends episodes,
takes the steps the window's pacing allows (with the human's action when they took over) and
turns worker failures into HUD lines. The window (:class:`app.main.App`) only forwards events
and draws.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import sim
from app.config import AppConfig
from app.hud import LearnerView, RecordingView
from app.learning_views import learner_view, recording_view, session_settings
from app.plot import HorizonPlot
from app.session import Phase, Session
from app.timeline import EpisodeTrack
from episode.guide import Guide
from episode.runner import EpisodeRunner
from episode.types import Actor, EpisodeResult
from guides.dagger import APP_IMITATION, DaggerConfig, DaggerLoop
from guides.human import HumanGuide
from guides.registry import make_guide
from learner.session import LearningSession
from recordings.writer import RecordingError

log = logging.getLogger(__name__)

GUIDE_CYCLE = ("human", "scripted")
"""Guide kinds the G key cycles through (plus the one given with --guide)."""
EXIT_JOIN_S = 30.0
"""Most seconds closing the app waits for the imitation trainer to stop (it leaves a round at
the next training step). A thread still inside torch when the interpreter exits aborts the
process ("terminate called without an active exception")."""


class EpisodeController:
    """Episodes of an app session (see the module docstring).

    Args:
        cfg: The app config.
        env: The session's door env.
        human: The human guide (the window's devices, the assist and the mapper); it also
            maps the person's Commands when they take over (interventions).
        window: The window's state machine (phase, pacing, messages).
        loading: Shows a set-up line before the first frame.
        mark_dirty: Tells the view the sim moved.

    """

    def __init__(
        self,
        cfg: AppConfig,
        env: Any,
        human: HumanGuide,
        window: Session,
        loading: Callable[[str], None],
        mark_dirty: Callable[[], None],
    ) -> None:
        self.cfg, self.env, self.human = cfg, env, human
        self.window, self._loading, self._mark_dirty = window, loading, mark_dirty
        self._guides: dict[str, Guide] = {"human": human}
        self.guide_spec = cfg.guide
        guide = self.guide(cfg.guide)  # a bad spec fails here, before anything is started
        train, options = session_settings(cfg)
        self.learning = LearningSession(train, guide, options, env=env, progress=loading)
        self.plot = HorizonPlot(h1=self.learning.curriculum.status().H1 or None)
        for h, ok in self.learning.history:
            self.plot.add(h, ok)
        self.track = EpisodeTrack()
        self.assist = _dagger_loop(cfg)
        """When the imitation guide trains and takes over (off with --imitate-after 0)."""
        self.learning.add_step_observer(
            lambda tr: self.track.record(tr.t, tr.actor, tr.success, tr.next_obs)
        )
        self.learning.add_step_observer(self.assist.on_step)
        self.learning.add_episode_observer(self.assist.on_episode_end)
        self.pinned_h: int | None = cfg.h
        self.next_guide: str | None = None
        self.seed: int | None = None
        self.last_result = ""
        self.alert = ""
        """A lasting problem shown in red on the panel (e.g. the recorder failed)."""
        self.failed: list[str] = []
        """Worker errors seen (one line each), in order."""
        self._errors_seen: set[str] = set()
        self._human_mapper_live = False
        self._news = False

    @property
    def runner(self) -> EpisodeRunner:
        """The session's episode runner (read-only use: t, h, obs, guide, next_actor)."""
        return self.learning.runner

    # -- guides ------------------------------------------------------------------------------
    def guide(self, spec: str) -> Guide:
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
        i = choices.index(current) + 1 if current in choices else 0
        spec = choices[i % len(choices)]
        self.next_guide = None if spec == self.guide_spec else spec
        self.window.message = f"next episode: guide {spec}"
        self._reset_if_waiting()
        return spec

    def _next_guide(self) -> Guide:
        """The chosen guide, or the imitation guide standing in for it (episode starts only)."""
        base = self.guide(self.guide_spec)
        imitation = self.assist.guide(str(getattr(base, "kind", "")))
        if imitation is not None and imitation is not self.runner.guide:
            log.info("the imitation guide v%d takes the guide role", self.assist.in_use)
        return imitation or base

    def toggle_imitation(self) -> None:
        """Switch between the imitation guide and the human guide (from the next episode)."""
        self.window.message = self.assist.toggle()
        self._switch_if_waiting()

    def poll_assist(self) -> None:
        """Announce a newly trained imitation guide; it waits for the person's I.

        It then guides from the next episode: the one they are about to start is never replaced.
        """
        news = self.assist.news()
        if news is not None:
            log.info("%s", news)
            self.window.message = news

    def _switch_if_waiting(self) -> None:
        base_kind = str(getattr(self.guide(self.guide_spec), "kind", ""))
        if self._waiting() and self.assist.switch_due(base_kind):
            self.window.reset_requested = True

    def pin_h(self, h: int | None) -> None:
        """Pin h (None: follow the curriculum); applies now if the episode has not started."""
        self.pinned_h = None if h is None else max(0, min(sim.EPISODE_STEPS, int(h)))
        what = "follows the curriculum" if h is None else f"pinned at {self.pinned_h}"
        self.window.message = f"h {what} (from the next episode)"
        self._reset_if_waiting()

    def _waiting(self) -> bool:
        return self.window.phase is Phase.WAITING_FOR_START and self.runner.t == 0

    def _reset_if_waiting(self) -> None:
        if self._waiting():
            self.window.reset_requested = True

    # -- episodes ----------------------------------------------------------------------------
    def new_episode(self, now: float) -> None:
        """End the episode in progress (kept, truncated) and begin a new one."""
        self.end_unfinished()
        if self.next_guide is not None:
            self.guide_spec, self.next_guide = self.next_guide, None
        guide = self._next_guide()
        if self.cfg.wait_for_start is None and not self.alert:
            self.window.wait_for_start = guide is self.human  # a person starts
        try:
            self.seed, h = self.learning.begin_episode(self.pinned_h, guide)
        except RecordingError as e:  # the recorder failed since the last check
            self.recording_failed(str(e))
            self.seed, h = self.learning.begin_episode(self.pinned_h, guide)
        self._human_mapper_live = guide is self.human
        self.track.reset(h, guide_kind=str(getattr(guide, "kind", "")))
        self.window.set_human_control(False)
        self.window.begin_episode(now)
        if guide is self.human and h > 0 and self.window.wait_for_start:
            self.window.message = "you are the guide: press Return to start, F1 for keys"
        self._mark_dirty()

    def end_unfinished(self) -> None:
        """End the episode in progress; its steps are kept (an episode with none is not)."""
        if self.runner.done:
            return
        try:
            result = self.learning.end_episode()
        except RecordingError as e:
            self.recording_failed(str(e))
            result = None
        if result is not None and result.steps > 0:
            self.last_result = f"episode ended early at step {result.steps} (kept, truncated)"

    def episode_over(self, now: float) -> None:
        """The episode ran to its end: curriculum, plot, the panel's last result."""
        result = self.learning.end_episode()
        if result is not None:
            self.plot.add(result.h, result.open_at_end)
            self.plot.set_h1(self.learning.curriculum.status().H1 or None)
            self.last_result = _describe(result)
        self.window.set_human_control(False)
        self.window.episode_finished(now)

    # -- stepping ----------------------------------------------------------------------------
    def human_segment(self) -> bool:
        """The next step is paced for a person (the guide's segment, or human control)."""
        return self.window.human_in_control or self.runner.next_actor is Actor.GUIDE

    def actor_now(self) -> Actor:
        """Who acts at the next step; once the episode is over, who took its last step."""
        if self.runner.done and self.track.t > 0:
            return Actor(int(self.track.actors[self.track.t - 1]))
        return Actor.HUMAN if self.window.human_in_control else self.runner.next_actor

    def human_acting(self) -> bool:
        """The person acts now (took over, or guides this segment)."""
        guiding = self.runner.guide is self.human and self.runner.next_actor is Actor.GUIDE
        return self.window.human_in_control or guiding

    def waiting_for_person(self) -> bool:
        """Hold-to-run: a person drives now and moves nothing, so the sim waits for them."""
        pacing = self.window.pacing
        if not pacing.hold_to_run or pacing.fixed_steps_per_frame or self.window.run_on:
            return False
        if not self.human_acting():
            return False
        return not bool(getattr(self.human.device, "moving", True))

    def step_once(self) -> None:
        """Take one env step (the human's action if they took over)."""
        human_action = human_command = None
        if self.window.human_in_control:
            obs = self.runner.obs
            if not self._human_mapper_live:
                self.human.reset(obs)  # take over from where the hand is
                self._human_mapper_live = True
            human_action = self.human.act(obs)  # the person's Command, through the assist
            human_command = self.human.command_vector
        elif self.runner.guide is not self.human or self.runner.next_actor is not Actor.GUIDE:
            self._human_mapper_live = False
        try:
            self.learning.step(human_action, human_command)
        except RecordingError as e:  # raised as the episode ended: the step itself was taken
            self.recording_failed(str(e))
        self._mark_dirty()

    def run_steps(self, now: float) -> None:
        """Take the steps the window's pacing allows this frame (none while a person rests)."""
        human = self.human_segment()
        if self.waiting_for_person():
            self.window.hold(now)
            return
        for _ in range(self.window.steps_due(now, human)):
            self.step_once()
            if self.runner.done:
                self.episode_over(now)
                return
            if self.human_segment() != human:
                return  # the pace changes at the handover

    # -- workers -----------------------------------------------------------------------------
    def take_news(self) -> bool:
        """True once after a new failure was seen (the panel shows it at once)."""
        news, self._news = self._news, False
        return news

    def check_workers(self) -> bool:
        """Surface worker errors (log, HUD) once each; True if a new one was seen."""
        lines = self.learning.worker_errors()
        imitation = self.assist.error_line()
        if imitation is not None:
            lines.append(imitation)
            if imitation not in self._errors_seen:
                self.window.message = "the imitation trainer failed: see the panel"
        new = False
        for line in lines:
            if line.startswith("recorder"):
                new = self.recording_failed(line) or new
            elif line not in self._errors_seen:
                self._errors_seen.add(line)
                log.error("%s", line)
                self.failed.append(line)
                new = self._news = True
        return new

    def recording_failed(self, line: str) -> bool:
        """Stop recording (driving goes on) and pause; True the first time."""
        if self.runner.recorder is None:
            return False
        self.learning.detach_recorder()
        self._news = True
        log.error("%s", line)
        self.failed.append(line)
        self.alert = "recording failed: new episodes are not saved (Esc quits)"
        self.window.wait_for_start = True  # nothing runs on unnoticed
        self.window.pause("paused: recording failed, see the panel")
        return True

    def learner_view(self) -> LearnerView | None:
        """The learner's status for the HUD (None when the learner is off)."""
        return learner_view(self.learning)

    def recording_view(self) -> RecordingView | None:
        """The recorder's status for the HUD (None when not recording)."""
        return recording_view(self.learning)

    def episode_number(self) -> int:
        """The number of the episode shown (1-based; the last one between episodes)."""
        return self.learning.counters.episodes + (0 if self.runner.done else 1)

    def close(self) -> list[BaseException]:
        """Keep the episode in progress, stop the learner, checkpoint, flush; never raises."""
        errors: list[BaseException] = []
        self._stop_assist()  # the episode in progress is kept, but trains nothing now
        try:
            self.end_unfinished()
        except Exception as e:
            errors.append(e)
        errors += self.learning.close()
        self.check_workers()
        return errors

    def _stop_assist(self) -> None:
        """Stop the imitation trainer and wait for its round (see :data:`EXIT_JOIN_S`)."""
        trainer = self.assist.trainer
        if trainer.stats().training:
            log.info("waiting for the imitation trainer's round to end (at most %.0f s)",
                     EXIT_JOIN_S)  # fmt: skip
        self.assist.close(EXIT_JOIN_S)
        if trainer.stats().training:
            log.warning("the imitation trainer is still training after %.0f s", EXIT_JOIN_S)


def _describe(result: EpisodeResult) -> str:
    opened = f"door opened at step {result.first_success_step}"
    if result.open_at_end:
        text = f"last: {opened}, open at the end, score {result.normalized_score:.0f}"
    elif result.success:
        text = f"last: {opened}, shut again by the end"
    else:
        text = "last: the door stayed shut"
    if result.n_human:
        text += f", {result.n_human} human steps"
    return text


def _dagger_loop(cfg: AppConfig) -> DaggerLoop:
    """The app's DAgger loop: ``--imitate-after`` demos, ``--imitate-steps`` per round."""
    imitation = dataclasses.replace(APP_IMITATION, steps=cfg.imitate_steps, seed=cfg.seed)
    return DaggerLoop(DaggerConfig(after=cfg.imitate_after, imitation=imitation))


__all__ = ["GUIDE_CYCLE", "EpisodeController"]
