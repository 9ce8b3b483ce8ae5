"""The app's side of the one learning session: its settings and its status for the HUD.

The app runs :class:`learner.session.LearningSession` with the trainer's defaults; only what a
window needs differs: the learner runs free on one torch thread, episodes go to
``RUN_DIR/episodes/door-app-v0``, no periodic evaluation stalls the window, and the app
resumes whatever run its ``--run-dir`` holds.
"""

from __future__ import annotations

from pathlib import Path

from app.config import AppConfig
from app.hud import LearnerView, RecordingView
from learner.checkpoint import latest_checkpoint
from learner.config import CurriculumConfig, LearnerConfig, SACConfig, TrainConfig
from learner.run_dir import APP_DATASET, CONFIG_FILE, read_config
from learner.session import LearningSession, SessionOptions, one_line
from sim.door import EPISODE_STEPS

ONLINE_CAPACITY = 300_000
"""Online replay capacity (transitions; ~1,500 episodes, ~130 MB: a desktop's memory)."""
APP_MC_LOWER_BOUND_UNTIL = 0
"""The app's MC floor is kept throughout (``SACConfig.mc_lower_bound_until``; ``train`` drops
it after 60k updates, 30k env steps). The app's learner runs free beside the window, about 1.5
updates per env step, so 60k updates come after about 17.5 of ``bench/app_learning.py``'s 20
minutes, with the critics' targets still settling when the explorer is evaluated: 80 % alone
there, against 92 and 96 % (two samples) with the floor kept."""
CHECKPOINT_EVERY_EPISODES = 20
"""Save a checkpoint every this many episodes' worth of env steps (and at exit)."""


def session_settings(cfg: AppConfig) -> tuple[TrainConfig, SessionOptions]:
    """The learning session an app config asks for (resumed if ``--run-dir`` holds a run).

    A resumed run keeps its explorer's speed (its actor learned what +-1 means at that speed)
    and when its MC floor ends; a new one keeps the floor (:data:`APP_MC_LOWER_BOUND_UNTIL`).
    """
    run_dir = Path(cfg.run_dir)
    resume = latest_checkpoint(run_dir) is not None
    saved = read_config(run_dir / CONFIG_FILE) if resume else None
    train = TrainConfig(
        run_dir=run_dir,
        guide=cfg.guide,
        strategy=cfg.strategy,
        seed=cfg.seed,
        resume=resume,
        explorer_speed=TrainConfig.explorer_speed if saved is None else saved["explorer_speed"],
        guide_episodes=cfg.guide_episodes,
        h1=cfg.h1,
        eval_episodes=0,
        checkpoint_every=CHECKPOINT_EVERY_EPISODES * EPISODE_STEPS,
        buffer_capacity=ONLINE_CAPACITY,
        progress=False,
        # every update steps the actor (the learner runs free beside the window)
        sac=SACConfig(
            mc_lower_bound_until=APP_MC_LOWER_BOUND_UNTIL
            if saved is None
            else saved["sac"]["mc_lower_bound_until"]
        ),
        learner=LearnerConfig(warmup_steps=cfg.warmup_steps, torch_threads=1),
        curriculum=CurriculumConfig(alone_every=0),  # the person guides every episode
    )
    options = SessionOptions(
        learning=cfg.learner,
        paced=False,
        dataset=APP_DATASET,
        record=cfg.record,
        strict_run_dir=False,
        plots=False,
    )
    return train, options


def learner_view(session: LearningSession) -> LearnerView | None:
    """The learner's status for the HUD (None when the learner is off)."""
    s = session.learner_stats()
    if s is None:
        return None
    return LearnerView(
        updates=s.updates,
        updates_per_s=s.updates_per_s,
        version=s.version,
        explorer_version=session.explorer.version,
        losses=dict(s.losses),
        online=s.online_size,
        offline=s.offline_size,
        warmup=session.cfg.learner.warmup_steps,
        error=one_line(s.error) if s.error else None,
    )


def recording_view(session: LearningSession) -> RecordingView | None:
    """The recorder's status for the HUD (None when not recording)."""
    rec = session.recorder
    if rec is None:
        return None
    err = rec.error
    return RecordingView(
        dataset=str(session.options.dataset),
        episodes=rec.dataset_episodes,  # the dataset's, so a resumed session shows them all
        steps=rec.dataset_steps,
        error=f"{type(err).__name__}: {err}" if err is not None else None,
    )


__all__ = ["learner_view", "recording_view", "session_settings"]
