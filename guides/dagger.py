"""DAgger in the app: when the imitation guide trains, and when it takes the guide role.

:class:`DaggerLoop` is the policy of the human-effort loop, kept apart from the window (no
pygame, no sim) so it can be tested on its own. The app feeds it every step
(:meth:`DaggerLoop.record`) and tells it when an episode ends
(:meth:`DaggerLoop.episode_ended`):

1. An episode that a *teacher* guided (the human, by default) is a demonstration: its guide
   and human steps (their Commands, which every step the app records carries) go to an
   :class:`~guides.imitation.ImitationTrainer`. Once ``after``
   demonstrations (of at least ``min_demo_steps`` steps each) are in, the trainer starts in
   the background; each later demonstration is added and another round requested.
2. When the trainer's first guide is ready the loop *asks* (:meth:`DaggerLoop.news`); the
   person accepts with one key (:meth:`DaggerLoop.toggle`), and from the next episode boundary
   :meth:`DaggerLoop.guide` hands it out, then always its newest version (the app never swaps
   a guide mid-episode, nor replaces an episode the person is about to start); the same key
   switches back to the teacher.
3. In an episode the imitation guide led, every HUMAN step (the person took over) is a
   correction: at the episode's end they join the training data (``add_interventions``) and a
   retrain is requested, as in DAgger's aggregation. The new version is used from the next
   episode boundary on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from episode.types import Actor, EpisodeResult, Transition
from guides.imitation import ImitationConfig, ImitationGuide, ImitationTrainer
from teleop.command_space import COMMAND_DIM

APP_IMITATION = ImitationConfig(steps=2000, batch_size=128, eval_episodes=0, torch_threads=1)
"""Training in the app: small batches, one torch thread, no self-evaluation (it would run
whole episodes on the CPU the window needs)."""
TRAINER_NICE = 10
"""CPU niceness of the trainer thread (Linux): the window and the learner come first."""


@dataclass(frozen=True)
class DaggerConfig:
    """When the imitation guide trains and takes over."""

    after: int = 3
    """Demonstration episodes before the first training round (0: the loop is off)."""
    teachers: tuple[str, ...] = ("human",)
    """Guide kinds whose episodes are demonstrations (their GUIDE and HUMAN steps)."""
    min_demo_steps: int = 20
    """Demonstrated steps an episode needs to count toward ``after`` (its steps are used
    anyway)."""
    imitation: ImitationConfig = APP_IMITATION
    """How each round trains (``eval_episodes=0`` keeps the window smooth)."""
    nice: int = TRAINER_NICE
    """CPU niceness added to the trainer thread (0: same priority as the app)."""

    def __post_init__(self) -> None:
        if self.after < 0:
            raise ValueError(f"DaggerConfig.after must be >= 0, got {self.after}")
        if self.min_demo_steps < 1:
            raise ValueError(f"DaggerConfig.min_demo_steps must be >= 1, got {self.min_demo_steps}")
        if not self.teachers or ImitationGuide.kind in self.teachers:
            raise ValueError(
                f"DaggerConfig.teachers must name guides other than imitation: {self.teachers}"
            )


@dataclass(frozen=True)
class DaggerStatus:
    """What the HUD shows about the loop."""

    demos: int
    """Demonstration episodes counted so far."""
    after: int
    """Demonstrations needed before training starts."""
    version: int
    """Newest trained guide (0: none yet)."""
    in_use: int
    """Version guiding the episode running now (0: the teacher guides)."""
    active: bool
    """The imitation guide takes the guide role (when the teacher's turn comes)."""
    samples: int
    """(obs, action) pairs in the training data."""
    intervention_samples: int
    """Of them, the human's corrections."""
    training: bool
    """A training round is running."""
    last_train_seconds: float
    """Wall time of the last round (NaN before the first)."""
    error: str | None = None
    """The trainer thread's error, if it died."""

    @property
    def started(self) -> bool:
        """Training has been requested at least once."""
        return self.demos >= self.after


@dataclass
class _Episode:
    obs: list[np.ndarray] = field(default_factory=list)
    actions: list[np.ndarray] = field(default_factory=list)
    commands: list[np.ndarray] = field(default_factory=list)
    actors: list[int] = field(default_factory=list)

    def take(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        arrays = (
            np.asarray(self.obs, dtype=np.float32),
            np.asarray(self.actions, dtype=np.float32),
            np.asarray(self.commands, dtype=np.float32).reshape(-1, COMMAND_DIM),
            np.asarray(self.actors, dtype=np.int64),
        )
        self.obs, self.actions, self.commands, self.actors = [], [], [], []
        return arrays


class DaggerLoop:
    """Demos -> imitation guide -> the human's corrections -> a better guide, in the app.

    Args:
        config: When to train and switch; ``after=0`` turns the loop off (every call is then
            a cheap no-op).
        trainer: The trainer to feed (default: a new one with ``config.imitation``).

    """

    def __init__(self, config: DaggerConfig, trainer: ImitationTrainer | None = None) -> None:
        self.config = config
        self.trainer = trainer or ImitationTrainer(config.imitation, nice=config.nice)
        self.demos = 0
        """Demonstration episodes counted toward ``config.after``."""
        self.active = False
        """The imitation guide takes the teacher's turn (once one is ready)."""
        self.in_use = 0
        """Version handed out for the episode running now (0: none)."""
        self._handed: ImitationGuide | None = None
        self._announced = 0
        self._closed = False
        self._episode = _Episode()

    @property
    def enabled(self) -> bool:
        """The loop is on (``after`` > 0)."""
        return self.config.after > 0

    # -- data ----------------------------------------------------------------------------------
    def record(
        self, obs: np.ndarray, action: np.ndarray, actor: Actor, command: np.ndarray | None = None
    ) -> None:
        """One step of the running episode: the obs, the action, who chose it, its Command.

        A step without a Command (None) is left out by a Command-space trainer.
        """
        if self.enabled:
            self._episode.obs.append(np.asarray(obs, dtype=np.float32).reshape(-1))
            self._episode.actions.append(np.asarray(action, dtype=np.float32).reshape(-1))
            said = np.full(COMMAND_DIM, np.nan) if command is None else np.asarray(command)
            self._episode.commands.append(said.astype(np.float32).reshape(COMMAND_DIM))
            self._episode.actors.append(int(actor))

    def on_step(self, tr: Transition) -> None:
        """Step observer of the learning session: :meth:`record` the transition."""
        self.record(tr.obs, tr.action, tr.actor, tr.command)

    def on_episode_end(self, result: EpisodeResult, finished: bool) -> None:
        """Episode observer of the learning session: :meth:`episode_ended` (cut short or not)."""
        del finished
        self.episode_ended(result.guide_kind)

    def episode_ended(self, guide_kind: str) -> None:
        """The episode (led by a guide of ``guide_kind``) ended: use its steps, maybe retrain."""
        obs, actions, commands, actors = self._episode.take()
        if not self.enabled or self._closed or len(obs) == 0:
            return
        if self.trainer.space == "command":  # clone the Commands; a step without one is left out
            said = np.isfinite(commands).all(axis=1)
            obs, actions, actors = obs[said], commands[said], actors[said]
        if guide_kind in self.config.teachers:
            keep = np.isin(actors, [int(Actor.GUIDE), int(Actor.HUMAN)])
            counted = int(keep.sum()) >= self.config.min_demo_steps
            self.demos += counted
            self.trainer.add_demos(obs[keep], actions[keep], episodes=int(counted))
            self._retrain()
        elif guide_kind == ImitationGuide.kind and self.in_use:  # not --guide imitation:DATASET
            human = actors == int(Actor.HUMAN)
            if human.any():
                self.trainer.add_interventions(obs[human], actions[human])
                self._retrain()

    def _retrain(self) -> None:
        if self.demos >= self.config.after and self.trainer.error is None:
            self.trainer.retrain()

    # -- the guide role ------------------------------------------------------------------------
    def guide(self, base_kind: str) -> ImitationGuide | None:
        """The guide for the next episode (call at episode boundaries only).

        Args:
            base_kind: The kind of the guide the app would use otherwise.

        Returns:
            The newest imitation guide when it stands in for a teacher, else None (use the
            base guide).

        """
        version, latest = self.trainer.latest()
        if not self.active or latest is None or base_kind not in self.config.teachers:
            self.in_use, self._handed = 0, None
            return None
        self.in_use, self._handed = version, latest
        return latest

    def switch_due(self, base_kind: str) -> bool:
        """:meth:`guide` would now change who guides (a new version, or a toggle)."""
        if not self.enabled:
            return False
        version, latest = self.trainer.latest()
        if latest is None or not self.active or base_kind not in self.config.teachers:
            return self.in_use != 0
        return version != self.in_use

    def toggle(self) -> str:
        """Switch between the imitation guide and the teacher (from the next episode).

        Returns:
            A one-line notice for the user.

        """
        if not self.enabled:
            return "imitation is off (--imitate-after 0)"
        version, latest = self.trainer.latest()
        if latest is None:
            return f"no imitation guide yet ({self.progress()})"
        self.active = not self.active
        who = f"imitation v{version}" if self.active else " / ".join(self.config.teachers)
        return f"next episode: guide {who} (I switches back)"

    def news(self) -> str | None:
        """A notice once per newly trained version (None: nothing new)."""
        version, latest = self.trainer.latest()
        if latest is None or version == self._announced:
            return None
        self._announced = version
        if self.active:
            return f"imitation v{version} ready: it guides from the next episode"
        return f"imitation v{version} ready: press I to let it guide (from the next episode)"

    def label(self, guide: object) -> str | None:
        """``imitation vN`` if ``guide`` is the one this loop handed out, else None."""
        if self.in_use and guide is self._handed:
            return f"{ImitationGuide.kind} v{self.in_use}"
        return None

    # -- status --------------------------------------------------------------------------------
    def progress(self) -> str:
        """How far the demonstrations are, e.g. ``1 / 3 demos``."""
        return f"{self.demos} / {self.config.after} demos"

    def status(self) -> DaggerStatus:
        """The loop's and the trainer's state for the HUD."""
        s = self.trainer.stats()
        return DaggerStatus(
            demos=self.demos,
            after=self.config.after,
            version=s.version,
            in_use=self.in_use,
            active=self.active,
            samples=s.samples,
            intervention_samples=s.intervention_samples,
            training=s.training,
            last_train_seconds=s.last_train_seconds,
            error=s.error,
        )

    def error_line(self) -> str | None:
        """One line about the trainer thread's failure, or None."""
        error = self.trainer.stats().error
        return None if error is None else f"imitation trainer failed: {error}"

    def close(self, timeout: float = 1.0) -> None:
        """Stop training (a round under way is given ``timeout`` seconds); ignore new data."""
        self._closed = True
        self.trainer.stop(timeout)


def describe_status(status: DaggerStatus) -> tuple[str, str]:
    """The HUD's two lines about the loop: its state, and its data."""
    if status.error:
        return f"FAILED: {status.error}", ""
    if not status.started:
        return f"collecting demos: {status.demos} / {status.after} episodes", (
            f"trains after {status.after} episodes you guide"
        )
    if status.version == 0:
        state = "training v1…"
    elif status.in_use:
        state = f"v{status.in_use} guiding"
        if status.version > status.in_use:
            state += f"  ·  v{status.version} next episode"
        elif status.training:
            state += "  ·  training"
    else:
        ready = "ready" if status.active else "ready, off (I turns it on)"
        state = f"v{status.version} {ready}" + ("  ·  training" if status.training else "")
    fit = status.last_train_seconds
    data = f"{status.samples:,} samples  ·  {status.intervention_samples:,} interventions" + (
        "" if np.isnan(fit) else f"  ·  last fit {fit:.1f} s"
    )
    return state, data


__all__ = ["APP_IMITATION", "DaggerConfig", "DaggerLoop", "DaggerStatus", "describe_status"]
