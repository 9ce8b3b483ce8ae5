"""Configs of the ``train``, ``eval`` and ``collect`` subcommands (cheap to import: no torch here).

The SAC and learner-thread settings are nested (``--sac.hidden``, ``--learner.utd-ratio``,
``--curriculum.stages``) so every knob of a run is on the command line and in its
``config.json``. :class:`SACConfig` and :class:`LearnerConfig` are the ones the learner itself
uses (``learner.sac``, ``learner.thread``); they live here, torch-free, because ``launch.py``
imports every config at start-up and importing torch would add seconds to every command,
``--help`` included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class SACConfig:
    """Hyper-parameters of the SAC agent (``--sac.*``; defaults: what the door needs, measured).

    SAC with RLPD's LayerNorm critics, n-step targets floored by the Monte-Carlo return, no
    entropy term in the backup, a BC term on the successful episodes (the guide's and the
    explorer's own), an IBRL reference, and a Polyak-averaged actor that acts.
    """

    hidden: int = 128
    """Width of the two hidden layers of the actor and of each critic (128: 2.4x the updates
    per second of 256 on a 2-core CPU, measured; the door needs updates more than width)."""
    n_critics: int = 2
    """Q-networks in the critic ensemble (RLPD uses 10 with ``target_critics=2``)."""
    layer_norm: bool = True
    """LayerNorm after each hidden layer of the critics (RLPD)."""
    obs_rates: bool = True
    """The actor and critics also see rates of change since the previous observation
    (``learner/features.py``): the door's observation has no velocities, so whether a released
    door swings on to open or back is not in it. Measured (scripted:0.5, seeds 0, 1, 2,
    explorer alone at 50k, the same day): 100, 94, 92 % with the door's rates, 88, 74, 94 %
    without (an earlier sample without: 94, 94, 98 %)."""
    rates_of: Literal["door-palm", "door"] = "door"
    """With ``obs_rates``: whose rates: the latch, hinge and palm (door-palm), or the latch and
    hinge only (door: the door's motion, which the release needs, without the palm's, which
    repeats the previous palm Command; ``learner/features.py`` has the BC starts measured)."""
    batch_size: int = 256
    """Transitions per gradient step (half offline, half online when both exist)."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak rate of the target critics (1.0 copies the online critics)."""
    actor_lr: float = 1e-4
    """Adam learning rate of the actor (and of its BC warm start). Measured on the door: 3e-4
    lost the behaviour-cloned start within 5k steps (45 % -> 0 % explorer alone); 1e-4 kept
    it (45 -> 55 -> 60 %)."""
    critic_lr: float = 3e-4
    """Adam learning rate of the critics."""
    alpha_lr: float = 3e-4
    """Adam learning rate of log(alpha), the entropy temperature."""
    init_alpha: float = 0.01
    """Initial entropy temperature alpha. The door pays -1 per step; with alpha = 0.1 the
    entropy bonus of a fresh policy outweighs the reward, and the explorer's noise right after
    the handover throws away the guide's grip."""
    target_entropy: float | None = None
    """Entropy that alpha is tuned towards; None means ``-act_dim``."""
    target_critics: int | None = None
    """Size of the random subset of target critics whose min is the TD target; None = all."""
    actor_q: Literal["min", "mean"] = "min"
    """How the actor's loss reduces the ensemble: min (SAC) or mean (RLPD with 10 critics)."""
    weight_decay: float = 0.0
    """Adam weight decay of the critics."""
    bf16_matmul: bool = False
    """Multiply in bfloat16 inside ``update`` (fp32 in and out, fp32 accumulation; oneDNN).

    About 2x faster matrix products on CPUs with AVX512-BF16 or AMX. Off by default: it trades
    precision for speed, and torch's switch is process-wide, so matrix products in other
    threads during an update use it too."""
    actor_every: int = 1
    """Update the actor and alpha on every k-th update only (the critics on every one).

    RLPD with an update-to-data ratio of k updates the actor once per env step: set
    ``actor_every = utd_ratio`` for that. 1 is plain SAC (and what the speed bench compares)."""
    n_step: int = 5
    """Rewards summed before bootstrapping (the replay buffer computes the sums): the door's
    sparse signal reaches the handover in 1/n of the updates 1-step TD needs."""
    mc_lower_bound: bool = True
    """TD target = max(n-step target, the episode's discounted return-to-go): a return the
    data has shown is a floor for Q, so a successful episode's value is never forgotten."""
    mc_lower_bound_until: int = 60_000
    """Updates after which the MC floor is dropped (0: kept throughout; 60k is 30k env steps
    at ``train``'s UTD 2, where ``h`` nears 0). The floor lifts a risky action's value to its
    lucky outcomes' returns (the max of the TD target and the return is optimistic where the
    same action sometimes fails); once the critics have the sparse signal, plain n-step
    targets value such an action at its average outcome. Measured (scripted:0.5, seeds 0, 1,
    2, explorer alone at 50k): 100, 100, 98 % against the floor throughout's 88, 100, 94 %;
    with the floor kept, the critics valued the release of a failing episode at -26 where the
    episode then got -72 (``bench/release.py``)."""
    backup_entropy: bool = False
    """Add the entropy bonus ``-alpha log pi`` to the bootstrapped value (soft Q). Off: on a
    sparse -1-per-step task the bonus swamps the reward in the targets."""
    bc_weight: float = 2.5
    """Weight of the behaviour-cloning term on demonstrations in the actor's loss, relative to
    the critic's scale (TD3+BC's normalization: ``bc_weight * mean|Q| * mse``; 0.4 is TD3+BC's
    alpha 2.5, inverted: 0.4; the door needs more, 2.5 measured). It keeps the actor from
    forgetting the demos while the critic is poor."""
    bc_decay_updates: int = 0
    """Updates over which the BC weight fades linearly to 0 (0: never fades). With
    self-imitation the term stays (measured: a term that faded by 50k updates let every run
    peak and then dip by 10-25 points of explorer-alone success)."""
    bc_self: bool = True
    """Self-imitation: the explorer's steps of its own successful episodes join the BC
    demonstrations (a ring of the newest ones), so the BC term anchors the actor to what it has
    itself done right, not only to the guide's successes. Measured on the door (scripted:0.5,
    curriculum, seeds 0, 1, 2): explorer alone 94, 94, 98 % at 50k, the largest fall after 25k
    14 points; with the guide's demos only 80, 84, 98 %, falls of up to 36 points, once to 0 %."""
    bc_q_filter: bool = False
    """Nair et al. (2018)'s Q-filter: clone a demonstrated action only where the critics value
    it above the actor's own action (min over the ensemble), so the actor is held to the
    demonstrations where they are better and free to beat them (open the door sooner) where
    the critics know better. Measured (scripted:0.5, seeds 0, 1): the door opens sooner
    (score 61.4 at 65k on seed 1) but success swings as much as without it (84, 96 % at 50k
    from update 20k on): off."""
    bc_q_filter_after: int = 20_000
    """Updates before the Q-filter applies (all demonstrations are cloned until then).
    Measured on the door: from the first update, while the critics are still poor, the
    filter let the actor leave its BC start (explorer alone 0 % at 5k and 10k steps)."""
    reference: bool = True
    """IBRL (Hu et al. 2023): keep the behaviour-cloned actor as a frozen reference; act and
    bootstrap with its action wherever the critic values it more than the actor's. The
    explorer is then never worse than its BC start where the critic knows better."""
    select_with_target: bool = False
    """With ``reference``: choose between the actor's and the reference's action with the
    target critics (Polyak-averaged, like the acting actor) instead of the online ones, whose
    choice flips from one update to the next (IBRL uses the online critic). Measured
    (scripted:0.5, seeds 0, 1, 2): 98, 90, 92 % explorer alone at 50k against the online
    critics' 94, 94, 98 %: off."""
    actor_delay: int = 0
    """Updates of the critics alone before the actor's first update: the warm-started actor
    acts, unchanged, while the critics learn its value (no early dip from a random critic)."""
    actor_average: float = 0.005
    """Polyak rate of an averaged copy of the actor that acts and is evaluated (smooths the
    update-to-update swings of the policy; 0.005 averages over ~200 actor updates); 0 = the
    actor itself acts. Measured with 0.001 (seeds 0, 1, 2): at the plateau sooner (92 % at 25k
    against 82 %), steadier, but 94, 92, 96 % at 50k against 94, 94, 98 %."""

    def __post_init__(self) -> None:
        """Fail fast on values that cannot work."""
        if not (0 < self.hidden <= 4096 and 0 < self.batch_size <= 65536):
            raise ValueError(
                f"hidden must be in [1, 4096] and batch_size in [1, 65536]: {self.hidden}, "
                f"{self.batch_size}"
            )
        if self.rates_of not in ("door-palm", "door"):
            raise ValueError(f"rates_of must be door-palm or door, got {self.rates_of!r}")
        if self.actor_every < 1:
            raise ValueError(f"actor_every must be >= 1, got {self.actor_every}")
        if self.n_critics < 1:
            raise ValueError(f"n_critics must be >= 1, got {self.n_critics}")
        if self.target_critics is not None and not 1 <= self.target_critics <= self.n_critics:
            raise ValueError(
                f"target_critics must be in [1, n_critics={self.n_critics}], "
                f"got {self.target_critics}"
            )
        if not 0.0 <= self.gamma <= 1.0 or not 0.0 < self.tau <= 1.0:
            raise ValueError(f"need 0 <= gamma <= 1 and 0 < tau <= 1: {self.gamma}, {self.tau}")
        if self.init_alpha <= 0.0:
            raise ValueError(f"init_alpha must be positive, got {self.init_alpha}")
        if self.actor_q not in ("min", "mean"):
            raise ValueError(f"actor_q must be 'min' or 'mean', got {self.actor_q!r}")
        if self.n_step < 1:
            raise ValueError(f"n_step must be >= 1, got {self.n_step}")
        if not (math.isfinite(self.bc_weight) and self.bc_weight >= 0.0):
            raise ValueError(f"bc_weight must be >= 0, got {self.bc_weight}")
        if not 0.0 <= self.actor_average < 1.0:
            raise ValueError(f"actor_average must be in [0, 1), got {self.actor_average}")
        if self.actor_delay < 0:
            raise ValueError(f"actor_delay must be >= 0, got {self.actor_delay}")
        if self.bc_q_filter_after < 0:
            raise ValueError(f"bc_q_filter_after must be >= 0, got {self.bc_q_filter_after}")
        if self.mc_lower_bound_until < 0:
            raise ValueError(f"mc_lower_bound_until must be >= 0, got {self.mc_lower_bound_until}")
        if self.bc_decay_updates < 0:
            raise ValueError(f"bc_decay_updates must be >= 0, got {self.bc_decay_updates}")
        for name in ("actor_lr", "critic_lr", "alpha_lr"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"{name} must be a positive number, got {value}")
        if self.bf16_matmul and not bf16_matmul_supported():
            raise ValueError(
                "bf16_matmul=True needs a CPU with bfloat16 support (AVX512-BF16 or AMX) and "
                "torch built with oneDNN; this one has neither: set bf16_matmul=False"
            )


def saved_sac_settings(sac: dict[str, Any]) -> dict[str, Any]:
    """A saved ``sac`` block with the options it predates filled in as they behaved then.

    Runs and checkpoints saved before ``obs_rates`` existed had no rates; those saved before
    ``rates_of`` existed saw the palm's rates too (``door-palm``); those saved before
    ``mc_lower_bound_until`` kept the MC floor throughout (0). Other absent options take
    their defaults (each new option's default keeps the behaviour from before it).
    """
    out = dict(sac)
    out.setdefault("mc_lower_bound_until", 0)  # the MC floor was kept throughout
    out.setdefault("obs_rates", False)
    out.setdefault("rates_of", "door-palm" if out["obs_rates"] else SACConfig.rates_of)
    return out


def saved_train_settings(train: dict[str, Any]) -> dict[str, Any]:
    """A run's saved ``train`` block with the options it predates filled in as they behaved then.

    Runs saved before ``explorer_speed`` existed explored at a person's speed (1); their ``sac``
    block goes through :func:`saved_sac_settings`.
    """
    out = dict(train)
    out.setdefault("explorer_speed", 1.0)
    if isinstance(out.get("sac"), dict):
        out["sac"] = saved_sac_settings(out["sac"])
    return out


def bf16_matmul_supported() -> bool:
    """Whether oneDNN can run fp32 matrix products in bfloat16 on this CPU (imports torch)."""
    import torch

    return bool(
        torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


@dataclass(frozen=True)
class LearnerConfig:
    """How the learner thread schedules updates."""

    utd_ratio: float = 1.0
    """Gradient updates per env step (paced mode; RLPD uses up to 20)."""
    publish_every: int = 100
    """Publish the actor's weights every this many updates (and at stop)."""
    warmup_steps: int = 1000
    """Online transitions (env steps) before the first update."""
    torch_threads: int = 1
    """torch intra-op threads for the updates (1 with a window open on 2 cores)."""
    device: str = "auto"
    """Where the learner's networks and updates run: auto (a CUDA GPU when there is one, else
    the CPU), cpu, cuda or cuda:N. The explorer always acts on the CPU (numpy)."""
    offline_ratio: float = 0.5
    """Share of each batch drawn from the offline buffer (the guide-only episodes and
    ``--offline-data``), the rest from the online one: RLPD's symmetric 0.5. The guide-only
    set is small (20 episodes, 4000 steps), so at 0.5 each of its rows is drawn thousands of
    times. Measured (scripted:0.5, seeds 0, 1, 2, explorer alone at 50k): 0.25 reads 90, 98,
    92 % against 0.5's 100, 100, 90 % (and 98, 100, 86 % in a second sample): 0.5 stays."""

    def __post_init__(self) -> None:
        """Fail fast on values that cannot work."""
        if not (self.utd_ratio > 0 and math.isfinite(self.utd_ratio)):
            raise ValueError(f"utd_ratio must be a positive number, got {self.utd_ratio}")
        if self.publish_every < 1:
            raise ValueError(f"publish_every must be >= 1, got {self.publish_every}")
        if self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {self.warmup_steps}")
        if self.torch_threads < 1:
            raise ValueError(f"torch_threads must be >= 1, got {self.torch_threads}")
        if not 0.0 <= self.offline_ratio <= 1.0:
            raise ValueError(f"offline_ratio must be in [0, 1], got {self.offline_ratio}")


@dataclass(frozen=True)
class CurriculumConfig:
    """JSRL-Curriculum settings: where the stages are, and how a stage is decided."""

    stages: Literal["phases", "even"] = "phases"
    """Place the stages where the guide's episodes change phase (reach, turn, unlatch, swing,
    open), or space ``n_stages`` evenly from H1 to 0 (the paper's)."""
    n_stages: int = 10
    """Stages from H1 down to h = 0, both included (``--curriculum.stages even``)."""
    max_gap: int = 20
    """With phase stages: split any gap between two stages wider than this many steps."""
    window: int = 5
    """Training episodes at a stage before each trial."""
    trial_episodes: int = 10
    """Deterministic explorer episodes from the handover that decide a stage."""
    min_success_ratio: float = 0.8
    """A trial advances the stage when its success rate reaches this times the guide's own ..."""
    min_success: float = 0.3
    """... and at least this, so a stage where every episode fails never advances."""
    alone_every: int = 2
    """Every this many episodes, one training episode of the explorer alone (h = 0) beside the
    stage's (it does not count for the stage); 0 = never. The explorer practises the whole task
    from the start while the stages move (the app, where a person guides, sets 0)."""
    fixed_h: int = 0
    """Guide horizon of every episode with --strategy fixed (demos)."""
    roll_in: bool = False
    """JSRL's roll-in without guide steps: an episode with horizon 0 < h < 200 starts from the
    state after h steps of a successful recorded episode (the run's guide episodes and
    ``--offline-data``, replayed from their seeds) instead of the guide acting for h steps;
    the explorer acts for the other 200 - h. ``train`` in one process only (not ``--workers``)."""
    retry_failures: float = 0.0
    """Share of the explorer-alone episodes (h = 0) that start from a state of a failed
    explorer-alone episode among the newest 100 (after ``retry_from`` to ``retry_until`` steps)
    instead of a reset, so the explorer practises getting back to the door after its own failures (a
    slipped lever, a door that swung shut). ``train`` in one process only."""
    retry_from: int = 60
    """Earliest step of a failed episode a retry starts at."""
    retry_until: int = 140
    """Latest step a retry starts at (the door must still be openable for 25 steps after)."""

    def __post_init__(self) -> None:
        """Fail fast on values that cannot work (one line naming the option)."""
        checks = [
            (self.stages in ("phases", "even"), f"stages must be phases or even: {self.stages!r}"),
            (self.n_stages >= 2, f"n-stages must be >= 2, got {self.n_stages}"),
            (self.max_gap >= 1, f"max-gap must be >= 1, got {self.max_gap}"),
            (self.window >= 1, f"window must be >= 1, got {self.window}"),
            (self.trial_episodes >= 1, f"trial-episodes must be >= 1, got {self.trial_episodes}"),
            (
                self.alone_every == 0 or self.alone_every >= 2,
                f"alone-every must be 0 or >= 2, got {self.alone_every}",
            ),
            (
                self.min_success_ratio >= 0.0,
                f"min-success-ratio must be >= 0, got {self.min_success_ratio}",
            ),
            (
                0.0 < self.min_success <= 1.0,
                f"min-success must be in (0, 1], got {self.min_success}",
            ),
            (
                0.0 <= self.retry_failures <= 1.0,
                f"retry-failures must be in [0, 1], got {self.retry_failures}",
            ),
            (
                1 <= self.retry_from <= self.retry_until < 175,
                "retry-from and retry-until must satisfy 1 <= retry-from <= retry-until < 175, "
                f"got {self.retry_from} and {self.retry_until}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"--curriculum.{message}")


TRAIN_UTD = 2
"""``train``'s update-to-data ratio, with the actor updated on every second update (RLPD's
schedule at UTD 2: the critics twice per env step, the actor once). Measured on the door
(scripted:0.5, JSRL-Curriculum, seeds 0, 1, 2, 50 evaluation episodes every 5k steps): at 50k
96, 98, 92 % as with UTD 1 (100, 94, 92 %), but from 55k to 100k 97.6, 93.4, 95.0 % on
average over the ten evaluations of each seed against 93.4, 89.0, 91.6 %, and 96, 96, 98 % at
100k against 100, 86, 94 %; 1.2x the wall time. The app keeps UTD 1 and a free-running
learner (it has one core beside the window)."""


@dataclass(frozen=True)
class TrainConfig:
    """Train the explorer headless with a guide jump-starting it (JSRL).

    ``--config FILE`` starts from the settings of a run's ``config.json`` (or a JSON object of
    these options); options given after it win, and ``--run-dir`` is always the new run's.
    """

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
    bc_steps: int = 2000
    """Behaviour-clone the successful guide (and offline) episodes into the actor for this many
    steps before RL (0 = off)."""
    explorer_space: Literal["command", "joint"] = "command"
    """The explorer acts in the 6-D teleop Command space through the mapper a person uses
    (command), or with the 28 joint targets directly (joint, the standard benchmark)."""
    explorer_speed: float = 3.0
    """How fast the Command-space explorer's controls are, relative to a person's: +-1 of its
    actions means this many times a person's palm speed, twist and wrist rates (2 m/s, 6 rad/s,
    3 rad/s), and its mapper lets the arm lead (push) as many times as far. 1 = exactly the
    controls a person and the scripted guide have; above 1 the explorer may beat its guide's
    timing. The recordings keep every Command in a person's units. Measured (scripted:0.5,
    seeds 0, 1, 2, explorer alone): 3 reads 98, 96, 96 % and scores 63.2, 62.7, 63.0 at 100k
    (55k-100k: 98.6, 94.6, 97.2 %; 88, 100, 94 % at 50k); 2: 100, 96, 92 % and 59.9, 56.3, 57.0
    (55k-100k: 99.0, 99.0, 95.0 %; 100, 100, 90 % at 50k); 1: 96, 96, 98 % and 50.9, 52.0,
    53.8. Runs made before this option: 1; from then until 3 was the default: 2 (their
    ``config.json`` says so)."""
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
    sac: SACConfig = field(default_factory=lambda: SACConfig(actor_every=TRAIN_UTD))
    """SAC networks and optimizers (``train`` updates the actor on every ``TRAIN_UTD``-th update:
    once per env step; give ``--sac.actor-every`` with ``--learner.utd-ratio`` to keep that)."""
    learner: LearnerConfig = field(default_factory=lambda: LearnerConfig(utd_ratio=TRAIN_UTD))
    """The learner thread: update-to-data ratio (``train``: ``TRAIN_UTD``), warm-up, weight
    publishing."""
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    """JSRL-Curriculum stages and advancement rule."""
    workers: int = 1
    """Rollout workers: 1 plays every episode in this process; N > 1 plays them on N Ray
    actors, each with its own env, guide and explorer (``pip install -e .[ray]``)."""
    ray_address: str | None = None
    """Address of a running Ray cluster for the workers (e.g. ``ray://head:10001`` or
    ``auto``); None starts a local one on this machine."""


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
    workers: int = 1
    """Rollout workers: 1 plays every episode in this process; N > 1 plays them on N Ray
    actors, each with its own env, guide and explorer (``pip install -e .[ray]``)."""
    ray_address: str | None = None
    """Address of a running Ray cluster for the workers (e.g. ``ray://head:10001`` or
    ``auto``); None starts a local one on this machine."""


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
    """Seed of the dataset's first episode; its episode i uses seed + i (so ``--append`` goes on
    with the seeds after the episodes already there)."""
    append: bool = False
    """Append to an existing dataset (created if missing) instead of refusing to touch it."""
    author: str | None = None
    """Author recorded in the dataset's Minari metadata."""
    progress: bool = True
    """Show a progress bar (``--no-progress`` for logs that are not a terminal)."""
    workers: int = 1
    """Rollout workers: 1 plays every episode in this process; N > 1 plays them on N Ray
    actors, each with its own env, guide and explorer (``pip install -e .[ray]``)."""
    ray_address: str | None = None
    """Address of a running Ray cluster for the workers (e.g. ``ray://head:10001`` or
    ``auto``); None starts a local one on this machine."""
