"""Task milestones read from the observation: the scripted expert reaches them in order."""

import numpy as np
import pytest

import sim
from episode.milestones import MILESTONES, MilestoneTracker, reached
from episode.runner import EpisodeRunner
from guides.registry import make_guide
from sim.door import OBS_HINGE, OBS_LATCH, OBS_PALM_TO_HANDLE, SUCCESS_HINGE_ANGLE


@pytest.fixture(scope="module")
def env():
    return sim.make_door()


def obs_with(distance=1.0, latch=0.0, hinge=0.0):
    obs = np.zeros(sim.OBS_DIM, np.float32)
    obs[OBS_PALM_TO_HANDLE] = (distance, 0.0, 0.0)
    obs[OBS_LATCH], obs[OBS_HINGE] = latch, hinge
    return obs


def test_milestones_are_read_from_the_observation():
    assert MILESTONES == ("reach", "turn", "unlatch", "swing", "open")
    assert reached(obs_with()) == (False,) * 5
    assert reached(obs_with(distance=0.01)) == (True, False, False, False, False)
    assert reached(obs_with(latch=0.5)) == (False, True, False, False, False)
    assert reached(obs_with(latch=1.5, hinge=0.5)) == (False, True, True, True, False)
    assert reached(obs_with(hinge=SUCCESS_HINGE_ANGLE))[4]


def test_tracker_keeps_the_first_step_of_each_milestone():
    tracker = MilestoneTracker()
    tracker.observe(1, obs_with())
    tracker.observe(2, obs_with(distance=0.01))
    tracker.observe(3, obs_with(distance=1.0, latch=0.5))  # reach lost again: stays at 2
    tracker.observe(4, obs_with(distance=0.01, latch=0.5))
    assert tracker.first == [2, 3, None, None, None]
    tracker.reset()
    assert tracker.first == [None] * len(MILESTONES)


def test_the_scripted_expert_reaches_the_milestones_in_order(env):
    runner = EpisodeRunner(env, make_guide("scripted", env, seed=0), None)
    for seed in range(3):
        res = runner.run_episode(seed=seed, h=sim.EPISODE_STEPS)
        steps = res.milestones
        assert len(steps) == len(MILESTONES) and all(s is not None for s in steps), steps
        assert list(steps) == sorted(steps), steps  # reach <= turn <= unlatch <= swing <= open
        assert steps[0] < steps[1] < steps[2] < steps[3], steps  # distinct phases
        assert steps[-1] == res.first_success_step  # "open" is the door counting as open
        assert res.success and res.open_steps >= sim.SUCCESS_OPEN_STEPS


def test_a_hand_that_never_moves_reaches_no_milestone(env):
    class Still:
        kind = "still"

        def reset(self, obs):
            pass

        def act(self, obs):
            return np.zeros(sim.ACT_DIM, np.float32)

    res = EpisodeRunner(env, Still(), None).run_episode(seed=0, h=sim.EPISODE_STEPS)
    assert res.milestones == (None,) * len(MILESTONES)
    assert not res.success and not res.ever_opened and res.open_steps == 0
