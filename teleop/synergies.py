"""Finger synergies: one grasp level in [0, 1] to the 22 finger joint targets of the hand.

The Adroit hand's palm faces down at rest (world -z); positive flexion (``*J2``, ``*J1``,
``*J0``) curls a finger toward the palm and positive ``THJ4`` swings the thumb under the palm,
opposite the fingers. Grasp 0 is the open hand (all zeros, the rest pose); grasp 1 is a power
grasp with the thumb opposed. Targets for a closed grasp sit past where a bar stops the
fingers, so the weak finger servos (kp 1) squeeze it rather than just touch it.
"""

from __future__ import annotations

import numpy as np

FINGER_JOINTS: tuple[str, ...] = (
    "FFJ3", "FFJ2", "FFJ1", "FFJ0",
    "MFJ3", "MFJ2", "MFJ1", "MFJ0",
    "RFJ3", "RFJ2", "RFJ1", "RFJ0",
    "LFJ4", "LFJ3", "LFJ2", "LFJ1", "LFJ0",
    "THJ4", "THJ3", "THJ2", "THJ1", "THJ0",
)  # fmt: skip
"""Finger joint names in qpos / action order (qpos and action indices 6 to 27)."""

FIRST_FINGER_INDEX = 6
"""Index of the first finger joint in qpos and in the 28-D action."""

_POWER_GRASP: dict[str, float] = {
    # Four fingers: knuckles curled, no spread; the little finger's metacarpal cups a bit.
    **{f"{f}J2": 1.50 for f in ("FF", "MF", "RF", "LF")},
    **{f"{f}J1": 1.45 for f in ("FF", "MF", "RF", "LF")},
    **{f"{f}J0": 1.20 for f in ("FF", "MF", "RF", "LF")},
    "LFJ4": 0.35,
    # Thumb: rotated under the palm (opposed), flexed toward the fingers.
    "THJ4": 0.90,
    "THJ3": 1.10,
    "THJ2": 0.15,
    "THJ1": 0.45,
    "THJ0": -0.60,
}

OPEN_HAND = np.zeros(len(FINGER_JOINTS))
"""Finger joint targets (rad) of grasp level 0: the flat rest pose."""

POWER_GRASP = np.array([_POWER_GRASP.get(name, 0.0) for name in FINGER_JOINTS])
"""Finger joint targets (rad) of grasp level 1: a power grasp, thumb opposed."""


def finger_targets(grasp: float) -> np.ndarray:
    """Return the 22 finger joint targets (rad) for a grasp level.

    The thumb swings into opposition over the first half of the range and the fingers curl
    linearly, so a half grasp is a pre-shaped, opposed hand that still clears a bar.

    Args:
        grasp: Grasp level in [0, 1] (values outside are clipped).

    """
    g = float(np.clip(grasp, 0.0, 1.0))
    weights = np.full(len(FINGER_JOINTS), g)
    weights[FINGER_JOINTS.index("THJ4")] = min(1.0, 2.0 * g)
    return OPEN_HAND + weights * (POWER_GRASP - OPEN_HAND)
