"""A saved explorer as the guide of a new run: ``--guide policy:CKPT``.

``CKPT`` is a checkpoint file or a run directory (its newest checkpoint), in the format of
:mod:`learner.checkpoint`, which also loads it. The guide acts deterministically (the mean of
the squashed Gaussian), so two runs with the same checkpoint see the same guide.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from episode.guide import GuideError
from sim.door import ACT_DIM, OBS_DIM
from sim.errors import UserError

if TYPE_CHECKING:
    from learner.explorer import CommandExplorer, Explorer


class PolicyGuide:
    """Acts with a checkpoint's explorer, deterministically.

    Args:
        explorer: The loaded explorer (``learner.checkpoint.load_explorer``).
        source: Where it came from (the checkpoint file), for messages and the HUD.

    """

    kind = "policy"

    def __init__(self, explorer: Explorer | CommandExplorer, source: Path) -> None:
        self.explorer = explorer
        self.source = Path(source)
        self._previous: np.ndarray | None = None

    @property
    def weight_version(self) -> int:
        """The weight version stored in the checkpoint."""
        return int(self.explorer.version)

    def reset(self, obs: np.ndarray) -> None:
        """Start an episode: a Command-space policy's mapper holds the pose in ``obs``."""
        take_over = getattr(self.explorer, "take_over", None)
        if take_over is not None:
            take_over(obs, None)
        self._previous = None

    @property
    def command_vector(self) -> np.ndarray | None:
        """The Command of the last step, for a Command-space policy (None for a 28-D one)."""
        return getattr(self.explorer, "command_vector", None)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Return the explorer's deterministic action for ``obs`` (float32, (28,)).

        A policy that sees rates gets them since the observation it acted on last.
        """
        previous, self._previous = self._previous, np.asarray(obs, dtype=np.float32)
        action = self.explorer.act(obs, deterministic=True, previous=previous)
        return np.asarray(action, dtype=np.float32)


def load_policy_guide(checkpoint: Path | str, *, seed: int = 0) -> PolicyGuide:
    """Load the explorer of ``checkpoint`` (a file or a run directory) as a guide.

    Raises:
        GuideError: The checkpoint is missing, unreadable, or for another task.

    """
    from learner.checkpoint import load_explorer, resolve_checkpoint

    if not str(checkpoint):
        raise GuideError("policy guide needs a checkpoint: --guide policy:RUN_DIR_OR_FILE.pt")
    path = Path(checkpoint).expanduser()
    try:
        resolved = resolve_checkpoint(path)
        explorer = load_explorer(resolved, obs_dim=OBS_DIM, act_dim=ACT_DIM, seed=seed)
    except GuideError:
        raise
    except UserError as e:
        raise GuideError(f"policy guide: {e}") from None
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise GuideError(
            f"policy guide: {path} is a checkpoint but its explorer cannot be loaded "
            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
        ) from None
    return PolicyGuide(explorer, resolved)


def build(argument: str | None, env: Any, seed: int) -> PolicyGuide:
    """Registry builder for ``policy:CKPT`` (no ``env`` needed: the checkpoint has the sizes)."""
    del env
    if not argument:
        raise GuideError("policy guide needs a checkpoint: --guide policy:RUN_DIR_OR_FILE.pt")
    return load_policy_guide(argument, seed=seed)
