"""The one gate every action passes before ``env.step``: finite, right shape, in [-1, 1]."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from episode.guide import GuideError
from sim.door import ACT_DIM


@dataclass
class ActionSanitizer:
    """Rejects non-finite actions and clips out-of-range ones, counting both.

    A rejected action (any NaN or inf) is replaced by the last accepted one (zeros before the
    first), so the hand holds its pose rather than jumping. A wrong shape is a programming
    error in the guide and raises :class:`GuideError` at once.
    """

    rejected: int = 0
    """Actions with a NaN or inf entry, replaced by the last good action."""
    clipped: int = 0
    """Actions with an entry outside [-1, 1], clipped into it."""
    _last: np.ndarray = field(default_factory=lambda: np.zeros(ACT_DIM, dtype=np.float32))

    def __call__(self, action: object) -> np.ndarray:
        """Return a safe float32 (28,) copy of ``action``."""
        a = np.asarray(action, dtype=np.float32).reshape(-1) if _is_numeric(action) else None
        if a is None or a.shape != (ACT_DIM,):
            shape = getattr(action, "shape", type(action).__name__)
            raise GuideError(f"guide action must have shape ({ACT_DIM},), got {shape}")
        if not np.all(np.isfinite(a)):
            self.rejected += 1
            return self._last.copy()
        if np.any(np.abs(a) > 1.0):
            self.clipped += 1
            a = np.clip(a, -1.0, 1.0)
        self._last = a
        return a.copy()

    def reset(self) -> None:
        """Forget the last action (call at episode start); counts are kept."""
        self._last = np.zeros(ACT_DIM, dtype=np.float32)


def _is_numeric(action: object) -> bool:
    try:
        arr = np.asarray(action)
    except (TypeError, ValueError):
        return False
    return arr.dtype.kind in "biuf" and arr.ndim <= 2
