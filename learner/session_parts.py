"""The learning side of a session: agent, explorer, buffers, weight slot, learner thread.

:class:`LearningParts` builds them from a ``TrainConfig`` (restoring a checkpoint when resuming)
and holds the payload of the one checkpoint format (the run's progress and how a session runs
are :mod:`learner.session_options`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

import sim
from episode.guide import Guide
from episode.types import Actor, EpisodeResult
from learner.bc import bc_pretrain
from learner.config import TrainConfig
from learner.curriculum import Curriculum
from learner.datasets import load_episodes, recorded_steps
from learner.evaluate import evaluate
from learner.explorer import CommandExplorer, Explorer
from learner.features import rate_entries
from learner.metrics import EVAL_FIELDS, LOSS_KEYS, EvalSummary, MetricsLog, format_failures
from learner.replay import DEMO_ACTORS, SELF_DEMO_ACTORS, EpisodeReplay, ReplayBuffer
from learner.rng_state import rng_states, set_rng_states
from learner.run_dir import config_to_dict
from learner.sac import SACAgent, resolve_device
from learner.session_options import Counters, SessionOptions
from learner.session_setup import build_curriculum, guide_data
from learner.starts import roll_in_states
from learner.thread import LearnerStats, LearnerThread, WeightSlot
from sim.errors import UserError
from teleop.command_space import COMMAND_DIM, PERSON, CommandController, CommandLabeler

SELF_DEMO_EPISODES = 100
"""With self-imitation, the demo ring keeps room for this many of the explorer's episodes."""


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run torch work in this thread with ``n`` intra-op threads, then restore the setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


PLOT_EVERY_S = 60.0
"""Refresh the PNG plots after an evaluation at most this often (and always at exit)."""


def build_explorer(cfg: TrainConfig, env: Any, seed: int) -> Explorer | CommandExplorer:
    """The run's explorer for ``env`` (the session's, its evaluator's and each Ray worker's).

    The policy acts in the Command space through its own mapper, or on the 28 joint targets.
    """
    space = cfg.explorer_space
    policy_dim = COMMAND_DIM if space == "command" else sim.ACT_DIM
    policy = Explorer(sim.OBS_DIM, policy_dim, cfg.sac, seed=seed)
    if space == "joint":
        return policy
    return CommandExplorer(policy, CommandController.for_env(env, cfg.explorer_speed))


class LearningParts:
    """The session's learning pieces (see the module docstring).

    Args:
        cfg: The run's settings.
        env: The session's env (used here to measure the guide).
        guide: The guide (measured for H1 unless human, resumed or given ``--h1``).
        opts: The session's options (``learning``, ``paced``, ``guide_only``, ``record``).
        saved: The checkpoint to resume from, or None.
        progress: Set-up status lines (the app's loading screen).

    """

    def __init__(
        self,
        cfg: TrainConfig,
        env: Any,
        guide: Guide | None,
        opts: SessionOptions,
        saved: dict[str, Any] | None,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.cfg, self.opts = cfg, opts
        self.sac_config = cfg.sac
        self.space = cfg.explorer_space
        self.policy_dim = COMMAND_DIM if self.space == "command" else sim.ACT_DIM
        """Size of the agent's actions: 6 (Command space) or 28 (joint space)."""
        self.command_scale = PERSON.faster(cfg.explorer_speed)
        """The agent's Command units (``--explorer-speed``); recordings hold a person's."""
        self.labeler = CommandLabeler.for_env(env)
        """Labels 28-D steps with the Command that explains them (user guides, human takeovers)."""
        self.agent: SACAgent | None = None
        self.explorer: Explorer | CommandExplorer | None = None
        if not opts.guide_only:
            try:
                device = resolve_device(cfg.learner.device)
            except (ValueError, RuntimeError) as e:
                raise UserError(str(e)) from None
            self.agent = SACAgent(
                sim.OBS_DIM, self.policy_dim, self.sac_config, seed=cfg.seed, device=device
            )
            self.explorer = self.make_explorer(cfg.seed, env)
        capacity = max(1, cfg.guide_episodes) * sim.EPISODE_STEPS
        self.offline = self.buffer(capacity + recorded_steps(cfg.offline_data))
        self.demos = ReplayBuffer(
            self._demo_capacity(),
            sim.OBS_DIM,
            self.policy_dim,
            rates=self.sac_config.obs_rates,
            rate_entries=rate_entries(self.sac_config.rates_of),
        )
        """Guide and human steps of successful episodes: BC warm start and the BC term (with
        ``--sac.bc-self`` also the explorer's, the newest kept)."""
        self.load([Path(d) for d in cfg.offline_data], self.offline, self.demos)
        self.online = None if opts.guide_only else self.buffer(cfg.buffer_capacity)
        record = opts.record and opts.run_files
        self.guide_stats, self.guide_steps, guide_results = guide_data(
            cfg, env, guide, self, saved, record=record, progress=progress
        )
        self.curriculum: Curriculum = build_curriculum(cfg, self.guide_stats, saved, guide_results)
        self.roll_in = None if self.explorer is None else roll_in_states(cfg, progress)
        """Saved states of successful episodes for ``--curriculum.roll-in`` (else None)."""
        if saved:
            self._restore(saved)
        elif cfg.bc_steps > 0 and len(self.demos) and self.agent is not None:
            if progress is not None:
                progress(f"behaviour cloning {len(self.demos)} demonstration steps")
            rng = np.random.default_rng(cfg.seed)
            with torch_threads(cfg.learner.torch_threads):  # oversubscribed OpenMP: 50x slower
                bc_pretrain(self.agent, self.demos, cfg.bc_steps, rng, loss="mse")
            self.agent.restart_average()
            if cfg.sac.reference:
                self.agent.set_reference()
        self.slot = WeightSlot(start=int((saved or {}).get("weight_version", 0)))
        if self.agent is not None:
            self.slot.publish(self.agent.acting_state())
        episodes = Counters.from_checkpoint(saved).episodes
        self.thread = self._make_thread(episodes) if opts.learning else None
        self._eval_env: Any = None
        self._eval_explorer: Explorer | CommandExplorer | None = None
        self._evaluated: tuple[int, dict | None] = (0, None)
        """(weight version, acting state) of the newest evaluation (at ``last_eval_steps``)."""
        self.last_eval: EvalSummary | None = None
        self.last_eval_steps = -1
        self._plotted_at = time.monotonic()

    def make_explorer(self, seed: int, env: Any) -> Explorer | CommandExplorer:
        """An explorer for ``env``: the policy, in Command space through its own mapper."""
        return build_explorer(self.cfg, env, seed)

    def buffer(self, capacity: int) -> ReplayBuffer:
        """A replay buffer of n-step rows in the agent's action space."""
        cfg = self.sac_config
        return ReplayBuffer(
            capacity,
            sim.OBS_DIM,
            self.policy_dim,
            gamma=cfg.gamma,
            n_step=cfg.n_step,
            rates=cfg.obs_rates,
            rate_entries=rate_entries(cfg.rates_of),
        )

    def _demo_capacity(self) -> int:
        """Rows of :attr:`demos`: the offline data's, or SELF_DEMO_EPISODES more with bc_self."""
        extra = SELF_DEMO_EPISODES * sim.EPISODE_STEPS if self.sac_config.bc_self else 0
        return self.offline.capacity + extra

    @property
    def online_demos(self) -> ReplayBuffer | None:
        """Where online episodes put their demonstration steps (self-imitation), else None."""
        return self.demos if self.sac_config.bc_self else None

    def online_replay(self) -> EpisodeReplay | None:
        """The runner's replay into the online buffer (None: no learner).

        :meth:`load_online` rebuilds the same buffers from a recording on resume.
        """
        if self.online is None:
            return None
        return EpisodeReplay(
            self.online, self.space, self.online_demos, SELF_DEMO_ACTORS, self.command_scale
        )

    def load(
        self,
        datasets: list[Path],
        buffer: ReplayBuffer,
        demos: ReplayBuffer | None = None,
        demo_actors: frozenset[Actor] = DEMO_ACTORS,
    ) -> int:
        """Add recorded episodes to ``buffer`` (and their demonstration steps to ``demos``)."""
        return load_episodes(
            datasets,
            buffer,
            space=self.space,
            labeler=self.labeler,
            demos=demos,
            demo_actors=demo_actors,
            command_scale=self.command_scale,
        )

    def _make_thread(self, episodes: int) -> LearnerThread | None:
        if self.agent is None or self.online is None:
            return None
        return LearnerThread(
            self.agent,
            self.online,
            self.offline if len(self.offline) else None,
            self.slot,
            self.cfg.learner,
            seed=self.cfg.seed + 7 * episodes,
            paced=self.opts.paced,
            demos=self.demos if len(self.demos) or self.sac_config.bc_self else None,
        )

    def _restore(self, saved: dict[str, Any]) -> None:
        if self.agent is None:
            return
        try:
            self.agent.load_state_dict(saved["agent"])
        except (ValueError, KeyError, RuntimeError) as e:
            raise UserError(f"the checkpoint's networks do not fit --sac settings: {e}") from None
        set_rng_states(saved.get("rng", {}))

    def load_online(self, dataset: Path) -> int:
        """Refill the online buffer from a run's recording; return the transitions added."""
        if self.online is None:
            return 0
        return self.load([dataset], self.online, self.online_demos, SELF_DEMO_ACTORS)

    # -- running -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the learner thread (if any)."""
        if self.thread is not None and not self.thread.is_alive():
            self.thread.start()

    def stop(self) -> None:
        """Stop the learner thread (if it runs)."""
        if self.thread is not None and self.thread.is_alive():
            self.thread.stop()

    def sync_explorer(self) -> bool:
        """Give the explorer the newest weights (episode boundaries only); True if new."""
        return self.explorer is not None and self.explorer.sync(self.slot)

    def report_env_steps(self, n: int) -> None:
        """Tell the learner thread the env steps taken (its paced budget)."""
        if self.thread is not None:
            self.thread.report_env_steps(n)

    def updates(self) -> int:
        """Learner updates in this session."""
        return 0 if self.thread is None else self.thread.stats().updates

    def stats(self) -> LearnerStats:
        """The learner's stats (zeros when learning is off)."""
        if self.thread is None:
            return LearnerStats(updates=0, updates_per_s=0.0, version=self.slot.version)
        return self.thread.stats()

    # -- evaluation --------------------------------------------------------------------------
    def evaluate(self, metrics: MetricsLog, c: Counters, times: dict[str, float]) -> EvalSummary:
        """Evaluate the newest weights alone (h = 0, deterministic); log a row.

        ``times``: the run's ``wall_s`` and ``cpu_s`` so far, for the row.
        """
        if self._eval_explorer is None:
            self._eval_env = sim.make_door()
            self._eval_explorer = self.make_explorer(self.cfg.seed + 1, self._eval_env)
        version, state = self.slot.latest()  # one read: what is evaluated is what is saved
        if state is not None and version > self._eval_explorer.version:
            self._eval_explorer.load(version, state)
        self._evaluated = (version, state)
        summary, _ = evaluate(
            self._eval_env, self._eval_explorer, None, episodes=self.cfg.eval_episodes
        )
        self.last_eval, self.last_eval_steps = summary, c.env_steps
        metrics.log_eval(
            {
                "env_steps": c.env_steps,
                "episode": c.episodes,
                "updates": c.updates + self.updates(),
                "weight_version": self._eval_explorer.version,
                **times,
                **{k: v for k, v in summary.as_dict().items() if k in EVAL_FIELDS},
                "failed_at": format_failures(summary.failed_at),
            }
        )
        return summary

    def plot_now(self, run_dir: Path, force: bool = False) -> None:
        """Redraw the PNG plots (at most every ``PLOT_EVERY_S`` unless ``force``)."""
        if force or time.monotonic() - self._plotted_at >= PLOT_EVERY_S:
            from learner.plots import plot_run

            plot_run(run_dir)
            self._plotted_at = time.monotonic()

    # -- checkpoint --------------------------------------------------------------------------
    def _acted_weights(self, env_steps: int) -> tuple[int, dict | None]:
        """The (version, acting state) a checkpoint at ``env_steps`` keeps as its explorer.

        The weights evaluated at ``env_steps``, else the newest published ones; never the
        agent's newer, unpublished ones. Measured on the door: weights ~100 updates apart
        scored 94 % and 82 % explorer alone, so a checkpoint of other weights than the logged
        evaluation's contradicts it; with these, ``eval --checkpoint`` reproduces its row.
        """
        if env_steps == self.last_eval_steps and self._evaluated[1] is not None:
            return self._evaluated
        return self.slot.latest()

    def checkpoint_payload(self, cfg: TrainConfig, counters: Counters) -> dict[str, Any]:
        """The one checkpoint format (``learner.checkpoint`` adds the format tag)."""
        assert self.agent is not None
        if self.thread is not None:
            with self.thread.lock:
                agent_state = self.agent.state_dict()
        else:
            agent_state = self.agent.state_dict()
        version, actor = self._acted_weights(counters.env_steps)
        assert actor is not None  # the slot holds the start weights from construction on
        return {
            "obs_dim": sim.OBS_DIM,
            "act_dim": sim.ACT_DIM,
            "sac_config": dataclasses.asdict(self.sac_config),
            "explorer_space": self.space,
            "explorer_speed": self.cfg.explorer_speed,
            "policy_act_dim": self.policy_dim,
            "train_config": config_to_dict(cfg),
            "agent": agent_state,
            "actor": actor,
            "weight_version": max(1, version),
            "curriculum": self.curriculum.state_dict(),
            "guide_stats": dataclasses.asdict(self.guide_stats) if self.guide_stats else None,
            "counters": dataclasses.asdict(counters),
            "rng": rng_states(),
        }


def episode_row(
    r: EpisodeResult,
    stage: int,
    c: Counters,
    curriculum: Curriculum,
    parts: LearningParts,
    times: dict[str, float],
) -> dict[str, Any]:
    """The ``episodes.csv`` row of a finished episode."""
    status, stats = curriculum.status(), parts.stats()
    row: dict[str, Any] = {
        "env_steps": c.env_steps,
        "episode": c.episodes,
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
        "updates": c.updates + stats.updates,
        "updates_per_s": stats.updates_per_s,
        **times,
        "reason": status.reason,
    }
    row.update({k: stats.losses.get(k) for k in LOSS_KEYS})
    return row


__all__ = ["PLOT_EVERY_S", "LearningParts", "build_explorer", "episode_row"]
