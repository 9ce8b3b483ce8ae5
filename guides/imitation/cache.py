"""The imitation guide's cache: ``DATASET/imitation_cache.pt``, keyed on the dataset.

One file per dataset holds up to :data:`MAX_CACHE_ENTRIES` trained policies, each under a key
of its training settings; the whole file is tied to the dataset's fingerprint
(:func:`guides.imitation.data.dataset_fingerprint`): a changed dataset is a cache miss.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from guides.imitation.guide import GuideEvaluation, ImitationConfig, ImitationGuide, ImitationInfo

CACHE_FILE = "imitation_cache.pt"
"""The cache file, next to the dataset's ``data/`` folder."""
CACHE_FORMAT = "jumpstart-teleop/imitation-cache"
"""Tag stored in every cache file."""
CACHE_VERSION = 2
"""Bumped when the cache layout or the training changes incompatibly."""
MAX_CACHE_ENTRIES = 4
"""Trained policies kept per dataset fingerprint (one per distinct training setting)."""


def config_key(config: ImitationConfig) -> str:
    """The cache key of ``config``'s training settings (and the cache version)."""
    text = json.dumps([CACHE_VERSION, config.training_key()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(dataset: Path) -> Path:
    """Where the imitation cache of ``dataset`` lives."""
    return Path(dataset) / CACHE_FILE


def read_cache(path: Path, fingerprint: str) -> dict[str, Any]:
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


def write_cache(path: Path, fingerprint: str, entries: dict[str, Any]) -> bool:
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


def cache_entry(guide: ImitationGuide) -> dict[str, Any]:
    """``guide`` as a cache entry (tensors and plain values, for ``torch.save``)."""
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


def guide_from_entry(entry: dict[str, Any], source: str) -> ImitationGuide:
    """The guide a cache entry holds (``source`` names its dataset)."""
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
