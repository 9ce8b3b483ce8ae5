"""The one learning session: what the app, ``train`` and ``collect`` all run.

A session owns the SAC agent, the explorer, the offline and online replay buffers, the weight
slot, the learner thread, the curriculum, the recorder, the metrics and the one checkpoint
format. Its API follows SB3 / LeRobot loops::

    session = LearningSession(cfg, guide)
    while session.env_steps < cfg.steps:
        session.begin_episode()              # explorer takes the newest weights here
        while not session.done:
            session.step()                   # or step(human_action) for an intervention
        session.end_episode()                # curriculum, metrics row, periodic checkpoint
    session.finish()                         # the final evaluation
    session.close()                          # learner stops, checkpoint, recorder flushed

``train`` runs it paced (the learner's update-to-data budget gates each step); the app calls
:meth:`LearningSession.step` once per frame with the learner free-running; ``collect`` is the
same session with learning off and the guide acting every step. Step and episode observers
feed the app's timeline, the DAgger loop and the trainer's progress bar. With ``--workers N``
the episodes are played on Ray workers (:mod:`learner.ray_workers`) and committed here by
:meth:`LearningSession.commit_played`, as a local episode is.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import sim
from episode.guide import Guide
from episode.runner import EpisodeRunner
from episode.tape import PlayedEpisode, play_back
from episode.types import EpisodeResult, Transition
from learner import checkpoint as ckpt_io
from learner.config import TrainConfig
from learner.evaluate import UnusedGuide
from learner.interrupts import StopRequest
from learner.metrics import MetricsLog
from learner.replay import ReplayBuffer
from learner.run_dir import online_datasets, open_writer, prepare_run_dir
from learner.session_options import Counters, SessionOptions
from learner.session_parts import LearningParts, episode_row
from learner.session_setup import count_episodes_after, episode_seed
from learner.starts import EpisodeStarts
from learner.thread import LearnerStats

log = logging.getLogger(__name__)

StepObserver = Callable[[Transition], None]
"""Called after every step with its transition."""
EpisodeObserver = Callable[[EpisodeResult, bool], None]
"""Called when an episode ends: its result, and whether it ran to its end (else: cut short)."""
COMMIT_WAIT_S = 60.0
"""Longest a checkpoint waits for the recorder to commit the episodes it counts."""

GuideBuilder = Callable[[Any], Guide]
"""``build_guide(env) -> Guide``: ``launch.py`` parses ``--guide`` once and hands this in (guides
are built at the edge: the session never parses a guide spec)."""


class LearningSession:
    """One learning session (see the module docstring).

    Args:
        cfg: The run's settings (the trainer's defaults are the session's).
        guide: The guide, already built (None only with ``--strategy none``).
        options: How the session runs.
        env: The door env to step (default: a new one).
        progress: Called with a one-line status while setting up (the app's loading screen).

    """

    def __init__(
        self,
        cfg: TrainConfig,
        guide: Guide | None,
        options: SessionOptions | None = None,
        *,
        env: Any = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.options = opts = options or SessionOptions()
        self.cfg = prepare_run_dir(cfg, strict=opts.strict_run_dir) if opts.run_files else cfg
        self.run_dir = Path(cfg.run_dir)
        self.env = env if env is not None else sim.make_door()
        saved = self._load_saved(progress)
        self.counters = Counters.from_checkpoint(saved)
        self.parts = LearningParts(self.cfg, self.env, guide, opts, saved, progress)
        if not saved:
            self.counters.guide_steps = self.parts.guide_steps
        # The recorder takes the dataset's writer lock first: a run that is live in another
        # process is refused here, before anything of it (its metric rows) is touched.
        self.recorder = self._open_recorder() if opts.record else None
        history = (saved or {}).get("history") or (saved or {}).get("app") or {}
        self.history: list[tuple[int, bool]] = list(
            zip(history.get("hs", []), history.get("successes", []), strict=True)
        )
        """(h, open at the end) of every finished episode of the run (the app's h plot)."""
        if saved and self.recorder is not None:
            count_episodes_after(saved, self.recorder, self.counters, self.history)
        self.metrics = MetricsLog(self.run_dir / "metrics") if opts.run_files else None
        if saved and self.metrics is not None:
            self.metrics.truncate_after(self.counters.env_steps)
        if saved and self.parts.online is not None:
            for dataset in online_datasets(self.run_dir):  # an app and a train run alike
                self.parts.load_online(dataset)
        self.starts = EpisodeStarts(self.cfg.curriculum, self.parts.roll_in)
        """Where each training episode starts (a reset, a roll-in state, a failure's)."""
        self.runner = EpisodeRunner(
            self.env,
            guide or UnusedGuide(),
            self.parts.explorer,
            recorder=self.recorder,
            replay=self.parts.online_replay(),
            command_labeler=self.parts.labeler,
        )
        start = self.counters.env_steps  # a resumed run's buffers are warm already
        self._step_offset = start - min(start, self.cfg.learner.warmup_steps)
        self._t0, self._cpu0 = time.monotonic(), time.process_time()
        self._episode_start = start
        self._open = False
        self._started = False
        self._step_observers: list[StepObserver] = []
        self._episode_observers: list[EpisodeObserver] = []

    # -- set-up ------------------------------------------------------------------------------
    def _load_saved(self, progress: Callable[[str], None] | None) -> dict[str, Any] | None:
        if not (self.options.run_files and self.cfg.resume):
            return None
        if ckpt_io.latest_checkpoint(self.run_dir) is None:
            log.warning("%s stopped during its set-up: starting it again", self.run_dir)
            return None
        if progress is not None:
            progress(f"resuming the session in {self.run_dir}")
        return ckpt_io.load_resumable(self.run_dir, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)

    def _open_recorder(self) -> Any:
        path = self.run_dir / self.options.dataset
        return open_writer(path, append=self.options.append, author=self.options.author)

    # -- observers ---------------------------------------------------------------------------
    def add_step_observer(self, observer: StepObserver) -> None:
        """Call ``observer(transition)`` after every step."""
        self._step_observers.append(observer)

    def add_episode_observer(self, observer: EpisodeObserver) -> None:
        """Call ``observer(result, finished)`` whenever an episode ends."""
        self._episode_observers.append(observer)

    # -- state -------------------------------------------------------------------------------
    @property
    def env_steps(self) -> int:
        """Env steps of the run's episodes so far (resumed sessions included)."""
        return self.counters.env_steps

    @property
    def done(self) -> bool:
        """No episode is running (none begun, or the current one reached its end)."""
        return self.runner.done

    @property
    def curriculum(self) -> Any:
        """The run's curriculum (``horizon()``, ``status()``)."""
        return self.parts.curriculum

    @property
    def explorer(self) -> Any:
        """The explorer policy (None with ``guide_only``)."""
        return self.parts.explorer

    @property
    def online(self) -> ReplayBuffer | None:
        """The online replay buffer (None with ``guide_only``)."""
        return self.parts.online

    def next_seed(self) -> int:
        """Seed of the next episode."""
        return self.seed_of(self.counters.episodes)

    def seed_of(self, k: int) -> int:
        """Seed of the run's episode ``k`` (0-based; Ray workers play several ahead)."""
        first = self.options.first_seed
        return first + k if first is not None else episode_seed(self.cfg.seed, k)

    def next_plan(self) -> tuple[int, bool]:
        """The next episode's guide horizon and whether the explorer acts with its mode."""
        h = min(self.curriculum.horizon(), sim.EPISODE_STEPS)
        trial = bool(getattr(self.curriculum, "trial_due", False))
        return int(h), trial and self.parts.explorer is not None

    def learner_stats(self) -> LearnerStats | None:
        """The learner thread's stats (None when learning is off)."""
        return None if self.parts.thread is None else self.parts.thread.stats()

    # -- episodes ----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the learner thread and run a due evaluation (``begin_episode`` calls it)."""
        if self._started:
            return
        self._started = True
        if self.options.run_files and ckpt_io.latest_checkpoint(self.run_dir) is None:
            self.save()  # resumable from here on: a kill before the first episode ends is too
        self.parts.start()
        self._evaluate_if_due()

    def begin_episode(self, h: int | None = None, guide: Guide | None = None) -> tuple[int, int]:
        """End an episode in progress, take the newest weights, reset a new episode.

        Args:
            h: Guide horizon (default: the curriculum's; pinned in the app).
            guide: A guide for this episode and the next ones (switched at the boundary).

        Returns:
            The episode's seed and guide horizon.

        """
        self.start()
        if self._open:
            self.end_episode()
        if guide is not None:
            self.runner.guide = guide
        if self.parts.sync_explorer() and self.parts.explorer is not None:
            log.info("explorer now acts with weights v%d", self.parts.explorer.version)
        planned, trial = self.next_plan()
        seed = self.next_seed()
        start = None if h is not None else self.starts.plan(planned, trial, seed)
        h = planned if h is None else h
        self._episode_start = self.counters.env_steps
        obs = self.runner.reset(seed, h, deterministic=trial, start=start)
        self.starts.begin(self.env, obs, h, trial, start, self.runner.result().seed)
        self._open = True
        return seed, int(h)

    def step(
        self, human_action: np.ndarray | None = None, human_command: np.ndarray | None = None
    ) -> Transition:
        """One env step (an intervention when ``human_action`` is given); observers see it.

        ``human_command`` is the person's Command vector behind ``human_action``, recorded
        with the step (``EpisodeRunner.step``).
        """
        if self.options.paced and self.parts.thread is not None:
            self.parts.thread.wait_for_budget()
        t = self.runner.t
        try:
            tr = self.runner.step(human_action, human_command)
            self.starts.observe(self.env, tr.next_obs)
        finally:
            if self.runner.t > t:  # a recorder error at the episode's end: the step was taken
                self.counters.env_steps += 1
                self.parts.report_env_steps(self.counters.env_steps - self._step_offset)
        for observer in self._step_observers:
            observer(tr)
        return tr

    def end_episode(self) -> EpisodeResult | None:
        """End the episode: a finished one updates the curriculum, metrics and checkpoints.

        An episode cut short (reset, quit) is kept in the recording, truncated, and counted
        (its seed is not used again) unless it took no step. Observers see both kinds.

        Returns:
            The episode's result (None when no episode was open).

        """
        if not self._open:
            return None
        self._open = False
        finished, error = self.runner.done, None
        if not finished:
            try:
                self.runner.finish()
            except Exception as e:  # the recorder failed: account for the episode anyway
                error = e
        result = self.runner.result()
        self.starts.end(result)
        if finished:
            self._finished(result)
        elif result.steps > 0:
            self.counters.episodes += 1
        for observer in self._episode_observers:
            observer(result, finished)
        if error is not None:
            raise error
        return result

    def play_episode(self, stop: StopRequest | None = None) -> EpisodeResult | None:
        """Begin, step until done and end one episode here (``train`` and ``collect``).

        Returns:
            Its result; None when ``stop`` was asked mid-way (the episode is left open for
            :meth:`close` to drop, to be played again on ``--resume``).

        """
        self.begin_episode()
        while not self.done:
            if stop is not None and stop.requested:
                return None
            self.step()
        return self.end_episode()

    def commit_played(self, played: PlayedEpisode) -> None:
        """Commit an episode a Ray worker played as if it had been played here.

        It is recorded by the session's one writer and goes to the online replay, the
        counters, the curriculum, the metrics and the observers, in that order, as
        :meth:`end_episode` does for a finished local episode.
        """
        self.start()
        play_back(played, self.runner.recorder, self.runner.replay)
        self.counters.env_steps += played.result.steps
        self.parts.report_env_steps(self.counters.env_steps - self._step_offset)
        for tr in played.transitions:
            for step_observer in self._step_observers:
                step_observer(tr)
        self._finished(played.result)
        for observer in self._episode_observers:
            observer(played.result, True)

    def _finished(self, result: EpisodeResult) -> None:
        c = self.counters
        c.episodes += 1
        stage = self.curriculum.status().stage
        self.curriculum.update(result)
        self.history.append((result.h, result.open_at_end))
        if self.metrics is not None:
            self.metrics.log_episode(
                episode_row(result, stage, c, self.curriculum, self.parts, self._times())
            )
        self._evaluate_if_due()
        if c.env_steps >= c.next_checkpoint and c.env_steps > 0:
            self.save()
        while c.next_checkpoint <= c.env_steps:
            c.next_checkpoint += self.cfg.checkpoint_every

    def abort_episode(self) -> None:
        """Stop the episode and drop it (Ctrl-C or a guide error in ``train``, ``collect``).

        Neither recorded nor counted: a resumed run plays it again from the same seed, so it
        ends with the same episodes and steps as a run that never stopped, and no seed is
        recorded twice.
        """
        if self._open:
            self._open = False
            self.runner.discard()
            self.counters.env_steps = self._episode_start

    def detach_recorder(self) -> None:
        """Record nothing more (the recorder failed); episodes go on."""
        self.runner.recorder = None

    # -- evaluation and saving -------------------------------------------------------------
    def _evaluate_if_due(self, final: bool = False) -> None:
        c, cfg = self.counters, self.cfg
        if self.metrics is None or cfg.eval_episodes == 0 or self.parts.explorer is None:
            return
        last = self.parts.last_eval_steps
        if c.env_steps >= c.next_eval or (final and last != c.env_steps):
            self.parts.evaluate(self.metrics, c, self._times())
            while c.next_eval <= c.env_steps:
                c.next_eval += cfg.eval_every
            if self.options.plots:
                self.parts.plot_now(self.run_dir)

    def finish(self) -> None:
        """The final evaluation (unless one ran at this step already)."""
        self._evaluate_if_due(final=True)

    def save(self) -> Path | None:
        """Save the one checkpoint format (skipped if the learner died mid-update)."""
        if not self.options.run_files or self.parts.agent is None:
            return None
        if self.parts.thread is not None and self.parts.thread.error is not None:
            log.warning("no checkpoint: the learner thread failed, its state is not trusted")
            return None
        if self.recorder is not None and not self.recorder.wait_committed(COMMIT_WAIT_S):
            log.warning("the recorder has not committed every episode after %.0f s", COMMIT_WAIT_S)
        if self.recorder is not None and self.recorder.error is not None:
            log.debug("no checkpoint: the recorder failed, it would count unrecorded episodes")
            return None
        c = self.counters
        times = self._times()
        counters = dataclasses.replace(
            c,
            updates=c.updates + self.parts.updates(),
            wall_s=times["wall_s"],
            cpu_s=times["cpu_s"],
        )
        payload = self.parts.checkpoint_payload(self.cfg, counters)
        if self.recorder is not None:  # what the checkpoint counts is in the dataset
            payload["dataset_episodes"] = self.recorder.dataset_episodes
        payload["history"] = {
            "hs": [int(h) for h, _ in self.history],
            "successes": [bool(s) for _, s in self.history],
        }
        path = self.run_dir / ckpt_io.CHECKPOINT_DIR / ckpt_io.checkpoint_name(c.env_steps)
        ckpt_io.save_checkpoint(path, payload)
        ckpt_io.prune_checkpoints(self.run_dir, self.cfg.keep_checkpoints)
        log.info("checkpoint saved: %s", path)
        return path

    def worker_errors(self) -> list[str]:
        """One line per failed worker thread (learner, recorder)."""
        errors = []
        thread = self.parts.thread
        if thread is not None and thread.error is not None:
            errors.append(f"learner thread failed: {one_line(thread.error)}")
        if self.recorder is not None and self.recorder.error is not None:
            errors.append(f"recorder failed: {one_line(self.recorder.error)}")
        return errors

    def close(self) -> list[BaseException]:
        """Drop an episode in progress, stop the learner, checkpoint, flush, plot.

        Every step is tried; the errors are returned (not raised) so the caller reports all.
        """
        errors: list[BaseException] = []
        steps: list[Callable[[], object]] = [self.abort_episode, self.parts.stop, self.save]
        if self.recorder is not None:
            steps.append(self.recorder.close)
        if self.metrics is not None:
            steps.append(self.metrics.close)
            if self.options.plots:
                steps.append(lambda: self.parts.plot_now(self.run_dir, force=True))
        for step in steps:
            try:
                step()
            except Exception as e:
                log.debug("shutting down: %s", e)  # returned: the caller reports it
                errors.append(e)
        return errors

    def _times(self) -> dict[str, float]:
        """The run's wall and CPU seconds so far, earlier sessions included (``wall_s``, ``cpu_s``).

        CPU time counts every thread of this process (collection, learner, recorder, and in
        the app its window): about what the run takes alone on one core. Ray workers'
        processes are not in it.
        """
        c = self.counters
        return {
            "wall_s": c.wall_s + (time.monotonic() - self._t0),
            "cpu_s": c.cpu_s + (time.process_time() - self._cpu0),
        }


def one_line(error: object) -> str:
    """The last non-empty line of an error's text (its message after a traceback)."""
    text = str(error).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


__all__ = [
    "EpisodeObserver",
    "GuideBuilder",
    "LearningSession",
    "SessionOptions",
    "StepObserver",
    "one_line",
]
