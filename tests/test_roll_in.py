"""JSRL's roll-in from saved states: replayed from recordings, restored exactly, no guide steps."""

import numpy as np
import pytest

import launch
import sim
from episode.roll_in import RollInStates
from episode.runner import ROLL_IN_KIND, EpisodeRunner
from episode.types import Actor
from guides.registry import make_guide
from learner.config import CurriculumConfig
from learner.metrics import read_csv
from learner.run_dir import TRAIN_DATASET
from learner.starts import RECENT_EPISODES, EpisodeStarts, roll_in_from_datasets
from recordings.reader import iter_episodes
from recordings.writer import DatasetWriter
from tests.test_train_cli import TINY

H = 60


class Replayer:
    """An explorer that plays back recorded 28-D actions by the episode's step."""

    version = 0

    def __init__(self, actions):
        self.actions, self.t = actions, 0

    def act(self, obs, deterministic=False):
        action = self.actions[self.t]
        self.t += 1
        return action


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    """One recorded episode of the expert scripted guide that opens the door (seed 0)."""
    env = sim.make_door()
    dataset = tmp_path_factory.mktemp("rollin") / "door-expert-v0"
    with DatasetWriter(dataset) as writer:
        runner = EpisodeRunner(env, make_guide("scripted", env, seed=0), None, recorder=writer)
        result = runner.run_episode(0, sim.EPISODE_STEPS)
    assert result.success
    (episode,) = iter_episodes(dataset)
    return dataset, episode


def test_an_episode_rolled_in_at_h_continues_the_saved_one_with_no_guide_step(opened):
    dataset, source = opened
    env = sim.make_door()
    states = roll_in_from_datasets(env, [str(dataset)])
    assert len(states) == 1
    start = states.pick(H, np.random.default_rng(0))
    assert start is not None and start.t == H and start.seed == 0
    np.testing.assert_array_equal(start.obs, source.observations[H])

    explorer = Replayer(source.actions)
    explorer.t = H
    guide = make_guide("scripted", env, seed=0)
    runner = EpisodeRunner(env, guide, explorer)
    obs = runner.reset(123, H, start=start)
    np.testing.assert_array_equal(obs, source.observations[H])
    trs = []
    while not runner.done:
        trs.append(runner.step())
    result = runner.result()
    # The physics continues where the source was: the same observations, to the same end.
    assert len(trs) == sim.EPISODE_STEPS - H and trs[-1].truncated
    got = np.stack([tr.next_obs for tr in trs])
    np.testing.assert_allclose(got, source.observations[H + 1 :], atol=1e-4)
    assert all(tr.actor is Actor.EXPLORER for tr in trs) and [trs[0].t, trs[-1].t] == [H, 199]
    assert result.n_guide == 0 and result.n_explorer == result.steps == sim.EPISODE_STEPS - H
    assert result.success and result.seed == 0 and result.guide_kind == ROLL_IN_KIND
    assert result.h == H and result.first_success_step == source.step_success.argmax() + 1


def test_only_successes_that_replay_to_their_observations_are_kept(opened, tmp_path):
    _, source = opened
    env = sim.make_door()
    states = RollInStates()
    bent = source.actions.copy()
    bent[40] = -bent[40]  # another action than the recorded one: the replay departs from it
    assert not states.add_replayed(env, 0, bent, source.observations)
    assert not states.add_replayed(env, 1, source.actions, source.observations)  # other seed
    assert len(states) == 0 and states.pick(H, np.random.default_rng(0)) is None
    assert states.add_replayed(env, 0, source.actions, source.observations)
    assert states.pick(sim.EPISODE_STEPS - 1, np.random.default_rng(0)).t == 199  # one step left
    assert states.pick(sim.EPISODE_STEPS, np.random.default_rng(0)) is None  # nothing left

    failed = tmp_path / "door-failed-v0"
    with DatasetWriter(failed) as writer:  # a guide that never opens the door
        EpisodeRunner(
            env, make_guide("scripted:0", env, seed=0), None, recorder=writer
        ).run_episode(3, sim.EPISODE_STEPS)
    assert not next(iter_episodes(failed)).success
    assert len(roll_in_from_datasets(env, [str(failed)])) == 0


def test_a_start_must_be_at_h_and_needs_an_explorer(opened):
    dataset, source = opened
    env = sim.make_door()
    start = roll_in_from_datasets(env, [str(dataset)]).pick(H, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"start\.t >= h"):
        EpisodeRunner(env, make_guide("scripted", env), Replayer(source.actions)).reset(
            0, H + 1, start=start
        )
    with pytest.raises(ValueError, match="needs an explorer"):
        EpisodeRunner(env, make_guide("scripted", env), None).reset(0, H, start=start)
    with pytest.raises(ValueError, match="t must be in"):
        sim.door.restore(env, start.state, t=sim.EPISODE_STEPS)


def test_train_with_roll_in_starts_guided_episodes_from_saved_states(tmp_path):
    run = tmp_path / "r"
    assert launch.main(["train", "--run-dir", str(run), *TINY, "--steps", "800",
                        "--curriculum.roll-in"]) == 0  # fmt: skip
    rows = read_csv(run / "metrics" / "episodes.csv")
    guided = [r for r in rows if 0 < int(r["h"]) < sim.EPISODE_STEPS]
    assert guided, "the curriculum gave no guided episode"
    for r in guided:  # no guide step: the explorer acts from the saved state at h to the end
        assert int(r["n_guide"]) == 0
        assert int(r["n_explorer"]) == sim.EPISODE_STEPS - int(r["h"])
    steps = np.cumsum([int(r["n_explorer"]) + int(r["n_guide"]) for r in rows])
    assert [int(r["env_steps"]) for r in rows] == steps.tolist()
    recorded = list(iter_episodes(run / TRAIN_DATASET))
    rolled = [e for e in recorded if e.guide_kind == ROLL_IN_KIND]
    assert len(rolled) == len(guided)
    assert all(len(e) == sim.EPISODE_STEPS - e.h for e in rolled)


def test_roll_in_with_ray_workers_is_refused_in_one_line(tmp_path, capsys):
    args = ["train", "--run-dir", str(tmp_path / "r"), "--no-progress", "--curriculum.roll-in"]
    code = launch.main([*args, "--workers", "2"])
    err = capsys.readouterr().err
    assert code == 2 and "--curriculum.roll-in" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


class Idle:
    """An explorer that holds the hand still: every episode of it fails."""

    version = 0

    def act(self, obs, deterministic=False):
        return np.zeros(sim.ACT_DIM, np.float32)


def play(starts, runner, seed, h=0, trial=False):
    """One episode as the session plays it: plan, reset, tape every state, end."""
    start = starts.plan(h, trial, seed)
    obs = runner.reset(seed, h, deterministic=trial, start=start)
    starts.begin(runner.env, obs, h, trial, start, runner.result().seed)
    while not runner.done:
        tr = runner.step()
        starts.observe(runner.env, tr.next_obs)
    result = runner.result()
    starts.end(result)
    return start, result


def test_a_failed_explorer_episode_is_retried_from_its_own_states():
    env = sim.make_door()
    cfg = CurriculumConfig(retry_failures=1.0, retry_from=60, retry_until=140)
    starts = EpisodeStarts(cfg, None)
    runner = EpisodeRunner(env, make_guide("scripted", env), Idle())
    start, failed = play(starts, runner, seed=7)
    assert start is None and not failed.success and len(starts.failures) == 1
    for seed in range(20):
        start, result = play(starts, runner, seed=100 + seed)
        assert start is not None and 60 <= start.t <= 140 and start.seed == 7  # the failure's
        assert result.steps == sim.EPISODE_STEPS - start.t and result.h == 0
    assert len(starts.failures) == 1 and starts.retries == 20  # a retry is not retried
    for _ in range(RECENT_EPISODES - 20):  # other episodes: the failure gets old
        starts.begin(env, np.zeros(sim.OBS_DIM), 50, False, None, 0)
        starts.end(failed)
    assert starts.plan(0, False, 1) is None and len(starts.failures) == 0  # not retried now
    # The retried state is the failure's own: replaying its idle steps gives its observation.
    obs, _ = env.reset(seed=7)
    for _ in range(start.t):
        obs, *_ = env.step(np.zeros(sim.ACT_DIM, np.float32))
    np.testing.assert_allclose(start.obs, obs, atol=1e-6)


def test_no_retry_from_trials_successes_or_guided_episodes(opened):
    _, source = opened
    env = sim.make_door()
    starts = EpisodeStarts(CurriculumConfig(retry_failures=1.0), None)
    idle = EpisodeRunner(env, make_guide("scripted", env), Idle())
    play(starts, idle, seed=1, trial=True)  # a deterministic trial: not taped
    play(starts, idle, seed=2, h=50)  # a guided episode: not taped
    assert len(starts.failures) == 0
    play(starts, EpisodeRunner(env, make_guide("scripted", env), Replayer(source.actions)), 0)
    assert len(starts.failures) == 0  # it opened the door
    assert starts.plan(0, False, 3) is None
    off = EpisodeStarts(CurriculumConfig(), None)
    play(off, idle, seed=4)
    assert len(off.failures) == 0 and off.plan(0, False, 5) is None


def test_train_with_retries_starts_some_alone_episodes_from_failures(tmp_path):
    run = tmp_path / "r"
    args = [*TINY, "--steps", "2000", "--curriculum.retry-failures", "0.5"]
    assert launch.main(["train", "--run-dir", str(run), *args]) == 0
    rows = read_csv(run / "metrics" / "episodes.csv")
    retried = [r for r in rows if r["h"] == "0" and int(r["n_explorer"]) < sim.EPISODE_STEPS]
    assert retried, "no explorer-alone episode was retried from a failure"
    for r in retried:
        assert 60 <= sim.EPISODE_STEPS - int(r["n_explorer"]) <= 140
    assert [int(r["env_steps"]) for r in rows] == np.cumsum(
        [int(r["n_explorer"]) + int(r["n_guide"]) for r in rows]
    ).tolist()
