"""Configs of the ``train``, ``eval`` and ``collect`` subcommands (cheap to import: no torch here).

The SAC and learner-thread settings are nested (``--sac.hidden``, ``--learner.utd-ratio``,
``--curriculum.n-stages``) so every knob of a run is on the command line and in its
``config.json``. :class:`SACOptions` and :class:`LearnerOptions` carry exactly the fields of
:class:`learner.sac.SACConfig` and :class:`learner.thread.LearnerConfig` (a test keeps them in
step); they live here, torch-free, because ``launch.py`` imports every config at start-up and
importing torch would add seconds to every command, ``--help`` included.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from learner.sac import SACConfig
    from learner.thread import LearnerConfig

TRAIN_INIT_ALPHA = 0.01
"""The trainer's initial entropy temperature. The door pays -1 per step; with alpha = 0.1 the
entropy bonus of a fresh 28-D policy (alpha x H, H ~ 10-20 nats) outweighs the reward in the
soft Q-targets, and the explorer's noise right after the handover throws away the guide's grip."""


@dataclass(frozen=True)
class SACOptions:
    """SAC networks and optimizers (the fields of ``learner.sac.SACConfig``)."""

    hidden: int = 256
    """Width of the two hidden layers of the actor and of each critic."""
    n_critics: int = 2
    """Q-networks in the critic ensemble (RLPD uses 10 with target_critics=2)."""
    layer_norm: bool = True
    """LayerNorm after each hidden layer of the critics (RLPD)."""
    batch_size: int = 256
    """Transitions per gradient step (half offline, half online when both exist)."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak rate of the target critics."""
    actor_lr: float = 3e-4
    """Adam learning rate of the actor."""
    critic_lr: float = 3e-4
    """Adam learning rate of the critics."""
    alpha_lr: float = 3e-4
    """Adam learning rate of log(alpha), the entropy temperature."""
    init_alpha: float = TRAIN_INIT_ALPHA
    """Initial entropy temperature alpha (lower than SACConfig's 0.1: see TRAIN_INIT_ALPHA)."""
    target_entropy: float | None = None
    """Entropy that alpha is tuned towards; None means -act_dim."""
    target_critics: int | None = None
    """Size of the random subset of target critics whose min is the TD target; None = all."""
    actor_q: Literal["min", "mean"] = "min"
    """How the actor's loss reduces the ensemble: min (SAC) or mean (RLPD with 10 critics)."""
    weight_decay: float = 0.0
    """Adam weight decay of the critics."""
    bf16_matmul: bool = False
    """Multiply in bfloat16 inside updates (~2x faster on CPUs with AVX512-BF16 or AMX)."""
    actor_every: int = 1
    """Update the actor and alpha on every k-th update only (RLPD with UTD k: set k)."""

    def build(self) -> SACConfig:
        """The :class:`learner.sac.SACConfig` with these values (it checks them)."""
        from learner.sac import SACConfig

        return SACConfig(**dataclasses.asdict(self))


@dataclass(frozen=True)
class LearnerOptions:
    """The learner thread (the fields of ``learner.thread.LearnerConfig``)."""

    utd_ratio: float = 1.0
    """Gradient updates per env step (collection waits to keep it)."""
    publish_every: int = 100
    """Publish the actor's weights every this many updates."""
    warmup_steps: int = 1000
    """Online transitions (env steps) before the first update."""
    torch_threads: int = 1
    """torch intra-op threads for the updates."""

    def build(self) -> LearnerConfig:
        """The :class:`learner.thread.LearnerConfig` with these values (it checks them)."""
        from learner.thread import LearnerConfig

        return LearnerConfig(**dataclasses.asdict(self))


@dataclass(frozen=True)
class CurriculumConfig:
    """JSRL-Curriculum settings (the paper's n, window and tolerance, plus the success gate)."""

    n_stages: int = 10
    """Stages from H1 down to h = 0, both included."""
    window: int = 5
    """Episodes in the moving average; each stage needs this many of its own."""
    tolerance: float = 0.05
    """Advance when the moving average is within this fraction of the best earlier one."""
    metric: Literal["return", "success"] = "return"
    """What the moving average compares with the best earlier average."""
    min_success_ratio: float = 1.0
    """Success gate: the window's success rate must reach this times the guide's own rate."""
    min_success: float = 0.2
    """... and at least this, so a stage where every episode fails never advances."""
    fixed_h: int = 0
    """Guide horizon of every episode with --strategy fixed (demos)."""


@dataclass(frozen=True)
class TrainConfig:
    """Train the explorer headless with a guide jump-starting it (JSRL)."""

    run_dir: Path
    """Run directory: config, metrics, recording, checkpoints, plots."""
    guide: str = "scripted"
    """Guide: scripted, scripted:SKILL, imitation:DATASET, policy:CKPT, FILE.py:CALLABLE, none."""
    steps: int = 100_000
    """Env steps to train for (guide + explorer steps; whole episodes, so it ends at or past)."""
    strategy: Literal["curriculum", "random", "none", "fixed"] = "curriculum"
    """JSRL-Curriculum, JSRL-Random, plain RL with h = 0, or a fixed h (--curriculum.fixed-h)."""
    seed: int = 0
    """Seed for the env, networks and curriculum."""
    resume: bool = False
    """Continue the run in run_dir from its last checkpoint (same arguments; --steps may grow)."""
    guide_episodes: int = 20
    """Guide-only episodes recorded first: H1, the guide's success rate, the offline data."""
    offline_data: tuple[Path, ...] = ()
    """Recordings (e.g. your human demos) whose every step joins the offline (prior) buffer."""
    bc_steps: int = 0
    """Behaviour-clone the guide episodes into the actor for this many steps first (0 = off)."""
    h1: int | None = None
    """Use this H1 instead of the one measured from the guide episodes."""
    eval_every: int = 10_000
    """Evaluate the explorer alone (h = 0, deterministic) every this many env steps."""
    eval_episodes: int = 10
    """Episodes per evaluation."""
    checkpoint_every: int = 10_000
    """Save a checkpoint every this many env steps (and always at exit, Ctrl-C included)."""
    keep_checkpoints: int = 3
    """Checkpoints kept in run_dir/checkpoints (older ones are deleted)."""
    buffer_capacity: int = 1_000_000
    """Online replay buffer capacity (transitions)."""
    progress: bool = True
    """Show a progress bar."""
    sac: SACOptions = field(default_factory=SACOptions)
    """SAC networks and optimizers."""
    learner: LearnerOptions = field(default_factory=LearnerOptions)
    """The learner thread: update-to-data ratio, warm-up, weight publishing."""
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    """JSRL-Curriculum stages and advancement rule."""


@dataclass(frozen=True)
class EvalConfig:
    """Evaluate a checkpoint's explorer alone (h = 0), deterministically."""

    checkpoint: Path
    """Checkpoint file (or a run directory: its latest checkpoint)."""
    episodes: int = 20
    """Number of evaluation episodes."""
    seed: int = 10_000
    """Seed of the first episode."""
    horizon: int = 0
    """Guide steps before the explorer takes over (0 = the explorer alone)."""
    guide: str | None = None
    """Guide for the first ``horizon`` steps (needed when horizon > 0)."""
    json: bool = False
    """Print one JSON object instead of a table."""
    progress: bool = True
    """Show a progress bar (on stderr)."""


@dataclass(frozen=True)
class CollectConfig:
    """Record guide episodes headless to a Minari-compatible dataset."""

    out: Path
    """Dataset directory, e.g. recordings/door-scripted-v0 (its last part is the Minari name)."""
    guide: str = "scripted"
    """Guide: scripted, scripted:SKILL, imitation:DATASET, policy:CKPT, FILE.py:CALLABLE."""
    episodes: int = 10
    """Number of episodes to record."""
    seed: int = 0
    """Seed of the first episode; episode i uses seed + i."""
    append: bool = False
    """Append to an existing dataset (created if missing) instead of refusing to touch it."""
    author: str | None = None
    """Author recorded in the dataset's Minari metadata."""
