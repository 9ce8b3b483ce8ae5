"""The learner thread, the weight slot and the explorer, with real agents and buffers."""

import numpy as np
import pytest
import torch

from learner.explorer import Explorer
from learner.replay import Batch, ReplayBuffer
from learner.sac import SACAgent, SACConfig
from learner.thread import LearnerConfig, LearnerError, LearnerStats, LearnerThread, WeightSlot

OBS, ACT = 5, 3
CFG = SACConfig(hidden=16, batch_size=16, obs_rates=False)  # toy observations: no door rates


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def filled(n: int, capacity: int = 1000) -> ReplayBuffer:
    rng = np.random.default_rng(n)
    buf = ReplayBuffer(capacity, OBS, ACT)
    buf.add_arrays(
        rng.standard_normal((n, OBS)),
        rng.uniform(-1, 1, (n, ACT)),
        -np.ones(n),
        rng.standard_normal((n, OBS)),
        np.zeros(n, bool),
    )
    return buf


def lone_rows(buf: ReplayBuffer) -> tuple[np.ndarray, ...]:
    """A buffer's rows as ``add_arrays`` columns (obs, actions, rewards, next_obs, terminated)."""
    a = buf.arrays()
    return a["obs"], a["actions"], a["rewards"], a["next_obs"], a["discounts"] == 0.0


def wait_until(condition, thread: LearnerThread, timeout: float = 30.0) -> bool:
    """Poll ``condition`` while the thread runs; False if ``timeout`` passes first."""
    for _ in range(int(timeout / 0.02)):
        thread.raise_if_failed()
        if condition():
            return True
        thread.join(0.02)
    return condition()


def learner(
    online: ReplayBuffer,
    config: LearnerConfig,
    paced: bool = True,
    offline: ReplayBuffer | None = None,
) -> tuple[LearnerThread, WeightSlot]:
    slot = WeightSlot()
    return LearnerThread(SACAgent(OBS, ACT, CFG), online, offline, slot, config, paced=paced), slot


def test_weight_slot_versions_are_latest_only():
    slot = WeightSlot()
    assert slot.latest() == (0, None) and slot.version == 0
    first, second = {"w": torch.zeros(1)}, {"w": torch.ones(1)}
    assert slot.publish(first) == 1
    assert slot.publish(second) == 2
    version, state = slot.latest()
    assert version == 2 and state is second


def test_paced_learner_honours_the_utd_budget_and_publishes():
    online = filled(100)
    config = LearnerConfig(utd_ratio=1.5, publish_every=20, warmup_steps=40)
    thread, slot = learner(online, config)
    thread.start()
    try:
        thread.report_env_steps(30)  # below warmup: no updates allowed
        assert thread.wait_for_budget(timeout=5.0)
        assert thread.updates == 0
        thread.report_env_steps(100)  # 1.5 * (100 - 40) = 90 updates
        assert thread.wait_for_budget(timeout=60.0)
        assert thread.updates == 90
        assert slot.version == 4  # at 20, 40, 60, 80
        assert thread.wait_for_budget(timeout=0.0)  # already met: returns at once
        thread.report_env_steps(101)  # 91.5 -> 91
        assert thread.wait_for_budget(timeout=30.0)
        stats = thread.stats()
        assert isinstance(stats, LearnerStats)
        assert (stats.updates, stats.budget, stats.env_steps, stats.online_size) == (
            91,
            91,
            101,
            100,
        )
        assert set(stats.losses) >= {"critic_loss", "actor_loss", "alpha"} and stats.error is None
    finally:
        thread.stop()
    assert thread.updates == 91  # never ran past the budget
    assert slot.version == 5  # the 11 updates since the last publish were published at stop
    assert not thread.is_alive()
    thread.stop()  # idempotent
    thread.raise_if_failed()
    with pytest.raises(RuntimeError, match="not running"):
        thread.report_env_steps(500)
        thread.wait_for_budget(timeout=1.0)


def test_published_weights_are_the_agents_actor():
    thread, slot = learner(filled(50), LearnerConfig(publish_every=5, warmup_steps=0))
    thread.start()
    thread.report_env_steps(10)
    thread.wait_for_budget(timeout=30.0)
    thread.stop()
    version, state = slot.latest()
    assert version == 2
    with thread.lock:
        current = thread.agent.acting_state()  # what an explorer acts with: the actor (here)
    assert set(state) == set(current) == {"actor"}
    actor = thread.agent.actor_state_dict()
    assert all(torch.equal(state["actor"][k], actor[k]) for k in actor)


def test_free_running_learner_trains_without_reported_steps():
    online = ReplayBuffer(100, OBS, ACT)
    thread, slot = learner(online, LearnerConfig(publish_every=3, warmup_steps=20), paced=False)
    thread.start()
    try:
        online.add_arrays(*lone_rows(filled(19)))
        thread.join(0.2)
        assert thread.updates == 0  # one transition short of warmup
        online.add(*(v[0] for v in lone_rows(filled(1))))
        assert wait_until(lambda: thread.updates >= 10, thread)
        assert thread.stats().budget is None and thread.stats().running
    finally:
        thread.stop()
    assert slot.version >= 3


class BrokenBuffer(ReplayBuffer):
    """A real buffer whose sampling fails, as a corrupted one would."""

    def sample(self, n: int, rng: np.random.Generator) -> Batch:
        raise RuntimeError(f"disk on fire while sampling {n}")


def test_thread_exception_reaches_the_main_thread_with_its_traceback():
    broken = BrokenBuffer(10, OBS, ACT)
    broken.add_arrays(*lone_rows(filled(10)))
    thread, _ = learner(broken, LearnerConfig(warmup_steps=0))
    thread.start()
    thread.report_env_steps(5)
    with pytest.raises(LearnerError) as info:
        thread.wait_for_budget(timeout=30.0)
    text = str(info.value)
    assert "disk on fire while sampling 16" in text
    assert "Traceback" in text and "in sample" in text
    assert isinstance(thread.error, RuntimeError)
    assert isinstance(info.value.__cause__, RuntimeError)
    thread.stop()
    assert not thread.is_alive()
    assert thread.stats().error is not None
    with pytest.raises(LearnerError, match="disk on fire"):
        thread.raise_if_failed()


def test_learner_with_demos_trains_the_bc_term_until_it_fades():
    demos = filled(40)
    agent = SACAgent(
        OBS, ACT, SACConfig(hidden=16, batch_size=16, bc_decay_updates=30, obs_rates=False)
    )
    slot = WeightSlot()
    thread = LearnerThread(
        agent, filled(60), None, slot, LearnerConfig(warmup_steps=0), demos=demos
    )
    thread.start()
    try:
        thread.report_env_steps(10)
        assert thread.wait_for_budget(timeout=30.0)
        assert thread.stats().losses["bc_loss"] > 0.0  # demos sampled: the BC term is on
        thread.report_env_steps(40)  # updates 30..39: the BC weight has faded to 0
        assert thread.wait_for_budget(timeout=30.0)
        assert thread.stats().losses["bc_loss"] == 0.0
    finally:
        thread.stop()
    thread.raise_if_failed()
    assert agent.bc_weight_now == 0.0 and thread.updates == 40


def test_stop_before_start_is_harmless():
    thread, slot = learner(filled(10), LearnerConfig())
    thread.stop()
    thread.stop()
    assert slot.version == 0


def test_learner_config_rejects_bad_values():
    with pytest.raises(ValueError, match="utd_ratio"):
        LearnerConfig(utd_ratio=0)
    with pytest.raises(ValueError, match="publish_every"):
        LearnerConfig(publish_every=0)
    with pytest.raises(ValueError, match=r"offline_ratio must be in \[0, 1\], got 1.5"):
        LearnerConfig(offline_ratio=1.5)


# -- explorer ----------------------------------------------------------------------------------
def test_explorer_sync_takes_newer_weights_only():
    explorer = Explorer(OBS, ACT, CFG, seed=0)
    slot = WeightSlot()
    assert not explorer.sync(slot) and explorer.version == 0
    agent = SACAgent(OBS, ACT, CFG, seed=1)
    slot.publish(agent.actor_state_dict())
    assert explorer.sync(slot) and explorer.version == 1
    obs = np.linspace(-1, 1, OBS)
    with torch.no_grad():
        expected = torch.tanh(agent.actor(torch.as_tensor(obs, dtype=torch.float32))[0]).numpy()
    np.testing.assert_allclose(explorer.act(obs, deterministic=True), expected, atol=1e-6)
    assert not explorer.sync(slot) and explorer.version == 1
    slot.publish(SACAgent(OBS, ACT, CFG, seed=2).actor_state_dict())
    assert explorer.sync(slot) and explorer.version == 2
    assert not np.allclose(explorer.act(obs, deterministic=True), expected)


def test_explorer_actions_match_the_torch_actor():
    config = SACConfig(obs_rates=False)  # with rates: tests/test_features.py
    explorer = Explorer(39, 28, config, seed=0)
    agent = SACAgent(39, 28, config, seed=0)  # same seed: same initial actor
    obs = np.random.default_rng(0).standard_normal((8, 39))
    with torch.no_grad():
        mean, _ = agent.actor(torch.as_tensor(obs, dtype=torch.float32))
    np.testing.assert_allclose(
        explorer.act(obs, deterministic=True), torch.tanh(mean).numpy(), atol=1e-5
    )
    a = explorer.act(obs[0])
    assert a.shape == (28,) and a.dtype == np.float32 and np.all(np.abs(a) <= 1.0)
    draws = np.stack([explorer.act(obs[0]) for _ in range(50)])
    assert draws.std(0).min() > 0  # stochastic by default
    with pytest.raises(ValueError, match="shape"):
        explorer.act(np.zeros(38))
