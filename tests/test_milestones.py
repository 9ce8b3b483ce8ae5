"""Task milestones read from the observation: the scripted expert reaches them in order."""

import numpy as np
import pytest

import sim
from episode.milestones import HELD, MILESTONES, MilestoneTracker, reached, stuck_at
from episode.runner import EpisodeRunner
from episode.types import EpisodeResult
from guides.registry import make_guide
from learner.metrics import (
    EVAL_FIELDS,
    MetricsLog,
    describe_failures,
    format_failures,
    read_csv,
    summarize,
)
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
    assert stuck_at(res.milestones) == "reach"


def test_stuck_at_names_the_first_milestone_never_reached():
    assert stuck_at((3, 9, 30, None, None)) == "swing"  # unlatched, never pulled past 0.4 rad
    assert stuck_at((3, 9, None, 40, None)) == "unlatch"  # the first gap counts
    assert stuck_at((3, 9, 30, 40, 90)) == HELD  # opened: failed only by not holding it
    with pytest.raises(ValueError, match="expected 5 milestone steps, got 2"):
        stuck_at((1, 2))


def test_an_evaluation_counts_its_failures_by_where_they_stopped():
    def result(success, milestones):
        first = milestones[-1] if success else None
        return EpisodeResult(
            seed=0, h=0, steps=200, episode_return=-100.0 if success else -200.0,
            success=success, first_success_step=first, n_guide=0, n_explorer=200, n_human=0,
            guide_kind="none", weight_version=1, milestones=milestones,
        )  # fmt: skip

    results = [
        result(True, (3, 9, 30, 40, 90)),
        result(False, (3, 9, 30, 40, None)),
        result(False, (3, 9, None, None, None)),
        result(False, (3, 9, 30, 40, None)),
        result(False, (3, 9, 30, 40, 190)),  # opened at the very end: not for 25 steps
        result(False, ()),  # no milestone data (an older result): not counted
    ]
    failed_at = summarize(results, horizon=0).failed_at
    assert failed_at == {"unlatch": 1, "open": 2, HELD: 1}
    assert list(failed_at) == ["unlatch", "open", HELD]  # in the order an episode goes
    line = describe_failures(failed_at)
    assert line.startswith("1 turned the lever, never unlatched; 2 swung the door, never opened")
    assert describe_failures(summarize(results[:1], horizon=0).failed_at) == "none"


def test_an_evals_csv_from_before_a_column_gets_it_and_keeps_its_rows(tmp_path):
    old = [f for f in EVAL_FIELDS if f != "failed_at"]
    path = tmp_path / "evals.csv"
    path.write_text(",".join(old) + "\n" + ",".join("1" for _ in old) + "\n")
    log = MetricsLog(tmp_path, tensorboard=False)
    log.log_eval({"env_steps": 2, "success_rate": 0.5, "failed_at": format_failures({"swing": 3})})
    rows = read_csv(path)
    assert list(rows[0]) == list(EVAL_FIELDS)
    assert rows[0]["success_rate"] == "1" and rows[0]["failed_at"] == ""  # kept; new column empty
    assert rows[1]["env_steps"] == "2" and rows[1]["failed_at"] == "swing=3"
