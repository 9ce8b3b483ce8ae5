"""The imitation guide itself: its config, what it knows about itself, and how it acts.

:class:`ImitationGuide` runs a behaviour-cloned MLP (``learner.bc``) in numpy; the data it
learns from is picked by :mod:`guides.imitation.data`, the fitting is :mod:`.fit`, the cache
:mod:`.cache`, ``imitation:DATASET`` is :mod:`.load`, and the app's DAgger trainer
:mod:`.trainer`.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from episode.types import Actor
from sim.door import ACT_DIM
from teleop.command_space import COMMAND_DIM, CommandController

IMITATION_PREFIX = "imitation:"
"""The guide spec prefix: ``imitation:DATASET``."""
EVAL_SEED = 20_000
"""Seed of the first self-evaluation episode (clear of training and benchmark seeds)."""


@dataclass(frozen=True)
class ImitationConfig:
    """What the imitation guide learns from, and how."""

    actors: tuple[str, ...] = ("guide", "human")
    """Whose steps to clone (``guide``, ``explorer``, ``human``; see recordings.schema.Actor)."""
    only_successful: bool = False
    """Clone only episodes in which the door opened (all of them if none did). Off by default:
    a person's failed attempts are mostly right until they fail, and with a few demos the
    extra coverage helps more than it hurts (10 -> 25-40 % success from 25 keyboard demos)."""
    space: Literal["auto", "command", "joint"] = "auto"
    """What the guide outputs: the 6-D teleop Command (through the mapper, as a person and the
    scripted guide drive), the 28-D joint action, or ``auto``: Commands when every cloned
    episode recorded them (people, the scripted guide, Command explorers), else 28-D. Measured
    on 10 virtual-human demos (20 seeded episodes, fit seeds 0, 1, 2): 28-D 10 % (seed 0),
    Command space 30, 5, 15 % without ``obs_noise`` and 30, 35, 25 % with 0.3."""
    obs_noise: float = 0.3
    """Gaussian noise on the observations while fitting, in units of each entry's spread over
    the demos (``learner.bc.train_bc_policy``): with a few demos the policy otherwise knows
    only the exact states they visited. Measured (Command space, 10 virtual-human demos): 0.1
    and 0.3 help, 1.0 blurs the states apart (5 % and 30 % on fit seeds 0 and 1)."""
    hidden: int = 256
    """Width of the policy's two hidden layers."""
    steps: int = 5000
    """Adam steps of behaviour cloning."""
    batch_size: int = 256
    """(obs, action) pairs per step."""
    lr: float = 3e-3
    """Adam learning rate (cosine-decayed)."""
    action_scaling: float = 3.0
    """Fit each action dimension standardized, ``(a - mean) / (action_scaling * std)`` (the
    small arm dimensions matter as much as the large finger ones); 0 fits raw actions."""
    seed: int = 0
    """Seed of the network init and the sampling (the same guide for every run seed)."""
    torch_threads: int = 1
    """Torch threads while training (more threads only slow a small MLP on a busy CPU)."""
    eval_episodes: int = 5
    """Seeded episodes of the self-evaluation (0: skip it)."""
    eval_seed: int = EVAL_SEED
    """Seed of the first self-evaluation episode."""

    def __post_init__(self) -> None:
        names = {a.name.lower() for a in Actor}
        bad = [a for a in self.actors if a not in names]
        if bad or not self.actors:
            raise ValueError(f"ImitationConfig.actors must be a non-empty subset of {names}: {bad}")
        for name in ("hidden", "steps", "batch_size", "torch_threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"ImitationConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not (np.isfinite(self.obs_noise) and self.obs_noise >= 0):
            raise ValueError(f"ImitationConfig.obs_noise must be >= 0, got {self.obs_noise}")
        if self.space not in ("auto", "command", "joint"):
            raise ValueError(
                f"ImitationConfig.space must be auto, command or joint: {self.space!r}"
            )
        if not self.action_scaling >= 0:
            raise ValueError(
                f"ImitationConfig.action_scaling must be >= 0, got {self.action_scaling}"
            )
        if self.eval_episodes < 0:
            raise ValueError(
                f"ImitationConfig.eval_episodes must be >= 0, got {self.eval_episodes}"
            )

    def actor_set(self) -> set[Actor]:
        """The actors as :class:`Actor` values."""
        return {Actor[a.upper()] for a in self.actors}

    def training_key(self) -> dict[str, Any]:
        """The settings that change the trained policy (part of the cache key)."""
        d = dataclasses.asdict(self)
        for name in ("eval_episodes", "eval_seed", "torch_threads"):
            d.pop(name)
        d["actors"] = sorted(d["actors"])
        return d


@dataclass(frozen=True)
class GuideEvaluation:
    """A guide's success on seeded episodes it drives alone (200 steps each)."""

    episodes: int
    """Episodes run."""
    successes: int
    """Episodes in which the door opened."""
    seed: int
    """Seed of the first episode (episode i uses seed + i)."""
    mean_first_success_step: float | None
    """Mean step of first success over the successful episodes (None: no success)."""

    @property
    def success_rate(self) -> float:
        """Fraction of episodes that opened the door (NaN with no episodes)."""
        return self.successes / self.episodes if self.episodes else float("nan")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (success_rate included)."""
        return {**dataclasses.asdict(self), "success_rate": self.success_rate}


@dataclass(frozen=True)
class ImitationInfo:
    """Where an imitation guide came from."""

    source: str
    """The dataset (or ``memory`` for in-memory data)."""
    samples: int
    """(obs, action) pairs it was trained on."""
    episodes: int
    """Episodes those pairs came from."""
    train_mse: float
    """Mean squared action error on its training data."""
    train_seconds: float
    """Wall time of the training (of the original training when loaded from the cache)."""
    cached: bool = False
    """Loaded from ``imitation_cache.pt`` instead of trained now."""
    notes: tuple[str, ...] = ()
    """Things a user should know (e.g. no successful episode, all were used)."""
    evaluation: GuideEvaluation | None = None
    """Its own success rate, if measured."""


class ImitationGuide:
    """Acts with a behaviour-cloned policy (deterministic; memoryless but for the mapper).

    ``act`` runs the MLP in numpy on cached float32 weights, so the main thread never enters
    torch's thread pool (the learner thread uses it). A policy with 6 outputs clones Commands:
    it drives through its own :class:`~teleop.mapper.CommandMapper` (``mapper``, which a
    Command explorer continues from at the handover) and says its Command
    (``command_vector``); one with 28 outputs gives the joint action itself.

    Args:
        policy: A fitted :class:`learner.bc.BCPolicy` (its outputs are standardized actions).
        info: Where it came from and how well it does.
        scaling: ``(mean, scale)`` per action dimension: ``action = mean + scale * output``
            (None: the outputs are the actions).

    """

    kind = "imitation"

    def __init__(
        self,
        policy: Any,
        info: ImitationInfo,
        scaling: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.policy = policy
        self.info = info
        dim = int(policy.act_dim)
        if dim not in (ACT_DIM, COMMAND_DIM):
            raise ValueError(f"an imitation policy outputs {ACT_DIM} or {COMMAND_DIM}, got {dim}")
        self.space: Literal["command", "joint"] = "command" if dim == COMMAND_DIM else "joint"
        self._controller = CommandController(_private_mapper()) if dim == COMMAND_DIM else None
        self._command: np.ndarray | None = None
        if scaling is None:
            scaling = (np.zeros(dim, np.float32), np.ones(dim, np.float32))
        self.scaling = (
            np.asarray(scaling[0], dtype=np.float32),
            np.asarray(scaling[1], dtype=np.float32),
        )
        self._mean = policy.obs_mean.detach().numpy().astype(np.float32)
        self._std = policy.obs_std.detach().numpy().astype(np.float32)
        linears = [m for m in policy.net if hasattr(m, "weight")]
        self._layers = [
            (m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in linears
        ]

    @property
    def evaluation(self) -> GuideEvaluation | None:
        """Its self-evaluation (None if not measured)."""
        return self.info.evaluation

    @property
    def success_rate(self) -> float | None:
        """Its measured success rate, or None."""
        return None if self.info.evaluation is None else self.info.evaluation.success_rate

    def with_evaluation(self, evaluation: GuideEvaluation) -> ImitationGuide:
        """The same guide with ``evaluation`` recorded in its info."""
        info = dataclasses.replace(self.info, evaluation=evaluation)
        return ImitationGuide(self.policy, info, self.scaling)

    @property
    def mapper(self) -> Any:
        """The Command guide's mapper (None for a 28-D guide)."""
        return None if self._controller is None else self._controller.mapper

    @property
    def command_vector(self) -> np.ndarray | None:
        """The Command of the last ``act`` (None before it, and for a 28-D guide)."""
        return self._command

    def reset(self, obs: np.ndarray) -> None:
        """A Command guide's mapper holds the pose in ``obs``; the policy itself is memoryless."""
        self._command = None
        if self._controller is not None:
            self._controller.reset(obs)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The action for ``obs``: float32 (28,) in [-1, 1] (a Command guide's, mapped)."""
        out = self.output(obs)
        if self._controller is None:
            return out
        self._command = out
        return self._controller(out, np.asarray(obs))

    def output(self, obs: np.ndarray) -> np.ndarray:
        """The policy's own output for ``obs``: a Command vector (6,) or a 28-D action."""
        x = (np.asarray(obs, dtype=np.float32).reshape(-1) - self._mean) / self._std
        for i, (w, b) in enumerate(self._layers):
            x = x @ w + b
            if i < len(self._layers) - 1:
                np.maximum(x, 0.0, out=x)
        mean, scale = self.scaling
        return np.clip(mean + scale * np.tanh(x), -1.0, 1.0).astype(np.float32)


@functools.cache
def _door_for_mapping() -> Any:
    """A private door env whose model the Command guides' mappers read (one per process)."""
    from sim.door import make_door

    return make_door()


def _private_mapper() -> Any:
    """A fresh mapper on the private door's model (only the hand's kinematics are read)."""
    from guides.mapping import mapper_for

    return mapper_for(_door_for_mapping())


def describe(guide: ImitationGuide) -> str:
    """One line about the guide: its data, training and measured success."""
    info = guide.info
    how = "loaded from cache" if info.cached else f"trained in {info.train_seconds:.1f} s"
    line = (
        f"imitation guide ({guide.space} space): {info.samples} steps from {info.episodes} "
        f"episodes of {info.source} "
        f"({how}, fit mse {info.train_mse:.4f})"
    )
    ev = info.evaluation
    if ev is not None:
        line += (
            f"; success {ev.successes}/{ev.episodes} ({100 * ev.success_rate:.0f} %) on "
            f"seeds {ev.seed}..{ev.seed + ev.episodes - 1}"
        )
    for note in info.notes:
        line += f"; note: {note}"
    return line
