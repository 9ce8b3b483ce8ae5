"""The one episode runner: handover exactly at h, interventions, recorder and replay get it all."""

import logging
import time

import numpy as np
import pytest

import sim
from episode.runner import EpisodeRunner
from episode.types import Actor
from guides.registry import make_guide
from learner.config import SACConfig
from learner.explorer import CommandExplorer, Explorer
from learner.replay import EpisodeReplay, ReplayBuffer
from recordings.reader import iter_episodes, load_transitions
from recordings.writer import DatasetWriter
from teleop.command_space import COMMAND_DIM, CommandController, CommandLabeler
from teleop.mapper import CommandMapper

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


class LoggingReplay:
    """The runner's Replay protocol, logging its calls (``add`` per step, ``end_episode``)."""

    def __init__(self):
        self.calls = []

    def add(self, transition):
        self.calls.append(("add", transition.t))

    def end_episode(self):
        self.calls.append(("end", None))

    def discard_episode(self):
        self.calls.append(("discard", None))


class TakeOverExplorer(ConstExplorer):
    """Logs every ``take_over(obs, previous)`` the runner makes."""

    def __init__(self):
        super().__init__()
        self.take_overs = []

    def take_over(self, obs, previous):
        self.take_overs.append(previous)


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
    buffer = ReplayBuffer(1000, sim.OBS_DIM, sim.ACT_DIM)
    replay = EpisodeReplay(buffer, "joint")
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
    assert first.steps == 200 and len(seen) == 240 and len(buffer) == 240
    assert buffer.episodes_added == 2  # whole episodes: the cut one too, the empty one not

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

    stored = buffer.arrays()
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


def test_success_is_the_door_open_for_25_steps(env):
    """Open the door by hand mid-episode: D4RL's rule needs it open for >= 25 steps."""
    runner = EpisodeRunner(env, ConstGuide(0.0), None)
    u = env.unwrapped
    runner.reset(seed=0, h=200)
    for _ in range(9):
        assert not runner.step().success
    u.data.qpos[u.door_hinge_addrs] = 1.5
    tr = runner.step()
    assert tr.success and tr.reward == 0.0
    res = runner.finish()  # open after 1 step only: opened, but no success
    assert res.ever_opened and not res.success and res.open_steps == 1
    assert res.first_success_step == 10 and res.episode_return == -9.0 and res.open_at_end

    for open_for, success in ((24, False), (25, True)):
        runner.reset(seed=0, h=200)
        for _ in range(open_for):
            u.data.qpos[u.door_hinge_addrs] = 1.5
            assert runner.step().success
        u.data.qpos[u.door_hinge_addrs] = 0.0
        assert not runner.step().success  # shut again: the open steps still count
        res = runner.finish()
        assert res.open_steps == open_for and res.success is success
        assert res.ever_opened and not res.open_at_end and res.first_success_step == 1
        assert res.success == sim.episode_success(open_for)


def test_reset_deterministic_reaches_the_explorer_for_that_episode_only(env):
    explorer = ConstExplorer()
    runner = EpisodeRunner(env, ConstGuide(), explorer)
    res = runner.run_episode(seed=0, h=190, deterministic=True)
    assert explorer.deterministic_calls == 10 and res.deterministic
    res = runner.run_episode(seed=0, h=190)  # back to the runner's default: stochastic
    assert explorer.deterministic_calls == 10 and not res.deterministic
    runner.reset(seed=0, h=195, deterministic=True)
    while not runner.done:
        runner.step()
    assert explorer.deterministic_calls == 15 and runner.result().deterministic
    # An episode the guide acted alone still ran as asked (a curriculum trial at h = 200).
    assert runner.run_episode(seed=0, h=200, deterministic=True).deterministic


def test_replay_gets_one_add_per_step_and_one_end_per_episode(env):
    replay = LoggingReplay()
    runner = EpisodeRunner(env, ConstGuide(), ConstExplorer(), replay=replay)
    runner.run_episode(seed=0, h=50)
    assert replay.calls == [("add", t) for t in range(200)] + [("end", None)]
    replay.calls.clear()
    runner.reset(seed=1, h=10)
    for _ in range(3):
        runner.step()
    runner.reset(seed=2, h=10)  # the unfinished episode is ended first
    assert replay.calls == [("add", 0), ("add", 1), ("add", 2), ("end", None)]
    runner.step()
    runner.finish()
    assert replay.calls[-2:] == [("add", 0), ("end", None)]


def test_explorer_take_over_is_called_at_each_takeover(env):
    guide, explorer = ConstGuide(), TakeOverExplorer()
    runner = EpisodeRunner(env, guide, explorer)
    runner.run_episode(seed=0, h=20)
    assert explorer.take_overs == [guide]  # once, at the handover, from the guide
    runner.reset(seed=0, h=0)
    human = np.full(sim.ACT_DIM, HUMAN_A, np.float32)
    for t in range(10):
        runner.step(human if t in (4, 5) else None)
    assert explorer.take_overs == [guide, None, None]  # at t = 0 and after the human


def test_a_command_guides_commands_are_recorded_and_a_28d_guides_labelled(env, tmp_path):
    guide = make_guide("scripted", env, seed=0)
    runner = EpisodeRunner(env, guide, None)
    runner.reset(seed=0, h=200)
    for _ in range(30):
        tr = runner.step()
        assert tr.command is not None and tr.command.shape == (COMMAND_DIM,)
        np.testing.assert_array_equal(tr.command, guide.command_vector)

    plain = EpisodeRunner(env, ConstGuide(), None)  # a 28-D guide, no labeller: no Command
    plain.reset(seed=0, h=200)
    assert plain.step().command is None

    labeler = CommandLabeler.for_env(env)
    dataset = tmp_path / "door-labelled-v0"
    buffer = ReplayBuffer(500, sim.OBS_DIM, COMMAND_DIM)
    with DatasetWriter(dataset) as writer:
        labelled = EpisodeRunner(
            env,
            ConstGuide(),
            None,
            recorder=writer,
            replay=EpisodeReplay(buffer, "command"),
            command_labeler=labeler,
        )
        labelled.reset(seed=0, h=200)
        trs = [labelled.step() for _ in range(20)]
        labelled.finish()
    previous = None  # the labeller reads the wrist's target change from the previous action
    for tr in trs:
        assert tr.command.dtype == np.float32 and tr.command.shape == (COMMAND_DIM,)
        expected = labeler(tr.obs, tr.action, tr.next_obs, previous)
        np.testing.assert_array_equal(tr.command, expected)
        previous = tr.action
    np.testing.assert_array_equal(buffer.arrays()["actions"], np.stack([t.command for t in trs]))
    (episode,) = list(iter_episodes(dataset))
    stored = episode.infos["command"]  # (T + 1, 6): row 0 (before the first step) is NaN
    assert stored.shape == (21, COMMAND_DIM) and np.isnan(stored[0]).all()
    np.testing.assert_array_equal(episode.commands, np.stack([t.command for t in trs]))


def test_an_intervention_records_the_persons_command_over_a_label(env):
    labeler = CommandLabeler.for_env(env)
    runner = EpisodeRunner(env, ConstGuide(), None, command_labeler=labeler)
    runner.reset(seed=0, h=200)
    human = np.full(sim.ACT_DIM, HUMAN_A, np.float32)
    said = np.array([0.5, 0.0, -0.25, 1.0, 0.0, 1.0], np.float64)
    tr = runner.step(human, said)
    assert tr.actor == Actor.HUMAN and tr.command.dtype == np.float32
    np.testing.assert_array_equal(tr.command, said.astype(np.float32))
    unsaid = runner.step(human)  # no Command given: labelled like a 28-D guide's step
    label = labeler(unsaid.obs, human, unsaid.next_obs, tr.action)
    np.testing.assert_array_equal(unsaid.command, label)


def test_a_command_explorer_continues_the_guides_mapper_and_records_its_commands(env):
    guide = make_guide("scripted", env, seed=0)
    policy = Explorer(sim.OBS_DIM, COMMAND_DIM, SACConfig(hidden=16), seed=0)
    explorer = CommandExplorer(policy, CommandController(CommandMapper.for_env(env)))
    buffer = ReplayBuffer(500, sim.OBS_DIM, COMMAND_DIM)
    runner = EpisodeRunner(env, guide, explorer, replay=EpisodeReplay(buffer, "command"))
    runner.reset(seed=0, h=30)
    trs = [runner.step() for _ in range(30)]
    guide_targets = guide.mapper.targets.copy()
    tr = runner.step()  # the handover: the explorer starts from the guide's targets
    assert tr.actor == Actor.EXPLORER
    np.testing.assert_array_equal(tr.command, explorer.command_vector)
    trs.append(tr)
    runner.finish()
    assert not np.array_equal(explorer.controller.mapper.targets, guide_targets)  # it moved on
    np.testing.assert_array_equal(buffer.arrays()["actions"], np.stack([t.command for t in trs]))


def test_a_command_space_replay_rejects_steps_without_a_command(env):
    runner = EpisodeRunner(
        env, ConstGuide(), None, replay=EpisodeReplay(ReplayBuffer(10, 39, 6), "command")
    )
    runner.reset(seed=0, h=200)
    with pytest.raises(ValueError, match="command_labeler"):
        runner.step()


class SlowGuide(ConstGuide):
    def act(self, obs):
        if self.resets and not hasattr(self, "slept"):
            self.slept = True
            time.sleep(0.06)
        return super().act(obs)


def test_a_slow_guide_is_reported_once_per_episode(env, caplog):
    runner = EpisodeRunner(env, SlowGuide(), ConstExplorer())
    runner.slow_guide_s = 0.05
    with caplog.at_level(logging.WARNING, logger="episode.runner"):
        runner.run_episode(0, 10)
    assert runner.slow_guide_actions == 1
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("the test guide took ") and "for one action (step 1)" in line


def test_discard_drops_the_episode_from_recorder_and_replay(env, tmp_path):
    replay = LoggingReplay()
    with DatasetWriter(tmp_path / "door-d-v0") as writer:
        runner = EpisodeRunner(env, ConstGuide(), ConstExplorer(), recorder=writer, replay=replay)
        runner.run_episode(0, 5)
        runner.reset(1, 5)
        for _ in range(3):
            runner.step()
        runner.discard()
    assert replay.calls[-1] == ("discard", None) and runner.done
    assert [e.seed for e in iter_episodes(tmp_path / "door-d-v0")] == [0]
