"""The imitation guide: behaviour cloning on a recording's guide and human steps.

``--guide imitation:DATASET`` fits a deterministic MLP ``obs -> action`` (``learner.bc``) to
the steps of ``DATASET`` that a guide or a person chose (``recordings.schema.Actor``), each
action dimension standardized so the small arm commands weigh as much as the large finger
ones. It trains in seconds on a CPU (one torch thread) and caches the result in
``DATASET/imitation_cache.pt``, keyed by the dataset's fingerprint (size and mtime of
``data/main_data.hdf5`` and a digest of ``data/metadata.json``) and the training settings: a
changed dataset retrains, an unchanged one loads at once. It then measures its own success
rate on a few seeded episodes and reports it (stderr, and ``guide.evaluation``).

:class:`ImitationTrainer` is the app's piece for human-in-the-loop imitation: it trains in a
background thread from demonstrations, publishes the newest guide, and aggregates the human's
intervention steps into its data and retrains (DAgger).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from episode.guide import GuideError
from episode.types import Actor
from recordings.schema import MAIN_FILE, METADATA_FILE
from sim.door import ACT_DIM, EPISODE_STEPS, OBS_DIM, make_door
from sim.errors import UserError

IMITATION_PREFIX = "imitation:"
"""The guide spec prefix: ``imitation:DATASET``."""
CACHE_FILE = "imitation_cache.pt"
"""The cache file, next to the dataset's ``data/`` folder."""
CACHE_FORMAT = "jumpstart-teleop/imitation-cache"
"""Tag stored in every cache file."""
CACHE_VERSION = 2
"""Bumped when the cache layout or the training changes incompatibly."""
MAX_CACHE_ENTRIES = 4
"""Trained policies kept per dataset fingerprint (one per distinct training setting)."""
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
    """Acts with a behaviour-cloned policy (deterministic, memoryless).

    ``act`` runs the MLP in numpy on cached float32 weights, so the main thread never enters
    torch's thread pool (the learner thread uses it).

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
        if scaling is None:
            scaling = (np.zeros(ACT_DIM, np.float32), np.ones(ACT_DIM, np.float32))
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

    def reset(self, obs: np.ndarray) -> None:
        """Nothing to reset: the policy is memoryless."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The cloned action for ``obs``: float32 (28,) in [-1, 1]."""
        x = (np.asarray(obs, dtype=np.float32).reshape(-1) - self._mean) / self._std
        for i, (w, b) in enumerate(self._layers):
            x = x @ w + b
            if i < len(self._layers) - 1:
                np.maximum(x, 0.0, out=x)
        mean, scale = self.scaling
        return np.clip(mean + scale * np.tanh(x), -1.0, 1.0).astype(np.float32)


# -- data ------------------------------------------------------------------------------------


def demo_arrays(
    episodes: Iterable[Any], config: ImitationConfig
) -> tuple[np.ndarray, np.ndarray, int, tuple[str, ...]]:
    """Select the (obs, action) pairs to clone from recorded episodes.

    Keeps the steps of ``config.actors``; never the guide steps of an episode that an
    imitation guide itself guided (it would learn its own mistakes); with
    ``config.only_successful``, only episodes in which the door opened.

    Args:
        episodes: :class:`recordings.episode.Episode` s (``recordings.reader.iter_episodes``).
        config: Which actors and episodes to keep.

    Returns:
        obs, actions, the number of episodes they come from, and notes for the user.

    """
    wanted = [int(a) for a in config.actor_set()]
    parts: list[tuple[np.ndarray, np.ndarray, bool]] = []
    for ep in episodes:
        actor = np.asarray(ep.actor)
        keep = np.isin(actor, wanted)
        kind = ep.attrs.get("guide_kind", "")
        if (kind.decode() if isinstance(kind, bytes) else str(kind)) == ImitationGuide.kind:
            keep &= actor != int(Actor.GUIDE)
        if keep.any():
            obs = np.asarray(ep.observations[:-1])[keep]
            parts.append((obs, np.asarray(ep.actions)[keep], bool(np.any(ep.step_success))))
    notes: list[str] = []
    if config.only_successful and parts:
        won = [p for p in parts if p[2]]
        if won:
            parts = won
        else:
            notes.append("no episode opened the door: cloning all of them")
    if not parts:
        empty = np.zeros((0, OBS_DIM), np.float32), np.zeros((0, ACT_DIM), np.float32)
        return *empty, 0, tuple(notes)
    obs = np.concatenate([p[0] for p in parts]).astype(np.float32)
    actions = np.concatenate([p[1] for p in parts]).astype(np.float32)
    return obs, actions, len(parts), tuple(notes)


def read_demos(
    dataset: Path | str, config: ImitationConfig
) -> tuple[np.ndarray, np.ndarray, int, tuple[str, ...]]:
    """:func:`demo_arrays` of every episode of ``dataset``.

    Raises:
        GuideError: The dataset cannot be read.

    """
    from recordings.reader import iter_episodes

    try:
        return demo_arrays(iter_episodes(dataset), config)
    except UserError as e:
        raise GuideError(f"imitation guide: {e}") from None


def dataset_fingerprint(dataset: Path) -> str:
    """A digest of the dataset's state: size and mtime of the HDF5 file, the metadata's bytes.

    Raises:
        GuideError: ``dataset`` is not a dataset directory.

    """
    data = Path(dataset) / "data"
    main, meta = data / MAIN_FILE, data / METADATA_FILE
    if not main.is_file():
        raise GuideError(
            f"imitation guide: {dataset} is not a dataset (no data/{MAIN_FILE}); record one "
            "with: python launch.py collect --out DATASET"
        )
    st = main.stat()
    meta_digest = hashlib.sha256(meta.read_bytes()).hexdigest() if meta.is_file() else "none"
    text = json.dumps([st.st_size, st.st_mtime_ns, meta_digest])
    return hashlib.sha256(text.encode()).hexdigest()


def _config_key(config: ImitationConfig) -> str:
    text = json.dumps([CACHE_VERSION, config.training_key()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- training ----------------------------------------------------------------------------------


def train_imitation(
    obs: np.ndarray,
    actions: np.ndarray,
    config: ImitationConfig | None = None,
    *,
    source: str = "memory",
    episodes: int = 0,
    notes: tuple[str, ...] = (),
    progress: bool = False,
) -> ImitationGuide:
    """Fit an imitation guide to ``(obs, actions)`` pairs (no evaluation, no cache).

    Raises:
        GuideError: No pairs, or pairs of the wrong shape.

    """
    from learner.bc import train_bc_policy

    cfg = config or ImitationConfig()
    obs = np.asarray(obs, dtype=np.float32)
    actions = np.asarray(actions, dtype=np.float32)
    if len(obs) == 0:
        raise GuideError(
            f"imitation guide: {source} has no {'/'.join(cfg.actors)} steps to imitate"
        )
    if obs.shape[1:] != (OBS_DIM,) or actions.shape[1:] != (ACT_DIM,):
        raise GuideError(
            f"imitation guide: {source} has obs {obs.shape[1:]} and actions "
            f"{actions.shape[1:]}, expected ({OBS_DIM},) and ({ACT_DIM},): another task?"
        )
    t0 = time.perf_counter()
    scaling = action_scaling(actions, cfg.action_scaling)
    targets = np.clip((actions - scaling[0]) / scaling[1], -1.0, 1.0)
    with _torch_threads(cfg.torch_threads):
        policy = train_bc_policy(
            obs,
            targets,
            hidden=cfg.hidden,
            steps=cfg.steps,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            seed=cfg.seed,
            progress=progress,
        )
    info = ImitationInfo(
        source=source,
        samples=len(obs),
        episodes=episodes,
        train_mse=float(policy.train_mse),
        train_seconds=time.perf_counter() - t0,
        notes=notes,
    )
    return ImitationGuide(policy, info, scaling)


def action_scaling(actions: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension ``(mean, k * std)`` of ``actions`` (identity when ``k`` is 0).

    A dimension that barely varies keeps a scale of at least 0.05, so its fit stays smooth.
    """
    if k == 0:
        return np.zeros(ACT_DIM, np.float32), np.ones(ACT_DIM, np.float32)
    actions = np.asarray(actions, dtype=np.float32)
    return actions.mean(axis=0), np.maximum(k * actions.std(axis=0), 0.05).astype(np.float32)


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Use ``n`` torch threads inside the block (the setting is process-wide)."""
    import torch

    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def evaluate_guide(guide: Any, episodes: int, seed: int = EVAL_SEED) -> GuideEvaluation:
    """Run ``guide`` alone for ``episodes`` seeded episodes on a private door env."""
    from episode.runner import EpisodeRunner

    env = make_door()
    try:
        runner = EpisodeRunner(env, guide, None)
        results = [runner.run_episode(seed + i, EPISODE_STEPS) for i in range(episodes)]
    finally:
        env.close()
    firsts = [r.first_success_step for r in results if r.first_success_step is not None]
    return GuideEvaluation(
        episodes=len(results),
        successes=sum(r.success for r in results),
        seed=seed,
        mean_first_success_step=float(np.mean(firsts)) if firsts else None,
    )


# -- cache -----------------------------------------------------------------------------------


def cache_path(dataset: Path) -> Path:
    """Where the imitation cache of ``dataset`` lives."""
    return Path(dataset) / CACHE_FILE


def _read_cache(path: Path, fingerprint: str) -> dict[str, Any]:
    """The cache's entries for ``fingerprint`` (empty when missing, stale or unreadable)."""
    import torch

    if not path.is_file():
        return {}
    try:
        cache = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a torn or foreign file is only a cache miss
        return {}
    if not isinstance(cache, dict) or cache.get("format") != CACHE_FORMAT:
        return {}
    if cache.get("version") != CACHE_VERSION or cache.get("fingerprint") != fingerprint:
        return {}
    entries = cache.get("entries")
    return entries if isinstance(entries, dict) else {}


def _write_cache(path: Path, fingerprint: str, entries: dict[str, Any]) -> bool:
    """Write the cache atomically; False (and a warning) if the directory is read-only."""
    import torch

    keep = dict(list(entries.items())[-MAX_CACHE_ENTRIES:])
    payload = {
        "format": CACHE_FORMAT,
        "version": CACHE_VERSION,
        "fingerprint": fingerprint,
        "entries": keep,
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        print(f"imitation guide: cannot write the cache {path} ({e}); continuing", file=sys.stderr)
        return False
    return True


def _entry(guide: ImitationGuide) -> dict[str, Any]:
    import torch

    info = guide.info
    ev = info.evaluation
    return {
        "policy": guide.policy.export(),
        "action_mean": torch.from_numpy(guide.scaling[0].copy()),
        "action_scale": torch.from_numpy(guide.scaling[1].copy()),
        "samples": info.samples,
        "episodes": info.episodes,
        "train_mse": info.train_mse,
        "train_seconds": info.train_seconds,
        "notes": list(info.notes),
        "evaluation": None if ev is None else dataclasses.asdict(ev),
    }


def _from_entry(entry: dict[str, Any], source: str) -> ImitationGuide:
    from learner.bc import BCPolicy

    ev = entry.get("evaluation")
    info = ImitationInfo(
        source=source,
        samples=int(entry["samples"]),
        episodes=int(entry["episodes"]),
        train_mse=float(entry["train_mse"]),
        train_seconds=float(entry["train_seconds"]),
        cached=True,
        notes=tuple(entry.get("notes", ())),
        evaluation=None if ev is None else GuideEvaluation(**ev),
    )
    scaling = (entry["action_mean"].numpy(), entry["action_scale"].numpy())
    return ImitationGuide(BCPolicy.from_export(entry["policy"]), info, scaling)


# -- the guide spec ----------------------------------------------------------------------------


def load_imitation_guide(
    dataset: Path | str,
    config: ImitationConfig | None = None,
    *,
    use_cache: bool = True,
    progress: bool = False,
) -> ImitationGuide:
    """The imitation guide of ``dataset``: from its cache, or trained (and evaluated) now.

    Args:
        dataset: Dataset directory (``recordings/door-human-v0``).
        config: What to clone and how; defaults to :class:`ImitationConfig`.
        use_cache: Read and write ``DATASET/imitation_cache.pt``.
        progress: Show progress bars.

    Raises:
        GuideError: Not a dataset, unreadable, or nothing to imitate in it.

    """
    cfg = config or ImitationConfig()
    dataset = Path(dataset).expanduser()
    fingerprint = dataset_fingerprint(dataset)
    key, path = _config_key(cfg), cache_path(dataset)
    entries = _read_cache(path, fingerprint) if use_cache else {}
    guide = _cached_guide(entries.get(key), str(dataset))
    fresh = guide is None
    if guide is None:
        guide = _train_from_dataset(dataset, cfg, progress)
    if cfg.eval_episodes > 0 and not _evaluated_as(guide, cfg):
        guide = guide.with_evaluation(evaluate_guide(guide, cfg.eval_episodes, cfg.eval_seed))
    elif not fresh:
        return guide
    if use_cache and dataset_fingerprint(dataset) == fingerprint:  # not changed meanwhile
        entries.pop(key, None)
        entries[key] = _entry(guide)
        _write_cache(path, fingerprint, entries)
    return guide


def _cached_guide(entry: dict[str, Any] | None, source: str) -> ImitationGuide | None:
    if entry is None:
        return None
    try:
        return _from_entry(entry, source)
    except (KeyError, TypeError, ValueError, RuntimeError):
        return None  # an entry this code cannot read: retrain


def _evaluated_as(guide: ImitationGuide, cfg: ImitationConfig) -> bool:
    ev = guide.evaluation
    return ev is not None and ev.episodes == cfg.eval_episodes and ev.seed == cfg.eval_seed


def _train_from_dataset(dataset: Path, cfg: ImitationConfig, progress: bool) -> ImitationGuide:
    obs, actions, episodes, notes = read_demos(dataset, cfg)
    return train_imitation(
        obs, actions, cfg, source=str(dataset), episodes=episodes, notes=notes, progress=progress
    )


def describe(guide: ImitationGuide) -> str:
    """One line about the guide: its data, training and measured success."""
    info = guide.info
    how = "loaded from cache" if info.cached else f"trained in {info.train_seconds:.1f} s"
    line = (
        f"imitation guide: {info.samples} steps from {info.episodes} episodes of {info.source} "
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


def build_imitation_guide(
    spec: str, *, config: ImitationConfig | None = None, quiet: bool = False
) -> ImitationGuide:
    """Build the guide for ``imitation:DATASET`` and print its one-line report to stderr."""
    if not spec.startswith(IMITATION_PREFIX) or not spec[len(IMITATION_PREFIX) :]:
        raise GuideError(f"imitation guide spec must be imitation:DATASET, got {spec!r}")
    guide = load_imitation_guide(spec[len(IMITATION_PREFIX) :], config, progress=not quiet)
    if not quiet:
        print(describe(guide), file=sys.stderr)
    return guide


# -- DAgger in the app -------------------------------------------------------------------------


@dataclass
class TrainerStats:
    """What :class:`ImitationTrainer` shows on the HUD."""

    version: int = 0
    """Guides published so far (0: none yet)."""
    samples: int = 0
    """(obs, action) pairs in the training data (demos + interventions)."""
    intervention_samples: int = 0
    """Of them, steps added by :meth:`ImitationTrainer.add_interventions`."""
    training: bool = False
    """A training round is running."""
    last_train_seconds: float = float("nan")
    """Wall time of the last training round (evaluation included)."""
    success_rate: float | None = None
    """The newest guide's self-evaluated success rate (None: not measured)."""
    error: str | None = None
    """The worker's error, if it died."""


@dataclass
class _Data:
    obs: list[np.ndarray] = field(default_factory=list)
    actions: list[np.ndarray] = field(default_factory=list)
    episodes: int = 0
    interventions: int = 0

    def count(self) -> int:
        return sum(len(o) for o in self.obs)


class ImitationTrainer:
    """Trains imitation guides in a background thread from demos and the human's corrections.

    The app adds demonstrations (:meth:`add_dataset` or :meth:`add_demos`), calls
    :meth:`retrain`, and polls :meth:`latest` at episode boundaries; when the human takes over
    from the imitation guide, the app passes those steps to :meth:`add_interventions` and calls
    :meth:`retrain` again, so the guide learns the corrections (DAgger's aggregation). A round
    started while one runs is queued (one pending round at most). Errors in the worker are kept
    and re-raised in the caller by :meth:`raise_if_failed`.

    Args:
        config: Training and self-evaluation settings (``eval_episodes=0`` skips evaluation).
        nice: CPU niceness added to the worker thread (Linux; elsewhere ignored), so a window
            and a learner sharing the CPU come first.

    """

    def __init__(self, config: ImitationConfig | None = None, nice: int = 0) -> None:
        if nice < 0:
            raise ValueError(f"ImitationTrainer nice must be >= 0, got {nice}")
        self.config = config or ImitationConfig(eval_episodes=3)
        self.nice = nice
        self._lock = threading.Lock()
        self._data = _Data()
        self._guide: ImitationGuide | None = None
        self._stats = TrainerStats()
        self._pending = False
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()

    # -- data -----------------------------------------------------------------------------------
    def add_demos(self, obs: np.ndarray, actions: np.ndarray, episodes: int = 1) -> int:
        """Add demonstration pairs (copied); returns the number of pairs held now."""
        return self._add(obs, actions, episodes, intervention=False)

    def add_dataset(self, dataset: Path | str) -> int:
        """Add the demonstrations of ``dataset`` (selected as ``config`` says); returns pairs."""
        obs, actions, episodes, _ = read_demos(dataset, self.config)
        return self._add(obs, actions, episodes, intervention=False)

    def add_interventions(self, obs: np.ndarray, actions: np.ndarray) -> int:
        """Aggregate the human's corrective steps (DAgger); returns the pairs held now."""
        return self._add(obs, actions, 0, intervention=True)

    def _add(self, obs: np.ndarray, actions: np.ndarray, episodes: int, intervention: bool) -> int:
        obs = np.array(obs, dtype=np.float32, copy=True).reshape(-1, OBS_DIM)
        actions = np.array(actions, dtype=np.float32, copy=True).reshape(-1, ACT_DIM)
        if len(obs) != len(actions):
            raise ValueError(f"{len(obs)} observations but {len(actions)} actions")
        with self._lock:
            if len(obs):
                self._data.obs.append(obs)
                self._data.actions.append(actions)
            self._data.episodes += episodes
            self._data.interventions += len(obs) if intervention else 0
            self._stats.samples = self._data.count()
            self._stats.intervention_samples = self._data.interventions
            return self._stats.samples

    # -- training -------------------------------------------------------------------------------
    def retrain(self) -> bool:
        """Train on all data held now, in the background; False if no data yet.

        A call while a round runs queues one more round (on the data held then).
        """
        self.raise_if_failed()
        with self._lock:
            if self._data.count() == 0:
                return False
            if self._stats.training:
                self._pending = True
                return True
            self._idle.clear()
            self._stats.training = True
            self._thread = threading.Thread(target=self._run, name="imitation-trainer", daemon=True)
            self._thread.start()
        return True

    def _snapshot(self) -> tuple[np.ndarray, np.ndarray, int]:
        with self._lock:
            self._pending = False
            return (
                np.concatenate(self._data.obs),
                np.concatenate(self._data.actions),
                self._data.episodes,
            )

    def _run(self) -> None:
        _lower_thread_priority(self.nice)
        try:
            while not self._stop.is_set():
                obs, actions, episodes = self._snapshot()
                t0 = time.perf_counter()
                guide = train_imitation(obs, actions, self.config, episodes=episodes)
                if self.config.eval_episodes > 0 and not self._stop.is_set():
                    ev = evaluate_guide(guide, self.config.eval_episodes, self.config.eval_seed)
                    guide = guide.with_evaluation(ev)
                with self._lock:
                    self._guide = guide
                    self._stats.version += 1
                    self._stats.last_train_seconds = time.perf_counter() - t0
                    self._stats.success_rate = guide.success_rate
                    if not self._pending or self._stop.is_set():
                        self._stats.training = False
                        self._idle.set()
                        return
        except BaseException as e:  # kept and re-raised in the caller's thread
            with self._lock:
                self._error = e
                self._stats.error = f"{type(e).__name__}: {e}"
        with self._lock:
            self._stats.training = False
            self._idle.set()

    def latest(self) -> tuple[int, ImitationGuide | None]:
        """The newest guide and its version (0, None before the first round ends)."""
        with self._lock:
            return self._stats.version, self._guide

    def stats(self) -> TrainerStats:
        """A copy of the trainer's counters."""
        with self._lock:
            return dataclasses.replace(self._stats)

    @property
    def error(self) -> BaseException | None:
        """The worker's error, or None."""
        return self._error

    def raise_if_failed(self) -> None:
        """Re-raise the worker's error in the caller's thread."""
        if self._error is not None:
            raise RuntimeError(f"imitation trainer failed: {self._stats.error}") from self._error

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no round runs (True) or ``timeout`` passes (False)."""
        done = self._idle.wait(timeout)
        self.raise_if_failed()
        return done

    def stop(self, timeout: float | None = None) -> None:
        """Ask the worker to stop after its current round and wait for it."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


def _lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's niceness by ``nice`` (Linux: niceness is per thread)."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))


def _build(argument: str | None, env: Any, seed: int) -> ImitationGuide:
    """Factory builder for ``imitation:DATASET`` (the same guide for every run seed)."""
    del env, seed
    return build_imitation_guide(f"{IMITATION_PREFIX}{argument or ''}")


def _register() -> None:
    from guides.factory import register

    register("imitation", _build, "imitation:DATASET (behaviour cloning on its guide/human steps)")


_register()
