"""Replay buffers: ring wrap-around, bulk loads, sampling, RLPD's 50/50 mix, concurrent adds."""

import threading

import numpy as np
import pytest
import torch

from learner.replay import Batch, ReplayBuffer, sample_mixed

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
        and torch.all(b.dones == (i.long() % 7 == 0).float())
    )


def test_ring_wraps_and_keeps_newest():
    buf = ReplayBuffer(5, OBS, ACT)
    for i in range(7):
        buf.add(*transition(i))
    assert len(buf) == 5 and buf.total_added == 7
    data = buf.arrays()
    assert data["rewards"].tolist() == [2.0, 3.0, 4.0, 5.0, 6.0]  # oldest first, 0 and 1 gone
    assert data["terminations"].tolist() == [False, False, False, False, False]
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
    assert b.rewards.shape == (4,) and b.dones.shape == (4,)
    assert all(t.dtype == torch.float32 for t in (b.obs, b.actions, b.rewards, b.next_obs, b.dones))
    assert b.dones.tolist() == [1.0] * 4  # 7 % 7 == 0: terminated
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
