"""The learning side of an app session: explorer, buffers, learner thread, curriculum, etc.

It also wires the recorder, checkpoints and resume. The logic lives in ``learner/`` and
``recordings/``; this module only builds the pieces for a session and saves / restores them.

Run directory of an app session (``--run-dir``, ``runs/app`` by default)::

    RUN_DIR/episodes/door-app-v0     every app episode (Minari dataset; guide, explorer, human)
    RUN_DIR/episodes/door-guide-v0   guide-only episodes that measured H1 (non-human guides)
    RUN_DIR/checkpoints/step_*.pt    learner, curriculum and the horizon history (resume)
    RUN_DIR/app.log                  the session log (worker errors included)

The checkpoints use the trainer's payload keys, so ``launch.py eval --checkpoint RUN_DIR``
evaluates the explorer the app trained. Starting the app again with the same ``--run-dir``
resumes: weights, optimizers, curriculum stage and the h history come back, and both replay
buffers are refilled from the run's recordings.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import sim
from app.config import AppConfig
from app.hud import LearnerView, RecordingView
from episode.guide import Guide
from episode.runner import EpisodeRunner
from episode.types import EpisodeResult
from learner import checkpoint as ckpt_io
from learner.curriculum import (
    Curriculum,
    GuideStats,
    JSRLCurriculum,
    JSRLRandom,
    NoGuide,
    guide_stats,
    make_curriculum,
)
from learner.datasets import load_episodes
from learner.explorer import Explorer
from learner.replay import EpisodeReplay, ReplayBuffer
from learner.sac import SACAgent, SACConfig
from learner.thread import LearnerConfig, LearnerThread, WeightSlot
from sim.errors import UserError

log = logging.getLogger(__name__)

APP_DATASET = Path("episodes") / "door-app-v0"
"""Every app episode, relative to the run directory."""
GUIDE_DATASET = Path("episodes") / "door-guide-v0"
"""Guide-only episodes that measured H1, relative to the run directory."""
HUMAN_H1 = 120
"""H1 for a human guide when ``--h1`` is not given (a person opens the door in ~100-150 steps)."""
ONLINE_CAPACITY = 300_000
"""Online replay capacity (transitions; ~1,500 episodes, ~130 MB)."""
GUIDE_SEED = 900_000_000
"""Guide-measurement episodes of seed ``s`` use seeds ``GUIDE_SEED + 10_000 * s + i``."""
CHECKPOINT_EVERY = 20
"""Save a checkpoint every this many finished episodes (and at exit)."""
KEEP_CHECKPOINTS = 3
"""Checkpoints kept in RUN_DIR/checkpoints."""


@dataclass
class History:
    """Finished episodes of the whole run (resumed sessions included), for the plot."""

    hs: list[int] = dataclasses.field(default_factory=list)
    """Guide horizon of each finished episode."""
    successes: list[bool] = dataclasses.field(default_factory=list)
    """Whether the door was open at the end of each (the curriculum's success)."""
    env_steps: int = 0
    """Env steps taken by the app in this run."""
    episodes: int = 0
    """Episodes started (seeds are ``seed + episodes``)."""


class Learning:
    """Explorer, buffers, learner thread, curriculum, recorder and checkpoints of one session.

    Args:
        cfg: The app config.
        env: The session's door env (used here only to measure a non-human guide).
        guide: The starting guide (measured for H1 unless human or resumed).
        progress: Called with a one-line status while setting up (the window shows it).

    """

    def __init__(
        self,
        cfg: AppConfig,
        env: Any,
        guide: Guide,
        progress: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.cfg = cfg
        self.run_dir = Path(cfg.run_dir)
        self.obs_dim, self.act_dim = sim.OBS_DIM, sim.ACT_DIM
        self.sac_config = SACConfig()
        saved = self._load_saved(progress)
        self.history = History()
        self.agent = SACAgent(self.obs_dim, self.act_dim, self.sac_config, seed=cfg.seed)
        self.explorer = Explorer(self.obs_dim, self.act_dim, self.sac_config, seed=cfg.seed)
        n_step = {"gamma": self.sac_config.gamma, "n_step": self.sac_config.n_step}
        self.online = ReplayBuffer(ONLINE_CAPACITY, self.obs_dim, self.act_dim, **n_step)
        offline_steps = max(1, cfg.guide_episodes) * sim.EPISODE_STEPS
        self.offline = ReplayBuffer(offline_steps, self.obs_dim, self.act_dim, **n_step)
        self.replay = EpisodeReplay(self.online, "joint")
        self.stats = self._guide_stats(env, guide, saved, progress)
        self.curriculum = self._make_curriculum(guide, saved)
        if saved:
            self._restore(saved, progress)
        self.slot = WeightSlot()
        self.slot.publish(self.agent.actor_state_dict())
        self.explorer.sync(self.slot)
        self.learner: LearnerThread | None = None
        if cfg.learner:
            learner_cfg = LearnerConfig(warmup_steps=cfg.warmup_steps, torch_threads=1)
            self.learner = LearnerThread(
                self.agent, self.online, self.offline if len(self.offline) else None, self.slot,
                learner_cfg, seed=cfg.seed + 7 * self.history.episodes, paced=False,
            )  # fmt: skip
        self.recorder = self._open_recorder(bool(saved)) if cfg.record else None
        self.warmup = cfg.warmup_steps
        self._episodes_since_save = 0
        self.failed: list[str] = []
        """Worker errors seen (one line each), in order."""

    # -- set-up ------------------------------------------------------------------------------
    def _load_saved(self, progress: Callable[[str], None]) -> dict[str, Any] | None:
        if ckpt_io.latest_checkpoint(self.run_dir) is None:
            return None
        progress(f"resuming the session in {self.run_dir}")
        return ckpt_io.load_checkpoint(self.run_dir, obs_dim=self.obs_dim, act_dim=self.act_dim)

    def _guide_stats(
        self,
        env: Any,
        guide: Guide,
        saved: dict[str, Any] | None,
        progress: Callable[[str], None],
    ) -> GuideStats | None:
        """H1 of the guide: given, resumed, assumed for a person, or measured headless."""
        cfg = self.cfg
        if saved and saved.get("guide_stats"):
            self._load_dataset(self.offline, self.run_dir / GUIDE_DATASET)
            return GuideStats(**saved["guide_stats"])
        if guide.kind == "human" or cfg.strategy == "none":
            return None
        dataset = self.run_dir / GUIDE_DATASET
        writer = _open_writer(dataset, append=True) if cfg.record else None
        runner = EpisodeRunner(env, guide, None, recorder=writer,
                               replay=EpisodeReplay(self.offline, "joint"))  # fmt: skip
        results: list[EpisodeResult] = []
        try:
            for i in range(cfg.guide_episodes):
                progress(f"measuring the {guide.kind} guide: episode {i + 1}/{cfg.guide_episodes}")
                results.append(runner.run_episode(GUIDE_SEED + 10_000 * cfg.seed + i, 200))
        finally:
            if writer is not None:
                writer.close()
        if not any(r.success for r in results) and cfg.h1 is None:
            raise UserError(
                f"the {guide.kind} guide opened the door in none of {len(results)} episodes, so "
                "H1 cannot be measured: pass --h1, a stronger guide, or more --guide-episodes"
            )
        return guide_stats(results, cfg.h1)

    def _make_curriculum(self, guide: Guide, saved: dict[str, Any] | None) -> Curriculum:
        cfg = self.cfg
        rng = np.random.default_rng([cfg.seed, 17])
        if cfg.strategy == "none":
            curriculum: Curriculum = NoGuide()
        elif self.stats is not None:
            curriculum = make_curriculum(cfg.strategy, self.stats, rng=rng)
        elif cfg.strategy == "random":
            curriculum = JSRLRandom(cfg.h1 or HUMAN_H1, rng)
        else:
            curriculum = JSRLCurriculum(cfg.h1 or HUMAN_H1)
        if saved and saved.get("curriculum"):
            try:
                curriculum.load_state_dict(saved["curriculum"])
            except (ValueError, KeyError, UserError) as e:
                raise UserError(
                    f"the curriculum saved in {self.run_dir} does not fit this session ({e}); "
                    "start with the same --guide/--strategy/--h1, or use another --run-dir"
                ) from None
        del guide
        return curriculum

    def _restore(self, saved: dict[str, Any], progress: Callable[[str], None]) -> None:
        try:
            self.agent.load_state_dict(saved["agent"])
        except (ValueError, KeyError, RuntimeError) as e:
            raise UserError(f"the checkpoint in {self.run_dir} does not fit ({e})") from None
        app = saved.get("app") or {}
        self.history = History(
            hs=[int(h) for h in app.get("hs", [])],
            successes=[bool(s) for s in app.get("successes", [])],
            env_steps=int(app.get("env_steps", 0)),
            episodes=int(app.get("episodes", 0)),
        )
        progress("reloading the run's recordings into the replay buffer")
        self._load_dataset(self.online, self.run_dir / APP_DATASET)

    @staticmethod
    def _load_dataset(buffer: ReplayBuffer, dataset: Path) -> int:
        return load_episodes([dataset], buffer, space="joint")

    def _open_recorder(self, resumed: bool) -> Any:
        del resumed
        return _open_writer(self.run_dir / APP_DATASET, append=True)

    # -- running -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the learner thread (if on)."""
        if self.learner is not None:
            self.learner.start()

    def next_seed(self) -> int:
        """Seed of the next episode; counts it as started."""
        seed = self.cfg.seed + self.history.episodes
        self.history.episodes += 1
        return seed

    def step_taken(self) -> None:
        """One env step was taken (the learner is told the total)."""
        self.history.env_steps += 1
        if self.learner is not None:
            self.learner.report_env_steps(self.history.env_steps)

    def episode_finished(self, result: EpisodeResult) -> None:
        """Account for a finished (full-length) episode: curriculum, history, checkpoints."""
        self.curriculum.update(result)
        self.history.hs.append(result.h)
        self.history.successes.append(result.open_at_end)
        self._episodes_since_save += 1
        if self._episodes_since_save >= CHECKPOINT_EVERY:
            self.save_checkpoint()

    def sync_explorer(self) -> bool:
        """Take the newest weights (call at episode start only)."""
        return self.explorer.sync(self.slot)

    # -- status ------------------------------------------------------------------------------
    def learner_view(self) -> LearnerView | None:
        """The learner's status for the HUD (None when the learner is off)."""
        if self.learner is None:
            return None
        s = self.learner.stats()
        return LearnerView(
            updates=s.updates,
            updates_per_s=s.updates_per_s,
            version=s.version,
            explorer_version=self.explorer.version,
            losses=dict(s.losses),
            online=s.online_size,
            offline=s.offline_size,
            warmup=self.warmup,
            error=_one_line(s.error) if s.error else None,
        )

    def recording_view(self) -> RecordingView | None:
        """The recorder's status for the HUD (None when not recording)."""
        rec = self.recorder
        if rec is None:
            return None
        err = rec.error
        return RecordingView(
            dataset=str(APP_DATASET),
            episodes=rec.episodes_written,
            steps=rec.steps_written,
            error=f"{type(err).__name__}: {err}" if err is not None else None,
        )

    def worker_errors(self) -> list[str]:
        """One line per failed worker thread (learner, recorder), newest state."""
        errors = []
        if self.learner is not None and self.learner.error is not None:
            errors.append(f"learner thread failed: {_one_line(self.learner.error)}")
        if self.recorder is not None and self.recorder.error is not None:
            errors.append(f"recorder failed: {_one_line(self.recorder.error)}")
        return errors

    # -- saving ------------------------------------------------------------------------------
    def save_checkpoint(self) -> Path | None:
        """Save learner, curriculum and history (skipped if the learner died mid-update)."""
        if self.learner is not None and self.learner.error is not None:
            log.warning("no checkpoint: the learner thread failed, its state is not trusted")
            return None
        self._episodes_since_save = 0
        h = self.history
        if self.learner is not None:
            with self.learner.lock:
                agent_state, actor = self.agent.state_dict(), self.agent.actor_state_dict()
            version = self.learner.stats().version
        else:
            agent_state, actor = self.agent.state_dict(), self.agent.actor_state_dict()
            version = self.explorer.version
        payload = {
            "obs_dim": self.obs_dim,
            "act_dim": self.act_dim,
            "sac_config": dataclasses.asdict(self.sac_config),
            "agent": agent_state,
            "actor": actor,
            "weight_version": max(1, int(version)),
            "curriculum": self.curriculum.state_dict(),
            "guide_stats": dataclasses.asdict(self.stats) if self.stats else None,
            "app": {
                "hs": list(h.hs),
                "successes": list(h.successes),
                "env_steps": h.env_steps,
                "episodes": h.episodes,
            },
        }
        path = self.run_dir / ckpt_io.CHECKPOINT_DIR / ckpt_io.checkpoint_name(h.env_steps)
        ckpt_io.save_checkpoint(path, payload)
        ckpt_io.prune_checkpoints(self.run_dir, KEEP_CHECKPOINTS)
        log.info("checkpoint saved: %s", path)
        return path

    def close(self) -> list[BaseException]:
        """Stop the learner, save a checkpoint, flush and close the recorder.

        Every step is tried; the errors are returned (not raised) so the caller reports all.
        """
        errors: list[BaseException] = []
        steps: list[Callable[[], object]] = []
        if self.learner is not None:
            steps.append(self.learner.stop)
        steps.append(self.save_checkpoint)
        if self.recorder is not None:
            steps.append(self.recorder.close)
        for step in steps:
            try:
                step()
            except Exception as e:
                log.error("shutting down: %s", e)
                errors.append(e)
        return errors


def _open_writer(dataset: Path, append: bool) -> Any:
    from recordings.writer import DatasetWriter

    return DatasetWriter(dataset, append=append)


def _one_line(error: object) -> str:
    text = str(error).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
