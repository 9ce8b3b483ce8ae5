"""The one episode runner: the guide acts for ``t < h``, the explorer after, a human any time.

Headless training, evaluation, ``collect`` and the app all run episodes through
:class:`EpisodeRunner`; the app calls :meth:`EpisodeRunner.step` once per frame, the headless
tools call :meth:`EpisodeRunner.run_episode`. Every action passes the
:class:`~episode.sanitize.ActionSanitizer`; every transition is tagged with who acted and the
horizon ``h`` and goes to the recorder (which never blocks) and the replay buffer (O(1)).
Loading new explorer weights is the caller's job at the episode boundary
(``explorer.sync(slot)`` before :meth:`EpisodeRunner.reset`); the runner never does it mid-episode.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from episode.guide import Guide
from episode.milestones import MilestoneTracker
from episode.roll_in import SavedState
from episode.sanitize import ActionSanitizer
from episode.types import (
    Actor,
    CommandLabeler,
    EpisodeResult,
    Policy,
    Recorder,
    Replay,
    Transition,
)
from sim.door import episode_success, restore

log = logging.getLogger(__name__)

ROLL_IN_KIND = "roll-in"
"""``guide_kind`` of an episode that started from a saved state (no guide acted in it)."""
SLOW_GUIDE_S = 1.0
"""A guide action that takes longer than this (seconds) is reported, once per episode."""

if TYPE_CHECKING:
    import gymnasium as gym


class EpisodeRunner:
    """Runs episodes of the door with a guide segment of ``h`` steps, then the explorer.

    Args:
        env: The door env (``sim.make_door()``).
        guide: Acts for steps ``t < h``.
        explorer: Acts for steps ``t >= h``; None means the guide acts for the whole episode
            (recording guide demonstrations), whatever ``h`` says.
        recorder: Receives every step (a :class:`recordings.writer.DatasetWriter`), or None.
        replay: Receives every transition (``replay.add``), or None.
        explorer_deterministic: Call ``explorer.act(obs, deterministic=True)`` (evaluation);
            :meth:`reset` can override it per episode (curriculum trials).
        command_labeler: Labels steps whose actor issued no Command (a 28-D guide) with the
            Command that best explains them; None leaves them unlabelled.

    Actors that act through the teleop mapper expose the Command of their last ``act`` as the
    attribute ``command_vector`` (6-D, :func:`teleop.command_space.encode`); it goes into the
    transition, the replay and the recording.
    An explorer with a ``take_over(obs, previous)`` method is told each time it takes control
    (at the handover, at ``t = 0`` when ``h = 0``, after a human intervention), so it can
    carry over the previous actor's controller state. One whose ``uses_previous`` is true
    gets the episode's observation before ``obs`` too: ``act(obs, previous=...)``.

    """

    def __init__(
        self,
        env: gym.Env,
        guide: Guide,
        explorer: Policy | None,
        *,
        recorder: Recorder | None = None,
        replay: Replay | None = None,
        explorer_deterministic: bool = False,
        command_labeler: CommandLabeler | None = None,
    ) -> None:
        self.env = env
        self.guide = guide
        self.explorer = explorer
        self.recorder = recorder
        self.replay = replay
        self.explorer_deterministic = explorer_deterministic
        self.command_labeler = command_labeler
        self.sanitizer = ActionSanitizer()
        self.slow_guide_s = SLOW_GUIDE_S
        """Report a guide action slower than this (the watchdog; the episode waits for it)."""
        self.slow_guide_actions = 0
        """Guide actions slower than ``slow_guide_s`` (since creation)."""
        self._slow_reported = False
        self._deterministic = explorer_deterministic
        self._milestones = MilestoneTracker()
        self._open_steps = 0
        self._last_actor: Actor | None = None
        self._obs: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        """The observation before :attr:`obs` in this episode (None at its first)."""
        self._prev_action: np.ndarray | None = None
        """The episode's previous 28-D action (the labeler reads the wrist's target from it)."""
        self._seed: int | None = None
        self._h = 0
        self._t = self._t0 = 0
        self._rolled_in = False
        self._done = True
        self._started = False
        self._return = 0.0
        self._first_success: int | None = None
        self._open = False
        self._counts = dict.fromkeys(Actor, 0)
        self._weight_version = 0

    # -- state -------------------------------------------------------------------------------
    @property
    def obs(self) -> np.ndarray:
        """The current observation (after :meth:`reset`)."""
        if self._obs is None:
            raise RuntimeError("EpisodeRunner.obs read before reset()")
        return self._obs

    @property
    def t(self) -> int:
        """Steps taken in this episode."""
        return self._t

    @property
    def h(self) -> int:
        """This episode's guide horizon."""
        return self._h

    @property
    def done(self) -> bool:
        """The episode has ended (or none was started)."""
        return self._done

    @property
    def next_actor(self) -> Actor:
        """Who acts at the next step absent a human intervention."""
        if self.explorer is None or self._t < self._h:
            return Actor.GUIDE
        return Actor.EXPLORER

    # -- episode -----------------------------------------------------------------------------
    def reset(
        self,
        seed: int | None,
        h: int,
        *,
        deterministic: bool | None = None,
        start: SavedState | None = None,
    ) -> np.ndarray:
        """Start an episode with guide horizon ``h``; an unfinished one is ended first.

        Args:
            seed: Env reset seed.
            h: Guide horizon: the guide acts for ``t < h``.
            deterministic: The explorer acts with its mode this episode (None: the runner's
                ``explorer_deterministic``).
            start: Start from this saved state (after ``start.t >= h`` steps of another
                episode) instead of a reset: the roll-in (``start.t == h``, no guide step
                taken) or a retry from a failure (``h = 0``). The episode then has
                ``EPISODE_STEPS - start.t`` steps, all the explorer's, and the source's seed.

        Returns:
            The first observation.

        """
        if h < 0:
            raise ValueError(f"guide horizon h must be >= 0, got {h}")
        if start is not None and (start.t < h or self.explorer is None):
            raise ValueError(
                f"a saved start needs an explorer and start.t >= h, got t={start.t}, h={h}"
            )
        self.finish()
        if start is None:
            obs, _ = self.env.reset(seed=seed)
        else:
            restore(self.env, start.state, t=start.t, seed=start.seed)
            obs, seed = start.obs, start.seed
        self._obs, self._previous = np.asarray(obs, dtype=np.float32), None
        self._prev_action = None
        self._seed, self._h = seed, int(h)
        self._t = self._t0 = 0 if start is None else start.t
        self._rolled_in = start is not None
        self._done, self._started = False, True
        self._return, self._first_success, self._open = 0.0, None, False
        self._counts = dict.fromkeys(Actor, 0)
        self._weight_version = int(getattr(self.explorer, "version", 0))
        self._deterministic = (
            self.explorer_deterministic if deterministic is None else deterministic
        )
        self._milestones.reset()
        self._open_steps, self._last_actor, self._slow_reported = 0, None, False
        self.sanitizer.reset()
        self.guide.reset(self._obs)
        if self.recorder is not None:
            self.recorder.raise_if_failed()
            self.recorder.begin_episode(
                self._obs,
                seed=seed,
                h=self._h,
                guide_kind=self._guide_kind(),
                weight_version=self._weight_version,
            )
        return self._obs

    def step(
        self, human_action: np.ndarray | None = None, human_command: np.ndarray | None = None
    ) -> Transition:
        """Take one step; ``human_action`` given makes it a HUMAN intervention step.

        Args:
            human_action: The person's 28-D action (None: the guide or the explorer acts).
            human_command: The person's Command vector behind ``human_action`` (6-D,
                :func:`teleop.command_space.encode`), recorded with the step; None labels it
                (with a ``command_labeler``) or records none.

        """
        if self._done:
            raise RuntimeError("EpisodeRunner.step() called with no episode running: reset() first")
        obs = self.obs
        actor, raw, command = self._choose(obs, human_action, human_command)
        action = self.sanitizer(raw)
        next_obs, reward, terminated, truncated, info = self.env.step(action)
        next_obs = np.asarray(next_obs, dtype=np.float32)
        success = bool(info.get("success", False))
        if command is None and self.command_labeler is not None:
            label = self.command_labeler(obs, action, next_obs, self._prev_action)
            command = np.asarray(label, dtype=np.float32)
        self._prev_action = action
        tr = Transition(
            obs=obs,
            action=action,
            reward=float(reward),
            next_obs=next_obs,
            terminated=bool(terminated),
            truncated=bool(truncated),
            actor=actor,
            t=self._t,
            h=self._h,
            success=success,
            command=command,
        )
        self._record(tr)
        self._t += 1
        self._counts[actor] += 1
        self._last_actor = actor
        self._return += tr.reward
        self._open = success
        self._open_steps += int(success)
        self._milestones.observe(self._t, next_obs)
        if success and self._first_success is None:
            self._first_success = self._t
        self._obs, self._previous = next_obs, obs
        if tr.terminated or tr.truncated:
            self._end()
        return tr

    def finish(self) -> EpisodeResult | None:
        """End an unfinished episode early (reset, quit, Ctrl-C); its steps are kept.

        Returns:
            The unfinished episode's result, or None when no episode was in progress.

        """
        if self._done:
            return None
        self._end()
        return self.result()

    def discard(self) -> None:
        """End an unfinished episode and drop it: not recorded, not learned from.

        ``train`` does this on Ctrl-C or a guide error: the episode is played again from its
        seed on ``--resume``, so keeping the partial one would record that seed twice.
        """
        if self._done:
            return
        self._done = True
        if self.replay is not None:
            self.replay.discard_episode()
        if self.recorder is not None:
            self.recorder.discard_episode()

    def result(self) -> EpisodeResult:
        """The result of the current (or just finished) episode."""
        if not self._started:
            raise RuntimeError("EpisodeRunner.result() called before any reset()")
        return EpisodeResult(
            seed=self._seed,
            h=self._h,
            steps=self._t - self._t0,
            episode_return=self._return,
            success=episode_success(self._open_steps),
            first_success_step=self._first_success,
            n_guide=self._counts[Actor.GUIDE],
            n_explorer=self._counts[Actor.EXPLORER],
            n_human=self._counts[Actor.HUMAN],
            guide_kind=self._guide_kind(),
            weight_version=self._weight_version,
            open_at_end=self._open,
            open_steps=self._open_steps,
            milestones=tuple(self._milestones.first),
            deterministic=self._deterministic,
        )

    def run_episode(
        self, seed: int | None, h: int, *, deterministic: bool | None = None
    ) -> EpisodeResult:
        """Run a whole episode headless and return its result."""
        self.reset(seed, h, deterministic=deterministic)
        while not self._done:
            self.step()
        return self.result()

    # -- internals ---------------------------------------------------------------------------
    def _choose(
        self, obs: np.ndarray, human_action: np.ndarray | None, human_command: np.ndarray | None
    ) -> tuple[Actor, Any, np.ndarray | None]:
        """Who acts, their raw action, and the Command they issued (if they say)."""
        if human_action is not None:
            command = None if human_command is None else np.asarray(human_command, np.float32)
            return Actor.HUMAN, human_action, command
        if self.next_actor is Actor.GUIDE:
            return Actor.GUIDE, self._guide_act(obs), _command_vector(self.guide)
        explorer = self.explorer
        assert explorer is not None
        if self._last_actor is not Actor.EXPLORER and hasattr(explorer, "take_over"):
            previous = self.guide if self._last_actor is Actor.GUIDE else None
            explorer.take_over(obs, previous)
        kwargs: dict[str, Any] = {"deterministic": True} if self._deterministic else {}
        if getattr(explorer, "uses_previous", False):  # its input has the rates since then
            kwargs["previous"] = self._previous
        raw = explorer.act(obs, **kwargs)
        return Actor.EXPLORER, raw, _command_vector(explorer)

    def _record(self, tr: Transition) -> None:
        record_step(tr, self.recorder, self.replay)

    def _guide_act(self, obs: np.ndarray) -> Any:
        """The guide's action, timed: a slow guide is reported (once per episode)."""
        t0 = time.perf_counter()
        raw = self.guide.act(obs)
        took = time.perf_counter() - t0
        if took > self.slow_guide_s:
            self.slow_guide_actions += 1
            if not self._slow_reported:
                self._slow_reported = True
                log.warning(
                    "the %s guide took %.1f s for one action (step %d); the episode waits "
                    "for it, so the run goes that much slower",
                    self._guide_kind(), took, self._t + 1,
                )  # fmt: skip
        return raw

    def _end(self) -> None:
        self._done = True
        end_recording(self.recorder, self.replay)

    def _guide_kind(self) -> str:
        if self._rolled_in:
            return ROLL_IN_KIND
        return str(getattr(self.guide, "kind", type(self.guide).__name__))


def record_step(tr: Transition, recorder: Recorder | None, replay: Replay | None) -> None:
    """Hand one step to the replay (staged) and the recorder (queued), as the runner does."""
    if replay is not None:
        replay.add(tr)
    if recorder is not None:
        recorder.add_step(
            tr.action,
            tr.reward,
            tr.next_obs,
            tr.terminated,
            tr.truncated,
            actor=tr.actor,
            h=tr.h,
            success=tr.success,
            command=tr.command,
        )


def end_recording(recorder: Recorder | None, replay: Replay | None) -> None:
    """Commit the episode to the replay and hand it to the recorder (its errors raised)."""
    if replay is not None:
        replay.end_episode()
    if recorder is not None:  # an episode with no steps is not stored
        recorder.end_episode()
        recorder.raise_if_failed()


def _command_vector(actor: object) -> np.ndarray | None:
    """The Command vector an actor says it issued in its last ``act``, if it says."""
    command = getattr(actor, "command_vector", None)
    return None if command is None else np.asarray(command, dtype=np.float32)


__all__ = ["CommandLabeler", "EpisodeRunner", "end_recording", "record_step"]
