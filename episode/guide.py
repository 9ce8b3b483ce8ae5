"""The ``Guide`` protocol: ``reset(obs)`` at episode start, ``act(obs) -> action`` each step."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from sim.errors import UserError


class GuideError(UserError):
    """A guide could not be built or gave something that is not an action."""


@runtime_checkable
class Guide(Protocol):
    """Acts for the first ``h`` steps of an episode.

    ``kind`` names the guide in recordings and the HUD: ``human``, ``scripted``,
    ``imitation``, ``policy`` or ``user``.
    """

    kind: str

    def reset(self, obs: np.ndarray) -> None:
        """Start a new episode from its first observation."""
        ...

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Return a (28,) action for ``obs``; the sanitizer checks it before the env sees it."""
        ...
