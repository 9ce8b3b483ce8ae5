"""The headless JSRL trainer behind ``python launch.py train``.

One run, start to end:

1. **Guide data.** ``--guide-episodes`` guide-only episodes are recorded to
   ``DIR/episodes/door-guide-v0``. They measure H1 (the guide's mean steps to success) and its
   success rate, and they fill the *offline* buffer of every strategy, so plain RL
   (``--strategy none``) learns from exactly the same guide data as JSRL. These steps are not
   counted in ``--steps``.
2. **Training episodes** (counted in ``--steps``): the curriculum picks ``h``, the guide acts
   for ``t < h``, the explorer after (``episode.runner``). Every step of them, the guide's
   included, goes to the *online* buffer and to ``DIR/episodes/door-train-v0``. JSRL's extra
   guide steps are part of its env-step budget, so the comparison with plain RL is fair.
3. The **learner thread** trains SAC on RLPD's symmetric 50/50 mix of offline and online
   batches, paced: collection waits so that updates keep up with ``utd_ratio`` x env steps.
   The explorer takes the newest published weights at each episode start.
4. Every ``--eval-every`` steps the explorer alone (h = 0, deterministic) is evaluated on a
   fixed set of seeds (the same for every run); rows go to ``DIR/metrics/*.csv``, PNG plots
   to ``DIR/plots``; checkpoints to ``DIR/checkpoints`` every ``--checkpoint-every`` steps and
   at exit (Ctrl-C included: the episode in progress is kept, exit code 130).
5. ``--resume`` reloads the newest checkpoint and rebuilds both buffers from the run's own
   recordings.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

import sim
from episode.guide import Guide
from episode.runner import EpisodeRunner
from episode.types import EpisodeResult, Policy
from learner import checkpoint as ckpt_io
from learner.bc import bc_pretrain
from learner.checkpoint import no_interrupts
from learner.config import TrainConfig
from learner.curriculum import Curriculum, GuideStats, guide_stats, make_curriculum
from learner.datasets import load_episodes, recorded_steps
from learner.explorer import CommandExplorer, Explorer
from learner.metrics import LOSS_KEYS, EvalSummary, MetricsLog, summarize
from learner.plots import plot_run
from learner.replay import EpisodeReplay, ReplayBuffer
from learner.sac import SACAgent
from learner.thread import LearnerThread, WeightSlot
from sim.errors import UserError
from teleop.command_space import COMMAND_DIM, CommandController, CommandLabeler
from teleop.mapper import CommandMapper

CONFIG_FILE = "config.json"
"""The run's configuration, written when the run starts."""
TRAIN_DATASET = Path("episodes") / "door-train-v0"
"""The training episodes (guide + explorer steps), relative to the run directory."""
GUIDE_DATASET = Path("episodes") / "door-guide-v0"
"""The guide-only episodes (offline data, H1), relative to the run directory."""
EVAL_SEED = 10_000
"""Seed of the first evaluation episode; every run and evaluation uses the same seeds."""
GUIDE_SEED = 500_000_000
"""Guide episodes of run seed ``s`` use seeds ``GUIDE_SEED + 10_000 * s + i``."""
TRAIN_SEED = 1_000_000
"""Training episode ``k`` of run seed ``s`` uses seed ``TRAIN_SEED * (s + 1) + k``."""
RESUMABLE_FIELDS = frozenset(
    {
        "run_dir",
        "steps",
        "resume",
        "progress",
        "eval_every",
        "eval_episodes",
        "checkpoint_every",
        "keep_checkpoints",
    }
)
"""Settings that may change when a run is resumed; every other one must match."""
PLOT_EVERY_S = 60.0
"""Refresh the PNG plots after an evaluation at most this often (and always at exit)."""
SUCCESS_WINDOW = 20
"""Training episodes in the success rate shown on the progress bar."""


class UnusedGuide:
    """Stands in for the guide when no step is ever the guide's (h = 0 throughout)."""

    kind = "none"

    def reset(self, obs: np.ndarray) -> None:
        """Nothing to reset."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Never called with h = 0."""
        raise RuntimeError("the unused guide was asked to act: h must be 0 in this run")


@dataclass
class Counters:
    """Progress of a run, saved in every checkpoint."""

    env_steps: int = 0
    """Training env steps so far (guide and explorer steps of training episodes)."""
    episodes: int = 0
    """Training episodes completed (episode k uses the k-th training seed)."""
    updates: int = 0
    """Learner updates before the current session (resumed runs)."""
    next_eval: int = 0
    """Env steps at which the next evaluation is due."""
    next_checkpoint: int = 0
    """Env steps at which the next periodic checkpoint is due."""
    guide_steps: int = 0
    """Env steps of the guide-only episodes (not counted in ``env_steps``)."""
    wall_s: float = 0.0
    """Wall time spent training in earlier sessions."""


def evaluate(
    env: Any,
    explorer: Policy | None,
    guide: Guide | None,
    *,
    episodes: int,
    horizon: int = 0,
    seed: int = EVAL_SEED,
    progress: bool = False,
    desc: str = "eval",
) -> tuple[EvalSummary, list[EpisodeResult]]:
    """Run ``episodes`` deterministic episodes: the guide for ``horizon`` steps, then the explorer.

    Args:
        env: A door env (not the training one: its state is reset freely).
        explorer: The policy after the guide segment (None: the guide acts throughout).
        guide: The guide for ``t < horizon`` (None when ``horizon`` is 0).
        episodes: Episodes to run (seeds ``seed``, ``seed + 1``, ...).
        horizon: Guide steps before the explorer takes over.
        seed: Seed of the first episode.
        progress: Show a progress bar.
        desc: Progress bar label.

    """
    if guide is None and (horizon > 0 or explorer is None):
        raise ValueError(f"evaluating with horizon={horizon} needs a guide")
    runner = EpisodeRunner(env, guide or UnusedGuide(), explorer, explorer_deterministic=True)
    results = [
        runner.run_episode(seed + i, horizon)
        for i in tqdm(range(episodes), desc=desc, disable=not progress, leave=False)
    ]
    return summarize(results, horizon), results


def run_train(cfg: TrainConfig) -> int:
    """Train as ``cfg`` says; return 0 when done, 130 when interrupted (Ctrl-C)."""
    cfg = prepare_run_dir(cfg)
    session = TrainSession(cfg)
    return session.run()


# --------------------------------------------------------------------------------------------
# The run directory
# --------------------------------------------------------------------------------------------
def config_to_dict(cfg: TrainConfig) -> dict[str, Any]:
    """The config as plain JSON values."""
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


def prepare_run_dir(cfg: TrainConfig) -> TrainConfig:
    """Check the run directory against ``--resume`` and write (or update) ``config.json``.

    Raises:
        UserError: A run already there without ``--resume``, nothing to resume, a directory
            holding something else, or ``--resume`` with different settings.

    """
    _check_values(cfg)
    run_dir, config_file = Path(cfg.run_dir), Path(cfg.run_dir) / CONFIG_FILE
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--run-dir {run_dir} exists and is not a directory")
    if config_file.exists() and not cfg.resume:
        if ckpt_io.latest_checkpoint(run_dir) is None:
            raise UserError(
                f"{run_dir} holds a run that stopped before its first checkpoint; delete it or "
                "choose another --run-dir"
            )
        raise UserError(
            f"{run_dir} already holds a run ({CONFIG_FILE}); pass --resume to continue it or "
            "choose another --run-dir"
        )
    if cfg.resume:
        if not config_file.exists():
            raise UserError(f"nothing to resume: {run_dir} holds no {CONFIG_FILE}")
        if ckpt_io.latest_checkpoint(run_dir) is None:
            raise UserError(
                f"nothing to resume: {run_dir} holds no checkpoint yet (the run stopped before "
                "its first one); delete the directory or choose another --run-dir"
            )
        _check_same_settings(cfg, _read_config(config_file))
    elif run_dir.is_dir() and any(run_dir.iterdir()):
        names = ", ".join(sorted(p.name for p in run_dir.iterdir())[:5])
        raise UserError(
            f"--run-dir {run_dir} is not empty and is not a run directory (it holds {names}); "
            "choose another --run-dir"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_json(
        config_file, {"train": config_to_dict(cfg), "obs_dim": sim.OBS_DIM, "act_dim": sim.ACT_DIM}
    )
    return cfg


def _check_values(cfg: TrainConfig) -> None:
    checks = [
        (cfg.steps >= 1, f"--steps must be >= 1, got {cfg.steps}"),
        (cfg.guide_episodes >= 0, f"--guide-episodes must be >= 0, got {cfg.guide_episodes}"),
        (cfg.eval_every >= 1, f"--eval-every must be >= 1, got {cfg.eval_every}"),
        (cfg.eval_episodes >= 0, f"--eval-episodes must be >= 0, got {cfg.eval_episodes}"),
        (cfg.checkpoint_every >= 1, f"--checkpoint-every must be >= 1, got {cfg.checkpoint_every}"),
        (cfg.keep_checkpoints >= 1, f"--keep-checkpoints must be >= 1, got {cfg.keep_checkpoints}"),
        (cfg.buffer_capacity >= 1, f"--buffer-capacity must be >= 1, got {cfg.buffer_capacity}"),
        (
            cfg.h1 is None or 1 <= cfg.h1 <= sim.EPISODE_STEPS,
            f"--h1 must be in [1, {sim.EPISODE_STEPS}], got {cfg.h1}",
        ),
        (
            0 <= cfg.curriculum.fixed_h <= sim.EPISODE_STEPS,
            f"--curriculum.fixed-h must be in [0, 200], got {cfg.curriculum.fixed_h}",
        ),
        (
            cfg.guide != "none" or cfg.strategy == "none",
            f"--guide none works only with --strategy none (not {cfg.strategy})",
        ),
        (
            not cfg.guide.startswith("human"),
            "the human guide needs a window: use `python launch.py app` to train with it",
        ),
        (
            cfg.strategy in ("none", "fixed") or cfg.guide_episodes > 0 or cfg.h1 is not None,
            f"--strategy {cfg.strategy} needs --guide-episodes > 0 (to measure H1) or --h1",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise UserError(message)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        saved = json.loads(path.read_text())
        return dict(saved["train"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UserError(f"{path} is not a run config this program wrote ({e})") from None


def _check_same_settings(cfg: TrainConfig, saved: dict[str, Any]) -> None:
    now = config_to_dict(cfg)
    diff = [
        k
        for k in sorted(set(now) | set(saved))
        if k not in RESUMABLE_FIELDS
        and now.get(k) != saved.get(k)
        and (k in saved or now.get(k))  # a field added since, left empty, is no change
    ]
    if diff:
        what = "; ".join(f"{k}: run has {saved.get(k)!r}, now {now.get(k)!r}" for k in diff)
        raise UserError(
            f"--resume with other settings than the run in {cfg.run_dir} ({what}); resume with "
            "the same arguments (only --steps and the eval/checkpoint cadence may change)"
        )


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# The session
# --------------------------------------------------------------------------------------------
class TrainSession:
    """Everything one ``train`` invocation builds, and its loop."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.run_dir = Path(cfg.run_dir)
        self.env = sim.make_door()
        self.eval_env = sim.make_door()
        self.obs_dim = int(self.env.observation_space.shape[0])
        self.act_dim = int(self.env.action_space.shape[0])
        saved = self._load_resume_checkpoint()
        self.counters = Counters(**saved["counters"]) if saved else Counters()
        self.guide = self._make_guide()
        self.sac_config, self.learner_config = cfg.sac, cfg.learner
        self.space = cfg.explorer_space
        self.policy_dim = COMMAND_DIM if self.space == "command" else self.act_dim
        self.labeler = CommandLabeler.for_env(self.env)
        self.agent = SACAgent(self.obs_dim, self.policy_dim, self.sac_config, seed=cfg.seed)
        self.explorer = self._make_explorer(cfg.seed, self.env)
        self.eval_explorer = self._make_explorer(cfg.seed + 1, self.eval_env)
        offline_steps = recorded_steps(cfg.offline_data)
        self.offline = self._buffer(max(1, cfg.guide_episodes) * sim.EPISODE_STEPS + offline_steps)
        self.demos = ReplayBuffer(self.offline.capacity, self.obs_dim, self.policy_dim)
        self._load(cfg.offline_data, self.offline)
        self.online = self._buffer(cfg.buffer_capacity)
        self.guide_results: list[EpisodeResult] = []
        self.stats = self._guide_data(saved)
        self.curriculum = self._make_curriculum(saved)
        if saved:
            self._restore(saved)
        elif cfg.bc_steps > 0 and len(self.demos):
            rng = np.random.default_rng(cfg.seed)
            bc_pretrain(self.agent, self.demos, cfg.bc_steps, rng, loss="mse")
        self.slot = WeightSlot()
        self.slot.publish(self.agent.actor_state_dict())
        self.learner = LearnerThread(
            self.agent,
            self.online,
            self.offline if len(self.offline) else None,
            self.slot,
            self.learner_config,
            seed=cfg.seed + 7 * self.counters.episodes,
            paced=True,
            demos=self.demos if len(self.demos) else None,
        )
        self.metrics = MetricsLog(self.run_dir / "metrics")
        if saved:
            self.metrics.truncate_after(self.counters.env_steps)
        self.recorder = _open_writer(self.run_dir / TRAIN_DATASET, append=bool(saved))
        self.runner = EpisodeRunner(
            self.env,
            self.guide if cfg.strategy != "none" else UnusedGuide(),
            self.explorer,
            recorder=self.recorder,
            replay=EpisodeReplay(self.online, self.space),
            command_labeler=self.labeler,
        )
        # Paced learner budget: utd x (steps reported - warm-up). A resumed run's buffers are
        # already warm, so its first steps count as warm-up done.
        start = self.counters.env_steps
        self._step_offset = start - min(start, cfg.learner.warmup_steps)
        self._t0 = time.monotonic()
        self._recent: deque[EpisodeResult] = deque(maxlen=SUCCESS_WINDOW)
        self._last_eval: EvalSummary | None = None
        self._last_eval_steps = -1
        self._plotted_at = time.monotonic()

    # -- set-up ------------------------------------------------------------------------------
    def _make_explorer(self, seed: int, env: Any) -> Explorer | CommandExplorer:
        policy = Explorer(self.obs_dim, self.policy_dim, self.sac_config, seed=seed)
        if self.space == "joint":
            return policy
        return CommandExplorer(policy, CommandController(CommandMapper.for_env(env)))

    def _buffer(self, capacity: int) -> ReplayBuffer:
        cfg = self.sac_config
        return ReplayBuffer(
            capacity, self.obs_dim, self.policy_dim, gamma=cfg.gamma, n_step=cfg.n_step
        )

    def _load(self, datasets: Any, buffer: ReplayBuffer, demos: bool = True) -> int:
        return load_episodes(
            [Path(d) for d in datasets],
            buffer,
            space=self.space,
            labeler=self.labeler,
            demos=self.demos if demos else None,
        )

    def _load_resume_checkpoint(self) -> dict[str, Any] | None:
        if not self.cfg.resume:
            return None
        return ckpt_io.load_checkpoint(self.run_dir, obs_dim=self.obs_dim, act_dim=self.act_dim)

    def _make_guide(self) -> Guide | None:
        if self.cfg.guide == "none":
            return None
        from guides.factory import make_guide

        return make_guide(self.cfg.guide, self.env, seed=self.cfg.seed)

    def _guide_data(self, saved: dict[str, Any] | None) -> GuideStats | None:
        """Record (or, resuming, reload) the guide-only episodes into the offline buffer."""
        cfg, dataset = self.cfg, self.run_dir / GUIDE_DATASET
        if saved:
            self._load([dataset], self.offline)
            return _stats_from(saved)
        if self.guide is None or cfg.guide_episodes == 0:  # H1 given, nothing measured
            return None if cfg.h1 is None else GuideStats(0, None, None, cfg.h1)
        writer = _open_writer(dataset)
        runner = EpisodeRunner(self.env, self.guide, None, recorder=writer,
                               command_labeler=self.labeler)  # fmt: skip
        results = self.guide_results
        try:
            for i in tqdm(
                range(cfg.guide_episodes),
                desc="guide episodes",
                disable=not cfg.progress,
                leave=False,
            ):
                results.append(runner.run_episode(_guide_seed(cfg.seed, i), sim.EPISODE_STEPS))
        finally:
            writer.close()
        self._load([dataset], self.offline)  # whole episodes, as recorded (Commands included)
        self.counters.guide_steps = sum(r.steps for r in results)
        if (
            cfg.strategy in ("none", "fixed")
            and cfg.h1 is None
            and not any(r.success for r in results)
        ):
            return None  # no H1 needed; the episodes are still offline data
        return guide_stats(results, cfg.h1)

    def _make_curriculum(self, saved: dict[str, Any] | None) -> Curriculum:
        rng = np.random.default_rng([self.cfg.seed, 17])
        curriculum = make_curriculum(
            self.cfg.strategy,
            self.stats,
            self.cfg.curriculum,
            rng=rng,
            guide_results=self.guide_results,
        )
        if saved:
            try:
                curriculum.load_state_dict(saved["curriculum"])
            except (ValueError, KeyError) as e:
                raise UserError(f"the checkpoint's curriculum does not fit this run: {e}") from None
        return curriculum

    def _restore(self, saved: dict[str, Any]) -> None:
        try:
            self.agent.load_state_dict(saved["agent"])
        except (ValueError, KeyError, RuntimeError) as e:
            raise UserError(f"the checkpoint's networks do not fit --sac settings: {e}") from None
        self._load([self.run_dir / TRAIN_DATASET], self.online, demos=False)
        _set_rng_states(saved.get("rng", {}))

    # -- loop --------------------------------------------------------------------------------
    def run(self) -> int:
        """Train until ``--steps``; save, flush and return 0, or 130 after Ctrl-C."""
        interrupted = False
        bar = tqdm(
            total=self.cfg.steps,
            initial=min(self.counters.env_steps, self.cfg.steps),
            unit="step",
            desc="train",
            disable=not self.cfg.progress,
            dynamic_ncols=True,
        )
        try:
            self.learner.start()
            while self.counters.env_steps < self.cfg.steps:
                self._periodic()
                self._episode(bar)
            self._periodic(final=True)
        except KeyboardInterrupt:
            interrupted = True
            bar.write("interrupted: saving a checkpoint and the episode in progress")
        except BaseException:
            bar.close()
            self._shutdown(quiet=True)  # keep what was recorded; the error is what matters
            raise
        bar.close()
        self._shutdown()
        if interrupted:
            return 130
        self._print_summary()
        return 0

    def _episode(self, bar: tqdm) -> None:
        cfg, c = self.cfg, self.counters
        self.explorer.sync(self.slot)
        h = min(self.curriculum.horizon(), sim.EPISODE_STEPS)
        trial = bool(getattr(self.curriculum, "trial_due", False))
        self.runner.reset(_train_seed(cfg.seed, c.episodes), h, deterministic=trial)
        start = c.env_steps
        try:
            while not self.runner.done:
                self.learner.wait_for_budget()
                self.runner.step()
                c.env_steps += 1
                self.learner.report_env_steps(c.env_steps - self._step_offset)
                bar.update(1)
        except KeyboardInterrupt:
            # The steps taken stay in the recording and the replay buffer, but the episode is
            # not counted: a resumed run plays it again from the same seed, so it ends with
            # the same episodes and steps as a run that never stopped.
            self.runner.finish()
            c.env_steps = start
            raise
        c.episodes += 1
        result = self.runner.result()
        stage = self.curriculum.status().stage
        self.curriculum.update(result)
        self._recent.append(result)
        self._log_episode(result, stage)
        bar.set_postfix(self._postfix(), refresh=False)

    def _periodic(self, final: bool = False) -> None:
        c, cfg = self.counters, self.cfg
        if cfg.eval_episodes > 0 and (
            c.env_steps >= c.next_eval or (final and self._last_eval_steps != c.env_steps)
        ):
            self._evaluate()
            while c.next_eval <= c.env_steps:
                c.next_eval += cfg.eval_every
        if not final and c.env_steps >= c.next_checkpoint and c.env_steps > 0:
            self._save_checkpoint()
        while c.next_checkpoint <= c.env_steps:
            c.next_checkpoint += cfg.checkpoint_every

    def _evaluate(self) -> None:
        self.eval_explorer.sync(self.slot)
        summary, _ = evaluate(
            self.eval_env, self.eval_explorer, None, episodes=self.cfg.eval_episodes, horizon=0
        )
        self._last_eval, self._last_eval_steps = summary, self.counters.env_steps
        stats = self.learner.stats()
        self.metrics.log_eval(
            {
                "env_steps": self.counters.env_steps,
                "episode": self.counters.episodes,
                "updates": self.counters.updates + stats.updates,
                "weight_version": self.eval_explorer.version,
                "horizon": summary.horizon,
                "episodes": summary.episodes,
                "success_rate": summary.success_rate,
                "open_at_end_rate": summary.open_at_end_rate,
                "ever_opened_rate": summary.ever_opened_rate,
                "normalized_score": summary.normalized_score,
                "mean_return": summary.mean_return,
                "median_steps_to_open": summary.median_steps_to_open,
                "wall_s": self._wall(),
            }
        )
        if time.monotonic() - self._plotted_at >= PLOT_EVERY_S:
            plot_run(self.run_dir)
            self._plotted_at = time.monotonic()

    def _log_episode(self, r: EpisodeResult, stage: int) -> None:
        status, stats = self.curriculum.status(), self.learner.stats()
        row: dict[str, Any] = {
            "env_steps": self.counters.env_steps,
            "episode": self.counters.episodes,
            "seed": r.seed,
            "h": r.h,
            "stage": stage,
            "success": r.success,
            "open_at_end": r.open_at_end,
            "ever_opened": r.ever_opened,
            "open_steps": r.open_steps,
            "trial": r.deterministic,
            "episode_return": r.episode_return,
            "normalized_score": r.normalized_score,
            "first_success_step": r.first_success_step,
            "n_guide": r.n_guide,
            "n_explorer": r.n_explorer,
            "n_human": r.n_human,
            "weight_version": r.weight_version,
            "updates": self.counters.updates + stats.updates,
            "updates_per_s": stats.updates_per_s,
            "wall_s": self._wall(),
            "reason": status.reason,
        }
        row.update({k: stats.losses.get(k) for k in LOSS_KEYS})
        self.metrics.log_episode(row)

    def _postfix(self) -> dict[str, Any]:
        status, stats = self.curriculum.status(), self.learner.stats()
        succ = np.mean([r.success for r in self._recent]) if self._recent else 0.0
        post: dict[str, Any] = {"h": status.h}
        if status.n_stages > 1:
            post["stage"] = f"{status.stage}/{status.n_stages - 1}"
        post["succ"] = f"{succ:.0%}"
        if self._last_eval is not None:
            post["eval"] = f"{self._last_eval.success_rate:.0%}"
        post["upd/s"] = f"{stats.updates_per_s:.0f}"
        return post

    # -- exit --------------------------------------------------------------------------------
    def _shutdown(self, quiet: bool = False) -> None:
        """Stop the learner, keep the episode in progress, checkpoint, close, plot.

        Every step is tried even if an earlier one fails; the first failure is raised after
        all of them (``quiet``: not at all, when another error is already on its way).
        """
        with no_interrupts():
            errors: list[BaseException] = []
            for step in (
                self.runner.finish,
                self.learner.stop,
                self._save_checkpoint_if_sound,
                self.recorder.close,
                self.metrics.close,
                lambda: plot_run(self.run_dir),
            ):
                try:
                    step()
                except Exception as e:
                    errors.append(e)
            if quiet:
                return
            self.learner.raise_if_failed()
            if errors:
                raise errors[0]

    def _save_checkpoint_if_sound(self) -> None:
        if self.learner.error is None:  # a learner that died mid-update left no state to trust
            self._save_checkpoint()

    def _save_checkpoint(self) -> None:
        c = self.counters
        stats = self.learner.stats()
        with self.learner.lock:
            agent_state = self.agent.state_dict()
            actor = self.agent.actor_state_dict()
        counters = dataclasses.replace(c, updates=c.updates + stats.updates, wall_s=self._wall())
        payload = {
            "obs_dim": self.obs_dim,
            "act_dim": self.act_dim,
            "sac_config": dataclasses.asdict(self.sac_config),
            "explorer_space": self.space,
            "policy_act_dim": self.policy_dim,
            "train_config": config_to_dict(self.cfg),
            "agent": agent_state,
            "actor": actor,
            "weight_version": max(1, stats.version),
            "curriculum": self.curriculum.state_dict(),
            "guide_stats": dataclasses.asdict(self.stats) if self.stats else None,
            "counters": dataclasses.asdict(counters),
            "rng": _rng_states(),
        }
        ckpt_io.save_checkpoint(
            self.run_dir / ckpt_io.CHECKPOINT_DIR / ckpt_io.checkpoint_name(c.env_steps), payload
        )
        ckpt_io.prune_checkpoints(self.run_dir, self.cfg.keep_checkpoints)

    def _wall(self) -> float:
        return self.counters.wall_s + (time.monotonic() - self._t0)

    def _print_summary(self) -> None:
        status = self.curriculum.status()
        ev = self._last_eval
        line = (
            f"trained {self.counters.env_steps} env steps in {self.counters.episodes} episodes; "
            f"{self.cfg.strategy}: h={status.h}"
        )
        if status.n_stages > 1:
            line += f", stage {status.stage}/{status.n_stages - 1}"
        if ev is not None:
            line += (
                f"; explorer alone: success {ev.success_rate:.0%}, score {ev.normalized_score:.1f}"
            )
        print(line)
        print(f"run directory: {self.run_dir} (metrics/, plots/, checkpoints/, episodes/)")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def _train_seed(run_seed: int, episode: int) -> int:
    return TRAIN_SEED * (run_seed + 1) + episode


def _guide_seed(run_seed: int, episode: int) -> int:
    return GUIDE_SEED + 10_000 * run_seed + episode


def _stats_from(saved: dict[str, Any]) -> GuideStats | None:
    data = saved.get("guide_stats")
    return GuideStats(**data) if data else None


def _open_writer(dataset: Path, append: bool = False) -> Any:
    from recordings.writer import DatasetWriter

    return DatasetWriter(dataset, append=append)


def _rng_states() -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "numpy": _np_global_state(),
        "python": random.getstate(),
    }


def _np_global_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "name": name,
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached": float(cached),
    }


def _set_rng_states(states: dict[str, Any]) -> None:
    if "torch" in states:
        torch.set_rng_state(states["torch"])
    if "numpy" in states:
        s = states["numpy"]
        keys = s["keys"].numpy().astype(np.uint32)
        np.random.set_state((s["name"], keys, s["pos"], s["has_gauss"], s["cached"]))
    if "python" in states:
        random.setstate(_as_tuple(states["python"]))


def _as_tuple(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_as_tuple(v) for v in value)
    return value
