"""Global RNG states (torch, numpy, Python) as checkpoint-friendly values, and back."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def rng_states() -> dict[str, Any]:
    """The process-wide torch, numpy and Python RNG states (``weights_only``-loadable)."""
    return {
        "torch": torch.get_rng_state(),
        "numpy": _np_global_state(),
        "python": random.getstate(),
    }


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore what :func:`rng_states` returned (missing parts are left as they are)."""
    if "torch" in states:
        torch.set_rng_state(states["torch"])
    if "numpy" in states:
        s = states["numpy"]
        keys = s["keys"].numpy().astype(np.uint32)
        np.random.set_state((s["name"], keys, s["pos"], s["has_gauss"], s["cached"]))
    if "python" in states:
        random.setstate(_as_tuple(states["python"]))


def _np_global_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    assert not isinstance(keys, str)
    return {
        "name": name,
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached": float(cached),
    }


def _as_tuple(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_as_tuple(v) for v in value)
    return value


__all__ = ["rng_states", "set_rng_states"]
