"""The task-frame assist: twist stops once the latch is free, pull follows the door's arc and
lets go as the door will swing open; every resolved Command is plain palm/twist/wrist/grasp."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from guides.assist import HumanAssist
from guides.scripted import UNLATCHED, DoorView
from sim.door import OBS_HINGE, OBS_LATCH
from teleop.command import Command


@pytest.fixture(scope="module")
def obs() -> np.ndarray:
    env = sim.make_door()
    first, _ = env.reset(seed=3)
    env.close()
    return np.asarray(first, dtype=np.float64)


def with_door(obs: np.ndarray, latch: float, hinge: float) -> np.ndarray:
    o = obs.copy()
    o[OBS_LATCH], o[OBS_HINGE] = latch, hinge
    return o


def test_forward_twist_stops_once_the_latch_is_free(obs):
    assist = HumanAssist(dt=0.01)
    assert assist(Command(twist=6.0), with_door(obs, UNLATCHED - 0.1, 0.0)).twist == 6.0
    assert assist(Command(twist=6.0), with_door(obs, UNLATCHED + 0.01, 0.0)).twist == 0.0
    assert assist(Command(twist=-6.0), with_door(obs, UNLATCHED + 0.01, 0.0)).twist == -6.0


def test_a_closed_hand_twisting_follows_the_lever(obs):
    open_hand = HumanAssist(dt=0.01)(Command(twist=6.0, grasp=0.0), obs)
    closed = HumanAssist(dt=0.01)(Command(twist=6.0, grasp=1.0), obs)
    assert open_hand.palm_velocity == (0.0, 0.0, 0.0)
    v = DoorView.from_obs(obs)
    arc = 6.0 * np.cross([0.0, 1.0, 0.0], v.palm - v.latch_axis_point())
    assert np.allclose(closed.palm_velocity, arc)  # the grip is where the palm is: no offset


def test_pull_moves_along_the_doors_arc_and_lets_go_when_it_will_open(obs):
    assist = HumanAssist(dt=0.01)
    pull = Command(grasp=1.0, pull=True)
    first = assist(pull, with_door(obs, 1.3, 0.30))
    v = DoorView.from_obs(with_door(obs, 1.3, 0.30))
    tangent = np.cross([0.0, 0.0, 1.0], v.handle - v.hinge_point())
    assert np.dot(first.palm_velocity, tangent) > 0 and first.grasp == 1.0
    assert not assist.released
    # the door turns fast (0.66 rad in one 10 ms step): it would coast past open, so let go
    fast = assist(pull, with_door(obs, 1.3, 0.36 + 0.6))
    assert fast.grasp == 0.0 and assist.released
    after = assist(pull, with_door(obs, 1.3, 1.0))  # F still held: follow, do not grab again
    assert after.grasp == 0.0 and np.linalg.norm(after.palm_velocity) > 0
    assert not assist.released  # released is news of the one step


def test_pull_with_an_open_hand_does_nothing(obs):
    cmd = HumanAssist(dt=0.01)(Command(grasp=0.0, pull=True), obs)
    assert cmd.palm_velocity == (0.0, 0.0, 0.0) and not cmd.pull
