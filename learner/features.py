"""What the explorer's networks see: the door's observation, and optionally how fast it moves.

The door's 39-D observation has positions only: the hinge and latch angles, the palm and
handle, but no velocity. Whether a door the hand lets go of swings on to 1.35 rad or back,
and whether the latch is still turning, is not in one observation (the scripted guide keeps
the previous one to know). With ``SACConfig.obs_rates`` the actor and critics also get the
rates of change of the latch, the hinge and the palm since the previous observation of the
episode (``(obs - previous) / dt``), computed here, once, for the explorer acting
(:func:`with_rates` on one step) and for the replay (:func:`previous_observations` of whole
episodes). The first observation of an episode (or of a rolled-in start) has rates 0.
Recordings keep the standard 39-D observation: rates are derived, never stored.
"""

from __future__ import annotations

import numpy as np

from sim.door import OBS_HINGE, OBS_LATCH, OBS_PALM

RATE_ENTRIES = np.array([OBS_LATCH, OBS_HINGE, *range(OBS_PALM.start, OBS_PALM.stop)])
"""Observation entries whose rate of change the explorer sees: latch, hinge, palm xyz."""
DOOR_DT = 0.01
"""Seconds between two door observations (the env's ``dt``: 5 MuJoCo steps of 2 ms)."""
RATE_LIMIT = 20.0
"""Rates are clipped to +-this (rad/s, m/s): a contact impulse must not blow up an input."""


def input_dim(obs_dim: int, rates: bool) -> int:
    """Width of the networks' input for an ``obs_dim`` observation, with or without rates."""
    return obs_dim + len(RATE_ENTRIES) if rates else obs_dim


def with_rates(obs: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """``obs`` with the rates of :data:`RATE_ENTRIES` since ``previous`` appended.

    Args:
        obs: Observations ``(..., obs_dim)``.
        previous: The observation before each (same shape); None: rates 0 (an episode's first).

    Returns:
        float32 ``(..., obs_dim + 5)``.

    """
    x = np.asarray(obs, dtype=np.float32)
    before = x if previous is None else np.asarray(previous, dtype=np.float32)
    if before.shape != x.shape:
        raise ValueError(f"previous observation has shape {before.shape}, expected {x.shape}")
    rates = (x[..., RATE_ENTRIES] - before[..., RATE_ENTRIES]) / np.float32(DOOR_DT)
    return np.concatenate([x, np.clip(rates, -RATE_LIMIT, RATE_LIMIT)], axis=-1)


def previous_observations(obs: np.ndarray) -> np.ndarray:
    """For an episode's observations ``(T, obs_dim)`` in step order, the one before each.

    The first step's is itself (rates 0): nothing before it is known.
    """
    x = np.asarray(obs)
    return np.concatenate([x[:1], x[:-1]]) if len(x) else x
