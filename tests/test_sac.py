"""SAC: the pure loss functions, the batched critic ensemble, learning, and state round trips."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from learner.bc import BCPolicy, bc_pretrain, squashed_log_prob, train_bc_policy
from learner.config import SACConfig, bf16_matmul_supported
from learner.losses import (
    actor_loss,
    alpha_loss,
    bc_loss,
    bc_schedule,
    critic_loss,
    q_filter,
    squashed_sample,
    td_target,
)
from learner.networks import Actor, EnsembleCritic, ensemble_q
from learner.replay import Batch, ReplayBuffer
from learner.sac import LOSS_NAMES, SACAgent

SMALL = SACConfig(obs_rates=False, hidden=32, batch_size=32)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def random_batch(n: int, obs_dim: int, act_dim: int, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(
        obs=torch.randn(n, obs_dim, generator=g),
        actions=torch.rand(n, act_dim, generator=g) * 2 - 1,
        rewards=-torch.rand(n, generator=g),
        next_obs=torch.randn(n, obs_dim, generator=g),
        discounts=0.99 * (torch.rand(n, generator=g) > 0.3).float(),
        mc_returns=torch.full((n,), -math.inf),
    )


# -- pure functions ------------------------------------------------------------------------------
def test_critic_loss_zero_at_target_and_half_mse_summed_over_members():
    target = torch.tensor([1.0, -2.0, 3.0])
    assert critic_loss(target.expand(2, 3), target).item() == 0.0
    q = torch.stack([target + 1.0, target - 2.0])  # errors 1 and 2 on every sample
    assert critic_loss(q, target).item() == pytest.approx(0.5 * (1.0 + 4.0))


def test_td_target_bootstraps_with_the_rows_discount_and_takes_the_min():
    rewards = torch.tensor([-1.0, -1.0])
    discounts = torch.tensor([0.9, 0.0])  # the second row terminated: no bootstrap
    next_q = torch.tensor([[5.0, 5.0], [3.0, 7.0]])  # min per sample: 3, 5
    next_log_prob = torch.tensor([-2.0, -2.0])
    y = td_target(rewards, discounts, next_q, next_log_prob, alpha=0.5)
    assert y[0].item() == pytest.approx(-1.0 + 0.9 * (3.0 + 0.5 * 2.0))
    assert y[1].item() == pytest.approx(-1.0)  # terminated: the reward alone


def test_td_target_n_step_rows_from_the_buffer_discount_by_gamma_to_the_m():
    """A 3-step row of the buffer: R = r0 + g r1 + g^2 r2, bootstrapped with g^3."""
    gamma, T = 0.9, 6
    buf = ReplayBuffer(T, 2, 1, gamma=gamma, n_step=3)
    obs = np.arange(2 * T, dtype=np.float32).reshape(T, 2)
    buf.add_episode(obs, np.zeros((T, 1)), -np.ones(T), obs + 100.0)
    rows = buf.arrays()
    r, d = torch.from_numpy(rows["rewards"]), torch.from_numpy(rows["discounts"])
    next_q = torch.full((2, T), 10.0)
    y = td_target(r, d, next_q, torch.zeros(T), alpha=0.0, backup_entropy=False)
    expected_r = -(1 + gamma + gamma**2)
    assert y[0].item() == pytest.approx(expected_r + gamma**3 * 10.0, rel=1e-5)
    # The last row sees one step only (the episode was cut by time, not terminated).
    assert y[-1].item() == pytest.approx(-1.0 + gamma * 10.0, rel=1e-5)
    np.testing.assert_array_equal(rows["next_obs"][0], obs[2] + 100.0)


def test_td_target_mc_floor_binds_only_where_it_is_higher():
    rewards, discounts = torch.tensor([-1.0, -1.0, -1.0]), torch.full((3,), 0.5)
    next_q = torch.tensor([[-10.0, -10.0, -10.0]])  # target: -1 + 0.5 * -10 = -6
    mc = torch.tensor([-2.0, -9.0, -math.inf])  # higher, lower, unknown
    y = td_target(rewards, discounts, next_q, torch.zeros(3), 0.1, mc_returns=mc)
    assert y.tolist() == pytest.approx([-2.0, -6.0, -6.0])
    plain = td_target(rewards, discounts, next_q, torch.zeros(3), 0.1)
    assert plain.tolist() == pytest.approx([-6.0] * 3)


def test_td_target_without_backup_entropy_ignores_alpha_and_log_prob():
    rewards, discounts = torch.tensor([-1.0]), torch.tensor([0.9])
    next_q, log_prob = torch.tensor([[2.0]]), torch.tensor([-3.0])
    soft = td_target(rewards, discounts, next_q, log_prob, alpha=0.5, backup_entropy=True)
    hard = td_target(rewards, discounts, next_q, log_prob, alpha=0.5, backup_entropy=False)
    assert soft.item() == pytest.approx(-1.0 + 0.9 * (2.0 + 1.5))
    assert hard.item() == pytest.approx(-1.0 + 0.9 * 2.0)
    assert td_target(rewards, discounts, next_q, log_prob * 7, 9.0, backup_entropy=False) == hard


def test_bc_loss_is_the_squared_error_of_the_mode_summed_over_dims():
    actions = torch.tensor([[0.5, -0.5], [0.0, 0.0]])
    mean = torch.atanh(actions).clone().requires_grad_(True)
    assert bc_loss(mean, actions).item() == pytest.approx(0.0, abs=1e-12)
    off = torch.zeros(2, 2)  # tanh(0) = 0: errors 0.25 + 0.25 on row 0, 0 on row 1
    assert bc_loss(off, actions).item() == pytest.approx(0.25)
    bc_loss(mean + 0.1, actions).backward()
    assert mean.grad is not None and (mean.grad > 0).all()  # pulls the mean back down


def test_q_filter_keeps_the_demo_rows_whose_pessimistic_value_beats_the_actors():
    q_demo = torch.tensor([[-5.0, -9.0, -3.0], [-6.0, -2.0, -3.0]])  # min: -6, -9, -3
    q_actor = torch.tensor([[-7.0, -4.0, -3.0], [-8.0, -4.0, -1.0]])  # min: -8, -4, -3
    assert q_filter(q_demo, q_actor).tolist() == [1.0, 0.0, 0.0]  # a tie is not kept
    actions = torch.tensor([[0.5], [0.5], [0.5]])
    off = torch.zeros(3, 1)  # error 0.25 per row
    mask = q_filter(q_demo, q_actor)
    assert bc_loss(off, actions, mask).item() == pytest.approx(0.25 / 3)  # mean over all rows


def test_q_filtered_bc_term_ignores_demos_the_critic_rates_below_the_actor():
    """Demos whose value the critics rate under the actor's own action do not pull the actor."""
    cfg = SACConfig(obs_rates=False, hidden=16, batch_size=8, bc_q_filter=True, bc_q_filter_after=3)
    agent = SACAgent(3, 2, cfg, seed=0)
    demos = random_batch(8, 3, 2, seed=7)
    with torch.no_grad():
        mean, _ = agent.actor(demos.obs)
        q_demo = agent.critic(demos.obs, demos.actions)
        q_actor = agent.critic(demos.obs, torch.tanh(mean))
    mask = q_filter(q_demo, q_actor)
    q_pi = torch.full((2, 8), -10.0)
    unfiltered = cfg.bc_weight * 10.0 * bc_loss(mean, demos.actions)
    assert agent._bc_term(demos, q_pi).item() == pytest.approx(unfiltered.item(), rel=1e-5)
    agent.updates = 3  # the filter applies from bc_q_filter_after updates on
    term = agent._bc_term(demos, q_pi)
    expected = cfg.bc_weight * 10.0 * bc_loss(mean, demos.actions, mask)
    assert term.item() == pytest.approx(expected.item(), rel=1e-5)
    assert 0.0 < mask.mean().item() < 1.0  # a random critic keeps some rows and drops others
    assert term.item() < unfiltered.item()


def test_bc_schedule_fades_linearly_to_zero_and_zero_decay_is_constant():
    assert bc_schedule(0.4, 100, 0) == pytest.approx(0.4)
    assert bc_schedule(0.4, 100, 25) == pytest.approx(0.3)
    assert bc_schedule(0.4, 100, 100) == 0.0
    assert bc_schedule(0.4, 100, 10_000) == 0.0  # never negative
    assert bc_schedule(0.4, 0, 10_000) == pytest.approx(0.4)
    agent = SACAgent(
        3, 2, SACConfig(obs_rates=False, hidden=16, batch_size=8, bc_weight=0.4, bc_decay_updates=4)
    )
    weights = []
    for s in range(5):
        weights.append(agent.bc_weight_now)
        agent.update(random_batch(8, 3, 2, seed=s), random_batch(8, 3, 2, seed=50 + s))
    assert weights == pytest.approx([0.4, 0.3, 0.2, 0.1, 0.0])


def test_bc_term_pulls_the_actor_towards_the_demonstrations():
    """With BC, a few updates move the actor's mode on demo states to the demo actions."""
    demo_action = torch.tensor([0.7, -0.6])
    g = torch.Generator().manual_seed(0)
    demo_obs = torch.randn(64, 4, generator=g)
    demos = Batch(
        obs=demo_obs,
        actions=demo_action.expand(64, 2).clone(),
        rewards=torch.zeros(64),
        next_obs=demo_obs,
        discounts=torch.zeros(64),
        mc_returns=torch.full((64,), -math.inf),
    )

    def train(with_demos: bool) -> float:
        cfg = SACConfig(obs_rates=False, hidden=32, batch_size=64, actor_lr=3e-3, bc_weight=2.5)
        agent = SACAgent(4, 2, cfg, seed=0)
        for s in range(40):
            stats = agent.update(random_batch(64, 4, 2, seed=s), demos if with_demos else None)
            if with_demos:
                assert stats["bc_loss"] > 0.0
            else:
                assert stats["bc_loss"] == 0.0
        with torch.no_grad():
            mode = torch.tanh(agent.actor(demo_obs)[0])
        return float((mode - demo_action).square().sum(-1).mean())

    start = float(demo_action.square().sum())  # an untrained actor's mode is near 0
    with_bc, without = train(True), train(False)
    assert with_bc < 0.25 * start
    assert with_bc < 0.5 * without


def test_critic_loss_gradient_does_not_reach_the_target():
    q = torch.zeros(2, 4, requires_grad=True)
    target = torch.ones(4, requires_grad=True)
    critic_loss(q, target * 2).backward()
    assert target.grad is None
    assert torch.allclose(q.grad, torch.full((2, 4), -2.0 / 4))


def test_actor_loss_reduces_ensemble_and_treats_alpha_as_constant():
    q_pi = torch.tensor([[1.0, 4.0], [3.0, 2.0]], requires_grad=True)
    log_prob = torch.tensor([0.5, -0.5], requires_grad=True)
    log_alpha = torch.tensor(math.log(0.2), requires_grad=True)
    loss = actor_loss(q_pi, log_prob, log_alpha.exp())
    assert loss.item() == pytest.approx(((0.2 * 0.5 - 1.0) + (0.2 * -0.5 - 2.0)) / 2)
    loss.backward()
    assert log_alpha.grad is None
    assert q_pi.grad.tolist() == [[-0.5, 0.0], [0.0, -0.5]]  # only the min member per sample
    mean_loss = actor_loss(q_pi, log_prob, 0.2, reduce="mean")
    assert mean_loss.item() == pytest.approx(((0.1 - 2.0) + (-0.1 - 3.0)) / 2)


def test_alpha_loss_raises_alpha_when_entropy_is_below_target():
    log_alpha = torch.tensor(0.0, requires_grad=True)
    log_prob = torch.full((8,), 5.0, requires_grad=True)  # entropy -5 < target 1
    alpha_loss(log_alpha, log_prob, target_entropy=-1.0).backward()
    assert log_prob.grad is None
    assert log_alpha.grad.item() < 0  # gradient descent increases log_alpha
    log_alpha.grad = None
    alpha_loss(log_alpha, torch.full((8,), -5.0), target_entropy=-1.0).backward()
    assert log_alpha.grad.item() > 0


def test_squashed_sample_matches_torch_distributions():
    g = torch.Generator().manual_seed(1)
    mean, log_std = torch.randn(64, 3, generator=g) * 2, torch.randn(64, 3, generator=g) * 0.5
    noise = torch.randn(64, 3, generator=g)
    action, log_prob = squashed_sample(mean, log_std, noise)
    dist = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(mean, log_std.exp()),
        [torch.distributions.TanhTransform(cache_size=1)],
    )
    u = mean + log_std.exp() * noise
    expected = dist.log_prob(torch.tanh(u)).sum(-1)
    ok = action.abs() < 0.999  # where tanh saturates the reference itself is inaccurate
    assert torch.allclose(action, torch.tanh(u))
    rows = ok.all(-1)
    assert rows.sum() > 10
    assert torch.allclose(log_prob[rows], expected[rows], atol=1e-3)
    # BC's likelihood of given actions (atanh of them) agrees with the sampler's density.
    assert torch.allclose(log_prob[rows], squashed_log_prob(mean, log_std, action)[rows], atol=1e-2)


def test_actor_log_std_is_bounded():
    actor = Actor(4, 3, hidden=16)
    with torch.no_grad():
        actor.head.bias.fill_(1e3)
        _, log_std = actor(torch.randn(5, 4))
    assert float(log_std.max()) <= 2.0 and float(log_std.min()) >= -5.0


# -- the batched ensemble --------------------------------------------------------------------------
@pytest.mark.parametrize("layer_norm", [False, True])
def test_ensemble_members_equal_separate_networks(layer_norm):
    torch.manual_seed(0)
    critic = EnsembleCritic(5, 16, 3, layer_norm)
    obs, act = torch.randn(7, 3), torch.randn(7, 2)
    q = critic(obs, act)
    assert q.shape == (3, 7)
    x = torch.cat([obs, act], -1)
    for i in range(3):
        h = x @ critic.w1[i] + critic.b1[i]
        if layer_norm:
            h = torch.nn.functional.layer_norm(h, (16,), critic.g1[i, 0], critic.c1[i, 0])
        h = torch.relu(h) @ critic.w2[i] + critic.b2[i]
        if layer_norm:
            h = torch.nn.functional.layer_norm(h, (16,), critic.g2[i, 0], critic.c2[i, 0])
        expected = torch.relu(h) @ critic.w3[i, 0] + critic.b3[i]
        assert torch.allclose(q[i], expected, atol=1e-5)
    sub = critic(obs, act, members=torch.tensor([2, 0]))
    assert torch.allclose(sub, q[[2, 0]])


def test_detached_critic_passes_gradient_to_actions_only():
    critic = EnsembleCritic(5, 16, 2, True)
    act = torch.randn(4, 2, requires_grad=True)
    critic(torch.randn(4, 3), act, detach=True).sum().backward()
    assert act.grad is not None and act.grad.abs().sum() > 0
    assert all(p.grad is None for p in critic.parameters())


def test_ensemble_q_is_a_pure_function_of_its_weights():
    critic = EnsembleCritic(5, 8, 2, False)
    p = {k: v.detach().clone() for k, v in critic.named_parameters()}
    x = torch.randn(3, 5)
    before = ensemble_q(p, x, False)
    with torch.no_grad():
        critic.w1.add_(1.0)  # the module changes, the captured weights do not
    assert torch.equal(before, ensemble_q(p, x, False))


# -- the agent ---------------------------------------------------------------------------
def test_update_changes_critic_actor_alpha_and_moves_targets_by_tau():
    agent = SACAgent(6, 2, SACConfig(obs_rates=False, hidden=32, batch_size=16, tau=0.5), seed=0)
    batch = random_batch(16, 6, 2)
    before = {
        "critic": agent.critic.w2.detach().clone(),
        "target": agent.critic_target.w2.detach().clone(),
        "actor": agent.actor.head.weight.detach().clone(),
        "alpha": agent.alpha,
    }
    stats = agent.update(batch)
    assert tuple(stats) == LOSS_NAMES
    assert set(stats) == {"critic_loss", "actor_loss", "alpha", "q_mean", "entropy", "bc_loss"}
    assert stats["bc_loss"] == 0.0  # no demos: no BC term
    assert all(isinstance(v, float) and math.isfinite(v) for v in stats.values())
    assert not torch.equal(agent.critic.w2, before["critic"])
    assert not torch.equal(agent.actor.head.weight, before["actor"])
    assert agent.alpha != before["alpha"]
    expected_target = 0.5 * before["target"] + 0.5 * agent.critic.w2.detach()
    assert torch.allclose(agent.critic_target.w2, expected_target, atol=1e-6)
    assert agent.updates == 1


def test_actor_every_k_updates_the_actor_on_every_kth_update_only():
    agent = SACAgent(4, 2, SACConfig(obs_rates=False, hidden=16, batch_size=8, actor_every=3))
    changed = []
    for s in range(6):
        before = agent.actor.head.weight.detach().clone()
        critic_before = agent.critic.w2.detach().clone()
        agent.update(random_batch(8, 4, 2, seed=s))
        changed.append(not torch.equal(before, agent.actor.head.weight))
        assert not torch.equal(critic_before, agent.critic.w2)  # critics: every update
    assert changed == [True, False, False, True, False, False]


def test_mc_floor_applies_until_the_update_named_and_then_no_longer():
    cfg = SACConfig(obs_rates=False, hidden=16, batch_size=8)
    batch = random_batch(8, 4, 2)
    batch = replace(batch, mc_returns=torch.full((8,), 50.0))  # binds on every row
    always, until = SACAgent(4, 2, cfg), SACAgent(4, 2, replace(cfg, mc_lower_bound_until=1))
    floors, losses = [], []
    for _ in range(2):
        floors.append((always.mc_floor_now, until.mc_floor_now))
        losses.append((always.update(batch)["critic_loss"], until.update(batch)["critic_loss"]))
    assert floors == [(True, True), (True, False)]
    assert losses[0][0] == losses[0][1]  # the same first update: floored
    assert losses[1][1] < losses[1][0]  # then plain TD targets, far below the floor of 50
    assert not SACAgent(4, 2, replace(cfg, mc_lower_bound=False)).mc_floor_now


def test_target_subset_ensemble_runs():
    cfg = SACConfig(
        obs_rates=False, hidden=16, batch_size=8, n_critics=5, target_critics=2, actor_q="mean"
    )
    agent = SACAgent(4, 2, cfg)
    stats = agent.update(random_batch(8, 4, 2))
    assert math.isfinite(stats["critic_loss"])
    assert agent.critic(torch.zeros(3, 4), torch.zeros(3, 2)).shape == (5, 3)


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="target_critics"):
        SACConfig(n_critics=2, target_critics=3)
    with pytest.raises(ValueError, match="n_critics"):
        SACConfig(n_critics=0)
    with pytest.raises(ValueError, match="init_alpha"):
        SACConfig(init_alpha=0.0)
    with pytest.raises(ValueError, match="n_step"):
        SACConfig(n_step=0)
    with pytest.raises(ValueError, match="bc_weight"):
        SACConfig(bc_weight=-0.1)
    with pytest.raises(ValueError, match="bc_decay_updates"):
        SACConfig(bc_decay_updates=-1)
    with pytest.raises(ValueError, match="mc_lower_bound_until"):
        SACConfig(mc_lower_bound_until=-1)


def test_config_defaults_are_the_measured_ones():
    cfg = SACConfig()
    assert (cfg.hidden, cfg.init_alpha, cfg.n_step) == (128, 0.01, 5)
    assert cfg.obs_rates and cfg.rates_of == "door"  # the door's rates (learner/features.py)
    assert cfg.mc_lower_bound and not cfg.backup_entropy and cfg.bc_weight > 0
    assert cfg.mc_lower_bound_until == 60_000  # 30k env steps at train's UTD 2


@pytest.mark.parametrize("bf16", [False, True])
def test_agent_learns_a_one_step_bandit(bf16):
    """Reward -|a - a*|^2 with every step terminal: the policy's mode must move to a*."""
    best = np.array([0.6, -0.4], np.float32)
    settings = {
        "hidden": 64,
        "batch_size": 64,
        "init_alpha": 0.01,
        "target_entropy": -4.0,
        "actor_lr": 1e-3,
        "critic_lr": 1e-3,
        "bf16_matmul": bf16,
        "obs_rates": False,  # a 1-D toy observation: no door rates
    }
    if bf16 and not bf16_matmul_supported():
        with pytest.raises(ValueError, match="bf16_matmul"):
            SACConfig(**settings)
        return
    cfg = SACConfig(**settings)
    agent = SACAgent(1, 2, cfg, seed=3)
    rng = np.random.default_rng(0)
    buf = ReplayBuffer(4000, 1, 2)
    obs = torch.ones(1, 1)

    def error() -> float:
        with torch.no_grad():
            mode = torch.tanh(agent.actor(obs)[0]).numpy()[0]
        return float(np.linalg.norm(mode - best))

    start = error()
    for _ in range(25):
        with torch.no_grad():
            mean, log_std = agent.actor(torch.ones(64, 1))
            a, _ = squashed_sample(mean, log_std, torch.randn(64, 2))
        a = a.numpy()
        r = -((a - best) ** 2).sum(1)
        buf.add_arrays(np.ones((64, 1)), a, r, np.ones((64, 1)), np.ones(64, bool))
        for _ in range(12):
            agent.update(buf.sample(64, rng))
    assert error() < 0.15 < start
    assert torch.backends.mkldnn.matmul.fp32_precision == "none"  # restored after updates


def test_state_dict_round_trip_restores_outputs_and_optimizers():
    cfg = SACConfig(obs_rates=False, hidden=32, batch_size=16)
    a = SACAgent(6, 2, cfg, seed=0)
    for s in range(3):
        a.update(random_batch(16, 6, 2, seed=s))
    state = a.state_dict()
    b = SACAgent(6, 2, cfg, seed=99)
    b.load_state_dict(state)
    obs = torch.randn(5, 6)
    assert torch.equal(a.actor(obs)[0], b.actor(obs)[0])
    assert torch.equal(a.critic(obs, torch.zeros(5, 2)), b.critic(obs, torch.zeros(5, 2)))
    for pa, pb in zip(
        a.critic_optimizer.state.values(), b.critic_optimizer.state.values(), strict=True
    ):
        assert torch.equal(pa["exp_avg_sq"], pb["exp_avg_sq"])
    # Same state, same batch: the next update is identical (noise generator restored too).
    batch = random_batch(16, 6, 2, seed=7)
    assert a.update(batch) == b.update(batch)
    assert torch.equal(a.critic_target.w1, b.critic_target.w1)
    with pytest.raises(ValueError, match="obs_dim, act_dim"):
        SACAgent(5, 2, cfg).load_state_dict(state)
    with pytest.raises(ValueError, match="checkpoint's config"):
        SACAgent(
            6, 2, SACConfig(obs_rates=False, hidden=32, batch_size=16, n_critics=3)
        ).load_state_dict(state)


def test_state_dict_is_a_copy():
    agent = SACAgent(3, 2, SMALL)
    state = agent.state_dict()
    agent.update(random_batch(32, 3, 2))
    assert not torch.equal(state["actor"]["head.weight"], agent.actor.head.weight)
    actor_copy = agent.actor_state_dict()
    agent.update(random_batch(32, 3, 2, seed=1))
    assert not torch.equal(actor_copy["head.weight"], agent.actor.head.weight)


# -- behaviour cloning --------------------------------------------------------------------------
def linear_demos(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Observations on very different scales and actions that are a smooth function of them."""
    rng = np.random.default_rng(seed)
    obs = rng.standard_normal((n, 4)).astype(np.float32) * np.array(
        [100.0, 0.01, 1.0, 5.0], np.float32
    )
    actions = np.tanh(np.stack([obs[:, 0] / 100.0, obs[:, 1] * 100.0, -obs[:, 3] / 5.0], 1))
    return obs, actions.astype(np.float32)


def test_train_bc_policy_fits_and_normalizes_observations():
    obs, actions = linear_demos(2000)
    policy = train_bc_policy(obs, actions, hidden=64, steps=600, seed=0)
    assert isinstance(policy, BCPolicy)
    assert torch.allclose(policy.obs_std, torch.from_numpy(obs.std(0)), rtol=1e-3)
    test_obs, test_actions = linear_demos(200, seed=1)
    predicted = policy.act(test_obs)
    assert predicted.dtype == np.float32 and np.abs(predicted).max() <= 1.0
    baseline = float(((test_actions - test_actions.mean(0)) ** 2).mean())
    assert float(((predicted - test_actions) ** 2).mean()) < 0.1 * baseline
    clone = BCPolicy.from_export(policy.export())
    np.testing.assert_array_equal(clone.act(test_obs[0]), policy.act(test_obs[0]))
    with pytest.raises(ValueError, match="finite"):
        train_bc_policy(np.full((3, 2), np.nan), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="n > 0"):
        train_bc_policy(np.zeros((3, 2)), np.zeros((4, 1)))


@pytest.mark.parametrize("loss", ["nll", "mse"])
def test_bc_pretrain_moves_the_actor_towards_the_data(loss):
    obs, actions = linear_demos(1000)
    obs = obs / np.array([100.0, 0.01, 1.0, 5.0], np.float32)
    buf = ReplayBuffer(1000, 4, 3)
    buf.add_arrays(obs, actions, np.zeros(1000), obs, np.zeros(1000, bool))
    agent = SACAgent(4, 3, SACConfig(obs_rates=False, hidden=64, batch_size=128), seed=0)
    out = bc_pretrain(agent, buf, 300, np.random.default_rng(0), loss=loss, lr=3e-3)
    assert out["loss_end"] < out["loss_start"]
    with torch.no_grad():
        mode = torch.tanh(agent.actor(torch.from_numpy(obs))[0]).numpy()
    assert float(((mode - actions) ** 2).mean()) < 0.05


def test_the_agent_lives_on_the_device_it_is_given():
    """auto is CUDA where there is one (the CPU here); state leaves as CPU copies either way."""
    from learner.sac import resolve_device

    auto = resolve_device("auto")
    assert auto.type == ("cuda" if torch.cuda.is_available() else "cpu")
    agent = SACAgent(6, 2, SACConfig(obs_rates=False, hidden=16, batch_size=8), device=auto)
    assert all(p.device.type == auto.type for p in agent.critic.parameters())
    agent.update(random_batch(8, 6, 2))
    assert all(v.device.type == "cpu" for v in agent.actor_state_dict().values())
    with pytest.raises(ValueError, match="not a device"):
        resolve_device("tpu9")


def test_the_averaged_actor_acts_and_trails_the_actor():
    cfg = SACConfig(obs_rates=False, hidden=16, actor_average=0.1)
    agent = SACAgent(5, 2, cfg, seed=0)
    agent.restart_average()
    assert agent.actor_avg is not None
    start = {k: v.clone() for k, v in agent.actor.state_dict().items()}
    g = torch.Generator().manual_seed(0)
    batch = Batch(
        obs=torch.randn(32, 5, generator=g), actions=torch.rand(32, 2, generator=g) * 2 - 1,
        rewards=torch.randn(32, generator=g), next_obs=torch.randn(32, 5, generator=g),
        discounts=torch.full((32,), 0.99), mc_returns=torch.full((32,), -1e9),
    )  # fmt: skip
    for _ in range(5):
        agent.update(batch)
    acting = agent.acting_state()["actor"]
    now = agent.actor.state_dict()
    for key in start:  # strictly between where it started and where the actor is now
        moved, full = (acting[key] - start[key]).norm(), (now[key] - start[key]).norm()
        assert 0 < moved < full
    restored = SACAgent(5, 2, cfg, seed=1)
    restored.load_state_dict(agent.state_dict())
    assert all(torch.equal(restored.acting_state()["actor"][k], acting[k]) for k in acting)
    with pytest.raises(ValueError, match="actor_average"):
        SACConfig(actor_average=1.0)


@pytest.mark.parametrize("target", [False, True])
def test_the_acting_state_chooses_with_the_online_or_the_target_critics(target):
    cfg = SACConfig(obs_rates=False, hidden=16, batch_size=16, tau=0.1, select_with_target=target)
    agent = SACAgent(5, 2, cfg, seed=0)
    agent.set_reference()
    for s in range(3):
        agent.update(random_batch(16, 5, 2, seed=s))
    chooser = agent.critic_target if target else agent.critic
    other = agent.critic if target else agent.critic_target
    critic = agent.acting_state()["critic"]
    assert critic is not None
    assert all(torch.equal(critic[k], v) for k, v in chooser.state_dict().items())
    assert not all(torch.equal(critic[k], v) for k, v in other.state_dict().items())


def test_the_explorer_reports_the_critics_value_of_the_action_it_chose():
    from learner.explorer import Explorer

    cfg = SACConfig(obs_rates=False, hidden=16, batch_size=16)
    agent = SACAgent(5, 2, cfg, seed=0)
    explorer = Explorer(5, 2, cfg)
    explorer.act(np.zeros(5, np.float32))
    assert explorer.last_value is None  # no critic loaded: nothing to report
    agent.set_reference()
    agent.update(random_batch(16, 5, 2))
    explorer.load(1, agent.acting_state())
    obs = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    action = explorer.act(obs, deterministic=True)
    with torch.no_grad():
        q = agent.critic(torch.from_numpy(obs), torch.from_numpy(action)).amin(dim=0)
    assert explorer.last_value is not None
    np.testing.assert_allclose(explorer.last_value, q.numpy(), rtol=1e-4, atol=1e-4)
