"""The headless JSRL trainer behind ``python launch.py train``: a loop over the one session.

One run, start to end (the :class:`~learner.session.LearningSession` does the work):

1. **Guide data.** ``--guide-episodes`` guide-only episodes are recorded to
   ``DIR/episodes/door-guide-v0``. They measure H1 (the guide's mean steps to success) and its
   success rate, and they fill the *offline* buffer of every strategy, so plain RL
   (``--strategy none``) learns from exactly the same guide data as JSRL. These steps are not
   counted in ``--steps``.
2. **Training episodes** (counted in ``--steps``): the curriculum picks ``h``, the guide acts
   for ``t < h``, the explorer after. Every step goes to the *online* buffer and to
   ``DIR/episodes/door-train-v0``.
3. The **learner thread** trains SAC on RLPD's symmetric 50/50 mix of offline and online
   batches, paced: collection waits so that updates keep up with ``utd_ratio`` x env steps.
4. Every ``--eval-every`` steps the explorer alone (h = 0, deterministic) is evaluated on a
   fixed set of seeds; rows go to ``DIR/metrics/*.csv``, PNG plots to ``DIR/plots``;
   checkpoints to ``DIR/checkpoints`` every ``--checkpoint-every`` steps and at exit. Ctrl-C
   (or SIGTERM) stops at the next step (:mod:`learner.interrupts`): the episode in progress is
   dropped, to be played again from its seed on ``--resume``; exit code 130.
5. ``--resume`` reloads the newest checkpoint (of a train or an app run) and rebuilds both
   buffers from the run's own recordings.
6. ``--workers N > 1`` plays step 2's episodes on N Ray rollout workers
   (:mod:`learner.ray_runs`); everything else stays here, in this process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm import tqdm

from episode.types import EpisodeResult
from learner.config import TrainConfig
from learner.interrupts import StopRequest, no_interrupts, stop_requests
from learner.run_dir import check_run_dir, check_values, check_workers
from learner.session import GuideBuilder, LearningSession, SessionOptions
from sim.errors import UserError

SUCCESS_WINDOW = 20
"""Training episodes in the success rate shown on the progress bar."""


def run_train(cfg: TrainConfig, build_guide: GuideBuilder | None = None) -> int:
    """Train as ``cfg`` says; return 0 when done, 130 when interrupted (Ctrl-C).

    Args:
        cfg: The run's settings.
        build_guide: Builds ``--guide`` for an env (``launch.py`` hands it in; None: none).

    """
    check_train_values(cfg)
    check_run_dir(cfg)  # before the guide is built: a bad run directory fails fast
    import sim

    env = sim.make_door()
    if cfg.guide != "none" and build_guide is None:
        raise UserError(f"--guide {cfg.guide} needs a guide builder: run it as launch.py train")
    guide = None if cfg.guide == "none" or build_guide is None else build_guide(env)
    session = LearningSession(cfg, guide, SessionOptions(), env=env)
    if cfg.workers > 1:  # Ray rollout workers (``import ray`` only here)
        from learner.ray_runs import train_on_workers

        return train_on_workers(session, build_guide, train_loop)
    return train_loop(session)


STOPPING = "stopping after this step, then saving a checkpoint (Ctrl-C again: at once)"
"""What the first Ctrl-C prints."""


def check_train_values(cfg: TrainConfig) -> None:
    """The checks of ``train`` beyond the session's own."""
    check_values(cfg)
    check_workers(cfg.workers, cfg.ray_address)
    if (cfg.curriculum.roll_in or cfg.curriculum.retry_failures > 0) and cfg.workers > 1:
        raise UserError(
            "--curriculum.roll-in and --curriculum.retry-failures restore saved states in this "
            "process: leave out --workers"
        )
    if cfg.guide.startswith("human"):
        raise UserError(
            "the human guide needs a window: use `python launch.py app` to train with it"
        )
    if cfg.strategy not in ("none", "fixed") and cfg.guide_episodes == 0 and cfg.h1 is None:
        raise UserError(
            f"--strategy {cfg.strategy} needs --guide-episodes > 0 (to measure H1) or --h1"
        )


Play = Callable[[LearningSession, StopRequest], None]
"""Plays a session's episodes until ``--steps`` or a stop request (here, or on Ray workers)."""


def play_here(session: LearningSession, stop: StopRequest | None = None) -> None:
    """Play episodes in this process until ``--steps`` or a stop request (between two steps)."""
    while session.env_steps < session.cfg.steps:
        if session.play_episode(stop) is None:
            return


def train_loop(session: LearningSession, play: Play = play_here) -> int:
    """Play the run's episodes (``play``), evaluate, save and close at the end.

    Args:
        session: The run's session.
        play: Plays episodes until ``--steps`` or Ctrl-C (here, or on Ray workers).

    Returns:
        0 when done, 130 after Ctrl-C (a checkpoint is saved either way).

    """
    cfg = session.cfg
    bar = tqdm(total=cfg.steps, initial=min(session.env_steps, cfg.steps), unit="step",
               desc="train", disable=not cfg.progress, dynamic_ncols=True)  # fmt: skip
    recent: deque[EpisodeResult] = deque(maxlen=SUCCESS_WINDOW)
    session.add_step_observer(lambda _tr: bar.update(1))
    session.add_episode_observer(lambda r, finished: _on_episode(session, bar, recent, r, finished))
    with stop_requests(STOPPING) as stop:
        interrupted = False
        try:
            play(session, stop)
            if not stop.requested:
                session.finish()
            interrupted = stop.requested
        except KeyboardInterrupt:  # a second Ctrl-C: at once
            interrupted = True
        except BaseException:
            bar.close()
            with no_interrupts():
                session.close()  # keep what was recorded; the error is what matters
            raise
        bar.close()
        with no_interrupts():
            if interrupted:
                print("interrupted: the episode in progress is dropped (--resume plays it again)")
            errors = session.close()  # drops an episode in progress, saves, flushes
    if session.parts.thread is not None:
        session.parts.thread.raise_if_failed()
    if errors:
        raise errors[0]
    if interrupted:
        return 130
    print_summary(session)
    return 0


def _on_episode(
    session: LearningSession, bar: tqdm, recent: deque, result: EpisodeResult, finished: bool
) -> None:
    if not finished:
        return
    recent.append(result)
    status, stats = session.curriculum.status(), session.parts.stats()
    post: dict[str, Any] = {"h": status.h}
    if status.n_stages > 1:
        post["stage"] = f"{status.stage}/{status.n_stages - 1}"
    post["succ"] = f"{np.mean([r.success for r in recent]):.0%}"
    if session.parts.last_eval is not None:
        post["eval"] = f"{session.parts.last_eval.success_rate:.0%}"
    post["upd/s"] = f"{stats.updates_per_s:.0f}"
    bar.set_postfix(post, refresh=False)


def print_summary(session: LearningSession) -> None:
    """Two lines: what was trained, and where the run directory is."""
    status, ev, c = session.curriculum.status(), session.parts.last_eval, session.counters
    line = (
        f"trained {c.env_steps} env steps in {c.episodes} episodes; "
        f"{session.cfg.strategy}: h={status.h}"
    )
    if status.n_stages > 1:
        line += f", stage {status.stage}/{status.n_stages - 1}"
    if ev is not None:
        line += f"; explorer alone: success {ev.success_rate:.0%}, score {ev.normalized_score:.1f}"
    print(line)
    print(f"run directory: {session.run_dir} (metrics/, plots/, checkpoints/, episodes/)")


__all__ = ["check_train_values", "play_here", "run_train", "train_loop"]
