"""``imitation:DATASET``: the imitation guide of a dataset, from its cache or trained now."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from episode.guide import GuideError
from guides.imitation.cache import (
    cache_entry,
    cache_path,
    config_key,
    guide_from_entry,
    read_cache,
    write_cache,
)
from guides.imitation.data import dataset_fingerprint, read_demos
from guides.imitation.fit import evaluate_guide, train_imitation
from guides.imitation.guide import IMITATION_PREFIX, ImitationConfig, ImitationGuide, describe


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
    key, path = config_key(cfg), cache_path(dataset)
    entries = read_cache(path, fingerprint) if use_cache else {}
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
        entries[key] = cache_entry(guide)
        write_cache(path, fingerprint, entries)
    return guide


def _cached_guide(entry: dict[str, Any] | None, source: str) -> ImitationGuide | None:
    if entry is None:
        return None
    try:
        return guide_from_entry(entry, source)
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


def build_imitation_guide(
    dataset: str | None, *, config: ImitationConfig | None = None, quiet: bool = False
) -> ImitationGuide:
    """The guide of ``imitation:DATASET``, with its one-line report on stderr.

    Args:
        dataset: The spec's argument, the dataset directory (None or empty: an error).
        config: What to clone and how; defaults to :class:`ImitationConfig`.
        quiet: No progress bars and no report.

    Raises:
        GuideError: No dataset named, or :func:`load_imitation_guide` fails.

    """
    if not dataset:
        spec = f"{IMITATION_PREFIX}{dataset or ''}"
        raise GuideError(f"imitation guide spec must be imitation:DATASET, got {spec!r}")
    guide = load_imitation_guide(dataset, config, progress=not quiet)
    if not quiet:
        print(describe(guide), file=sys.stderr)
    return guide


def build(argument: str | None, env: Any, seed: int) -> ImitationGuide:
    """Registry builder for ``imitation:DATASET`` (the same guide for every run seed)."""
    del env, seed
    return build_imitation_guide(argument)
