"""The one episode runner: handover exactly at h, interventions, recorder and replay get it all."""

import numpy as np
import pytest

import sim
from episode.runner import EpisodeRunner
from episode.types import Actor
from learner.replay import ReplayBuffer
from recordings.reader import iter_episodes, load_transitions
from recordings.writer import DatasetWriter

GUIDE_A, EXPLORER_A, HUMAN_A = -0.25, 0.5, 0.75


class ConstGuide:
    """A guide that always gives the same action (and counts its resets)."""

    kind = "test"

    def __init__(self, value=GUIDE_A):
        self.value, self.resets = value, 0

    def reset(self, obs):
        assert obs.shape == (sim.OBS_DIM,)
        self.resets += 1

    def act(self, obs):
        return np.full(sim.ACT_DIM, self.value, np.float32)


class ConstExplorer:
    version = 7

    def __init__(self):
        self.deterministic_calls = 0

    def act(self, obs, deterministic=False):
        self.deterministic_calls += deterministic
        return np.full(sim.ACT_DIM, EXPLORER_A, np.float32)


class BadGuide(ConstGuide):
    """Gives NaN at step 3 and out-of-range values at step 5."""

    def reset(self, obs):
        self.t = 0

    def act(self, obs):
        a = np.full(sim.ACT_DIM, 0.1 * (self.t + 1), np.float32)
        if self.t == 3:
            a[4] = np.nan
        if self.t == 5:
            a[:] = 3.0
        self.t += 1
        return a


@pytest.fixture(scope="module")
def env():
    return sim.make_door()


@pytest.mark.parametrize("h", [0, 1, 37, 200])
def test_handover_happens_exactly_at_step_h(env, h):
    guide, explorer = ConstGuide(), ConstExplorer()
    runner = EpisodeRunner(env, guide, explorer)
    runner.reset(seed=1, h=h)
    actors = []
    while not runner.done:
        expected = runner.next_actor
        tr = runner.step()
        assert tr.actor == expected and tr.h == h and tr.t == len(actors)
        actors.append(tr.actor)
        value = GUIDE_A if tr.actor == Actor.GUIDE else EXPLORER_A
        np.testing.assert_array_equal(tr.action, np.full(sim.ACT_DIM, value, np.float32))
    assert actors == [Actor.GUIDE] * h + [Actor.EXPLORER] * (sim.EPISODE_STEPS - h)
    res = runner.result()
    assert (res.n_guide, res.n_explorer, res.n_human) == (h, sim.EPISODE_STEPS - h, 0)
    assert res.steps == sim.EPISODE_STEPS and res.h == h and res.weight_version == 7
    assert guide.resets == 1 and res.guide_kind == "test"


def test_interventions_are_tagged_human_and_counted(env):
    runner = EpisodeRunner(env, ConstGuide(), ConstExplorer())
    runner.reset(seed=2, h=10)
    human = np.full(sim.ACT_DIM, HUMAN_A, np.float32)
    take_over = {3, 4, 50}
    for t in range(sim.EPISODE_STEPS):
        tr = runner.step(human if t in take_over else None)
        if t in take_over:
            assert tr.actor == Actor.HUMAN
            np.testing.assert_array_equal(tr.action, human)
        else:
            assert tr.actor == (Actor.GUIDE if t < 10 else Actor.EXPLORER)
    res = runner.result()
    assert (res.n_guide, res.n_human, res.n_explorer) == (8, 3, 189)
    with pytest.raises(RuntimeError, match="reset"):
        runner.step()


def test_recorder_and_replay_receive_every_transition(env, tmp_path):
    dataset = tmp_path / "door-test-v0"
    replay = ReplayBuffer(1000, sim.OBS_DIM, sim.ACT_DIM)
    human = np.full(sim.ACT_DIM, HUMAN_A, np.float32)
    with DatasetWriter(dataset) as writer:
        runner = EpisodeRunner(env, ConstGuide(), ConstExplorer(), recorder=writer, replay=replay)
        runner.reset(seed=3, h=25)
        seen = []
        while not runner.done:
            seen.append(runner.step(human if runner.t == 30 else None))
        first = runner.result()
        runner.reset(seed=4, h=120)
        for _ in range(40):  # an unfinished episode: reset() keeps its steps
            seen.append(runner.step())
        runner.reset(seed=5, h=0)
        runner.finish()  # an episode with no steps is not stored
    assert first.steps == 200 and len(seen) == 240 and len(replay) == 240

    data = load_transitions(dataset)
    assert len(data["rewards"]) == 240
    np.testing.assert_array_equal(data["actor"], [int(t.actor) for t in seen])
    np.testing.assert_array_equal(data["h"], [t.h for t in seen])
    np.testing.assert_array_equal(data["actions"], np.stack([t.action for t in seen]))
    np.testing.assert_array_equal(data["next_obs"], np.stack([t.next_obs for t in seen]))
    assert data["actor"][30] == Actor.HUMAN
    episodes = list(iter_episodes(dataset))
    assert [len(e) for e in episodes] == [200, 40]
    assert [e.attrs["h"] for e in episodes] == [25, 120]
    assert episodes[1].truncations[-1]  # ended by the caller: stored as truncated
    assert episodes[0].attrs["weight_version"] == 7

    stored = replay.arrays()
    np.testing.assert_array_equal(stored["obs"], np.stack([t.obs for t in seen]))
    np.testing.assert_array_equal(stored["actions"], data["actions"])
    np.testing.assert_array_equal(stored["rewards"], [t.reward for t in seen])


def test_every_action_is_sanitized(env):
    runner = EpisodeRunner(env, BadGuide(), None)
    runner.reset(seed=0, h=10)
    trs = [runner.step() for _ in range(7)]
    np.testing.assert_array_equal(trs[3].action, trs[2].action)  # NaN: last good action held
    assert np.all(trs[5].action == 1.0)  # clipped into [-1, 1]
    assert runner.sanitizer.rejected == 1 and runner.sanitizer.clipped == 1
    with pytest.raises(Exception, match=r"shape \(28,\)"):
        runner.step(np.zeros(3))


def test_no_explorer_means_the_guide_acts_throughout_and_eval_is_deterministic(env):
    runner = EpisodeRunner(env, ConstGuide(), None)
    res = runner.run_episode(seed=0, h=5)
    assert (res.n_guide, res.n_explorer) == (200, 0) and not res.success
    assert res.episode_return == -200.0 and res.normalized_score == 0.0
    explorer = ConstExplorer()
    det = EpisodeRunner(env, ConstGuide(), explorer, explorer_deterministic=True)
    det.run_episode(seed=0, h=150)
    assert explorer.deterministic_calls == 50


def test_success_and_first_success_step_follow_the_door(env):
    """Open the door by hand mid-episode: success, steps to open and return agree."""
    runner = EpisodeRunner(env, ConstGuide(0.0), None)
    runner.reset(seed=0, h=200)
    for _ in range(9):
        assert not runner.step().success
    u = env.unwrapped
    u.data.qpos[u.door_hinge_addrs] = 1.5
    tr = runner.step()
    assert tr.success and tr.reward == 0.0
    res = runner.finish()
    assert res.success and res.first_success_step == 10 and res.episode_return == -9.0
    assert res.open_at_end

    runner.reset(seed=0, h=200)  # opened, then shut again: a success, but not open at the end
    u.data.qpos[u.door_hinge_addrs] = 1.5
    assert runner.step().success
    u.data.qpos[u.door_hinge_addrs] = 0.0
    assert not runner.step().success
    res = runner.finish()
    assert res.success and not res.open_at_end and res.first_success_step == 1
