"""Replay buffers: ring wrap-around, bulk loads, sampling, RLPD's 50/50 mix, concurrent adds."""

import threading

import numpy as np
import pytest
import torch

from episode.types import Actor, Transition
from learner.replay import Batch, EpisodeReplay, ReplayBuffer, sample_mixed
from learner.returns import n_step_targets, returns_to_go, tail_value
from teleop.command_space import PERSON

OBS, ACT = 3, 2


def transition(i: float) -> tuple:
    """A transition whose every field encodes ``i`` (so a torn row would show)."""
    obs = np.full(OBS, i, np.float32)
    return obs, np.full(ACT, i / 1000.0, np.float32), float(i), obs + 1.0, int(i) % 7 == 0


def consistent(b: Batch) -> bool:
    i = b.obs[:, 0]
    return bool(
        torch.all(b.obs == i[:, None])
        and torch.allclose(b.actions, (i / 1000.0)[:, None].expand(-1, ACT))
        and torch.all(b.rewards == i)
        and torch.all(b.next_obs == (i + 1.0)[:, None])
        and torch.allclose(b.discounts, 0.99 * (i.long() % 7 != 0).float())
    )


def test_ring_wraps_and_keeps_newest():
    buf = ReplayBuffer(5, OBS, ACT)
    for i in range(7):
        buf.add(*transition(i))
    assert len(buf) == 5 and buf.total_added == 7
    data = buf.arrays()
    assert data["rewards"].tolist() == [2.0, 3.0, 4.0, 5.0, 6.0]  # oldest first, 0 and 1 gone
    assert np.allclose(data["discounts"], 0.99)  # none terminated: bootstrap with gamma
    assert np.isneginf(data["mc_returns"]).all()  # lone transitions: no return-to-go known
    batch = buf.sample(200, np.random.default_rng(0))
    assert set(batch.rewards.tolist()) == {2.0, 3.0, 4.0, 5.0, 6.0}
    assert consistent(batch)


def test_add_arrays_matches_add_and_truncates_to_capacity():
    rows = [transition(i) for i in range(12)]
    cols = [np.array([r[k] for r in rows]) for k in range(5)]
    bulk = ReplayBuffer(8, OBS, ACT)
    bulk.add_arrays(*cols)
    one = ReplayBuffer(8, OBS, ACT)
    for r in rows:
        one.add(*r)
    assert len(bulk) == 8 and bulk.total_added == 12
    for key, value in bulk.arrays().items():
        np.testing.assert_array_equal(value, one.arrays()[key], err_msg=key)
    bulk.add_arrays(*(c[:3] for c in cols))  # a second bulk load continues the ring
    assert bulk.arrays()["rewards"].tolist() == [7, 8, 9, 10, 11, 0, 1, 2]


def test_sample_types_shapes_and_errors():
    buf = ReplayBuffer(10, OBS, ACT)
    with pytest.raises(ValueError, match="empty"):
        buf.sample(4, np.random.default_rng(0))
    buf.add(*transition(7))
    b = buf.sample(4, np.random.default_rng(0))
    assert len(b) == 4
    assert b.obs.shape == (4, OBS) and b.actions.shape == (4, ACT)
    assert b.rewards.shape == (4,) and b.discounts.shape == (4,) and b.mc_returns.shape == (4,)
    tensors = (b.obs, b.actions, b.rewards, b.next_obs, b.discounts, b.mc_returns)
    assert all(t.dtype == torch.float32 for t in tensors)
    assert b.discounts.tolist() == [0.0] * 4  # 7 % 7 == 0: terminated, no bootstrap
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, OBS, ACT)


def test_sample_mixed_is_half_offline_half_online():
    online, offline = ReplayBuffer(100, OBS, ACT), ReplayBuffer(100, OBS, ACT)
    for i in range(1, 51):
        online.add(*transition(i))  # rewards 1..50
        offline.add(*transition(-i))  # rewards -1..-50
    rng = np.random.default_rng(0)
    b = sample_mixed(online, offline, 256, rng)
    assert int((b.rewards < 0).sum()) == 128 and int((b.rewards > 0).sum()) == 128
    odd = sample_mixed(online, offline, 9, rng)
    assert int((odd.rewards < 0).sum()) == 4 and int((odd.rewards > 0).sum()) == 5
    assert bool((sample_mixed(online, None, 64, rng).rewards > 0).all())
    assert bool((sample_mixed(online, ReplayBuffer(5, OBS, ACT), 64, rng).rewards > 0).all())
    assert bool((sample_mixed(ReplayBuffer(5, OBS, ACT), offline, 64, rng).rewards < 0).all())
    quarter = sample_mixed(online, offline, 256, rng, offline_ratio=0.25)
    assert int((quarter.rewards < 0).sum()) == 64 and int((quarter.rewards > 0).sum()) == 192
    assert bool((sample_mixed(online, offline, 32, rng, offline_ratio=0.0).rewards > 0).all())
    assert bool((sample_mixed(online, offline, 32, rng, offline_ratio=1.0).rewards < 0).all())
    with pytest.raises(ValueError, match="obs/action"):
        bad = ReplayBuffer(5, OBS + 1, ACT)
        bad.add(np.zeros(OBS + 1), np.zeros(ACT), 0.0, np.zeros(OBS + 1), False)
        sample_mixed(online, bad, 8, rng)


def test_concurrent_add_and_sample_never_tears_a_row():
    buf = ReplayBuffer(64, OBS, ACT)  # small: the writer overwrites rows being sampled
    buf.add(*transition(1))
    stop = threading.Event()

    def writer() -> None:
        i = 2
        while not stop.is_set():
            buf.add(*transition(i % 5000))
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        rng = np.random.default_rng(0)
        assert all(consistent(buf.sample(128, rng)) for _ in range(300))
    finally:
        stop.set()
        t.join()


def test_n_step_sums_bootstrap_index_and_discounts():
    r = np.array([-1.0, -1.0, 0.0, 0.0])
    sums, last, disc = n_step_targets(r, terminated=False, gamma=0.5, n=3)
    np.testing.assert_allclose(sums, [-1.5, -1.0, 0.0, 0.0])  # -1 - 0.5, -1 + 0, ...
    assert last.tolist() == [2, 3, 3, 3]  # bootstrap from next_obs of these steps
    np.testing.assert_allclose(disc, [0.125, 0.125, 0.25, 0.5])  # gamma^m, m = 3, 3, 2, 1
    _, _, disc_t = n_step_targets(r, terminated=True, gamma=0.5, n=3)
    np.testing.assert_allclose(disc_t, [0.125, 0.0, 0.0, 0.0])  # sums reaching the end stop
    one, last1, disc1 = n_step_targets(r, terminated=False, gamma=0.5, n=1)
    np.testing.assert_allclose(one, r)
    assert last1.tolist() == [0, 1, 2, 3] and np.allclose(disc1, 0.5)
    with pytest.raises(ValueError, match="n >= 1"):
        n_step_targets(r, False, 0.5, 0)


def test_returns_to_go_and_its_lower_bound_tail():
    np.testing.assert_allclose(returns_to_go([-1.0, -1.0, 0.0], 0.5), [-1.5, -1.0, 0.0])
    assert tail_value(terminated=False, open_at_end=True, gamma=0.9) == 0.0
    assert tail_value(terminated=True, open_at_end=False, gamma=0.9) == 0.0
    assert tail_value(terminated=False, open_at_end=False, gamma=0.9) == pytest.approx(-10.0)
    # a failed episode cut by the time limit: the bound is the never-opens value everywhere
    failed = returns_to_go(-np.ones(5), 0.9, tail_value(False, False, 0.9))
    np.testing.assert_allclose(failed, -10.0)


def test_add_episode_stores_n_step_rows_and_returns():
    buf = ReplayBuffer(100, OBS, ACT, gamma=0.5, n_step=2)
    T = 4
    obs = np.arange(T, dtype=np.float32)[:, None].repeat(OBS, 1)
    rewards = np.array([-1.0, -1.0, 0.0, 0.0])
    buf.add_episode(obs, np.zeros((T, ACT)), rewards, obs + 1, open_at_end=True)
    d = buf.arrays()
    np.testing.assert_allclose(d["rewards"], [-1.5, -1.0, 0.0, 0.0])
    np.testing.assert_allclose(d["next_obs"][:, 0], [2, 3, 4, 4])  # s_{t+m}
    np.testing.assert_allclose(d["discounts"], [0.25, 0.25, 0.25, 0.5])
    np.testing.assert_allclose(d["mc_returns"], [-1.5, -1.0, 0.0, 0.0])
    assert buf.episodes_added == 1


def _tr(t: int, reward: float, command: np.ndarray | None, open_: bool = False) -> Transition:
    obs = np.full(OBS, t, np.float32)
    return Transition(
        obs, np.full(28, 0.5, np.float32), reward, obs + 1, False, t == 2, Actor.GUIDE, t, 0,
        open_, command,
    )  # fmt: skip


def test_episode_replay_commits_whole_episodes_in_the_agents_space():
    command = EpisodeReplay(ReplayBuffer(10, OBS, 6, gamma=0.5, n_step=3), "command")
    for t in range(3):
        command.add(_tr(t, -1.0, np.full(6, t / 10, np.float32), open_=t == 2))
    assert len(command.buffer) == 0  # staged, not committed
    command.end_episode()
    d = command.buffer.arrays()
    np.testing.assert_allclose(d["actions"][:, 0], [0.0, 0.1, 0.2])
    np.testing.assert_allclose(d["mc_returns"], [-1.75, -1.5, -1.0])  # open at the end: tail 0
    command.end_episode()  # nothing staged: nothing happens
    assert len(command.buffer) == 3
    joint = EpisodeReplay(ReplayBuffer(10, OBS, 28), "joint")
    joint.add(_tr(0, -1.0, None))
    joint.end_episode()
    assert joint.buffer.arrays()["actions"].shape == (1, 28)
    with pytest.raises(ValueError, match="command_labeler"):
        command.add(_tr(0, -1.0, None))
    with pytest.raises(ValueError, match="space"):
        EpisodeReplay(ReplayBuffer(10, OBS, 6), "pixels")  # type: ignore[arg-type]


def test_a_faster_agent_learns_recorded_commands_in_its_own_units():
    """Steps carry a person's units; an agent twice as fast learns rates at half the value."""
    faster = EpisodeReplay(ReplayBuffer(10, OBS, 6), "command", command_scale=PERSON.faster(2.0))
    person = np.array([1.0, -0.5, 0.2, 1.0, -1.0, 0.8], np.float32)
    explorer = np.array([3.0, 0.0, 0.0, -2.4, 0.0, -1.0], np.float32)  # beyond a person's rates
    faster.add(_tr(0, -1.0, person))
    faster.add(_tr(1, -1.0, explorer))
    faster.end_episode()
    actions = faster.buffer.arrays()["actions"]
    np.testing.assert_allclose(actions[0], [0.5, -0.25, 0.1, 0.5, -0.5, 0.8])  # grasp: a level
    np.testing.assert_allclose(actions[1], [1.0, 0.0, 0.0, -1.0, 0.0, -1.0])  # clipped to +-1


def _episode(replay: EpisodeReplay, actors: list[Actor], open_steps: int) -> None:
    """Stage and commit one episode: ``actors[t]`` acts at step t; the last ``open_steps`` open."""
    n = len(actors)
    for t, actor in enumerate(actors):
        obs = np.full(OBS, t, np.float32)
        tr = Transition(
            obs, np.full(28, 0.5, np.float32), -1.0, obs + 1, False, t == n - 1, actor, t, 0,
            t >= n - open_steps, np.full(6, t / 100, np.float32),
        )  # fmt: skip
        replay.add(tr)
    replay.end_episode()


def test_demos_take_guide_steps_of_successes_and_with_self_imitation_the_explorers_too():
    from learner.replay import SELF_DEMO_ACTORS

    actors = [Actor.GUIDE] * 10 + [Actor.EXPLORER] * 20
    guide_only = EpisodeReplay(ReplayBuffer(100, OBS, 6), "command", ReplayBuffer(100, OBS, 6))
    _episode(guide_only, actors, open_steps=25)  # a success (D4RL: >= 25 steps open)
    _episode(guide_only, actors, open_steps=24)  # not one: no demo steps
    assert guide_only.demos is not None and len(guide_only.demos) == 10
    own = EpisodeReplay(
        ReplayBuffer(100, OBS, 6), "command", ReplayBuffer(100, OBS, 6), SELF_DEMO_ACTORS
    )
    _episode(own, actors, open_steps=25)
    _episode(own, actors, open_steps=24)
    assert own.demos is not None and len(own.demos) == 30
    np.testing.assert_allclose(own.demos.arrays()["actions"][:, 0], np.arange(30) / 100)


def test_recorded_episodes_give_the_same_demos_as_live_ones(tmp_path):
    """A resumed run rebuilds its demos from the recording: the same steps as when played."""
    import sim
    from learner.datasets import load_episodes
    from learner.replay import DEMO_ACTORS, SELF_DEMO_ACTORS
    from recordings.writer import DatasetWriter

    rng = np.random.default_rng(0)
    with DatasetWriter(tmp_path / "d-v0") as w:
        for open_steps in (25, 24):  # a success, then an episode open too briefly
            w.begin_episode(rng.standard_normal(sim.OBS_DIM), seed=0, h=10, guide_kind="test")
            for t in range(30):
                w.add_step(
                    rng.uniform(-1, 1, sim.ACT_DIM).astype(np.float32), -1.0,
                    rng.standard_normal(sim.OBS_DIM), False, t == 29,
                    actor=Actor.GUIDE if t < 10 else Actor.EXPLORER, h=10,
                    success=t >= 30 - open_steps,
                )  # fmt: skip
            w.end_episode()
    sizes = []
    for actors in (DEMO_ACTORS, SELF_DEMO_ACTORS):
        demos = ReplayBuffer(100, sim.OBS_DIM, sim.ACT_DIM)
        buffer = ReplayBuffer(100, sim.OBS_DIM, sim.ACT_DIM)
        load_episodes([tmp_path / "d-v0"], buffer, space="joint", demos=demos, demo_actors=actors)
        sizes.append((len(buffer), len(demos)))
    assert sizes == [(60, 10), (60, 30)]
