"""The explorer's rates input: one definition for acting and for the replay, never recorded."""

import numpy as np
import pytest

import launch
import sim
from episode.runner import EpisodeRunner
from guides.registry import make_guide
from learner.checkpoint import load_explorer
from learner.config import SACConfig, saved_sac_settings
from learner.explorer import Explorer
from learner.features import (
    DOOR_DT,
    RATE_ENTRIES,
    RATE_LIMIT,
    RATE_SETS,
    input_dim,
    previous_observations,
    rate_entries,
    with_rates,
)
from learner.replay import EpisodeReplay, ReplayBuffer, add_demo_steps
from learner.run_dir import TRAIN_DATASET
from recordings.reader import iter_episodes
from sim.door import OBS_HINGE, OBS_LATCH
from tests.test_train_cli import TINY


def test_rates_are_the_change_since_the_previous_observation_per_second():
    prev = np.zeros(sim.OBS_DIM, np.float32)
    obs = prev.copy()
    obs[OBS_HINGE], obs[OBS_LATCH], obs[29] = 0.02, -0.01, 5.0  # the palm jumps 5 m in a step
    x = with_rates(obs, prev)
    assert x.shape == (input_dim(sim.OBS_DIM, True),) == (sim.OBS_DIM + len(RATE_ENTRIES),)
    np.testing.assert_array_equal(x[: sim.OBS_DIM], obs)
    rates = dict(zip(RATE_ENTRIES.tolist(), x[sim.OBS_DIM :].tolist(), strict=True))
    assert rates[OBS_HINGE] == pytest.approx(0.02 / DOOR_DT)
    assert rates[OBS_LATCH] == pytest.approx(-0.01 / DOOR_DT)
    assert rates[29] == RATE_LIMIT  # clipped
    np.testing.assert_array_equal(with_rates(obs, None)[sim.OBS_DIM :], 0.0)  # a first step
    with pytest.raises(ValueError, match="previous observation has shape"):
        with_rates(obs, prev[:10])
    seq = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(previous_observations(seq), seq[[0, 0, 1, 2]])


def test_the_replay_stores_what_the_explorer_saw_when_it_acted(tmp_path):
    """An episode's rows carry the same inputs the runner gave the acting explorer."""
    env = sim.make_door()
    config = SACConfig(hidden=16, obs_rates=True, reference=False)
    explorer = Explorer(sim.OBS_DIM, sim.ACT_DIM, config, seed=0)
    seen: list[np.ndarray] = []
    act = explorer.act

    def spy(obs, deterministic=False, previous=None):
        seen.append(with_rates(obs, previous))
        return act(obs, deterministic=deterministic, previous=previous)

    explorer.act = spy  # type: ignore[method-assign]
    buffer = ReplayBuffer(1000, sim.OBS_DIM, sim.ACT_DIM, gamma=0.99, n_step=5, rates=True)
    demos = ReplayBuffer(1000, sim.OBS_DIM, sim.ACT_DIM, rates=True)
    guide = make_guide("scripted", env, seed=0)
    runner = EpisodeRunner(env, guide, explorer, replay=EpisodeReplay(buffer, "joint"))
    runner.run_episode(seed=0, h=30)
    rows = buffer.arrays()
    assert rows["obs"].shape == (sim.EPISODE_STEPS, sim.OBS_DIM + len(RATE_ENTRIES))
    np.testing.assert_allclose(rows["obs"][30:], np.stack(seen), atol=1e-5)  # t >= h: explorer's
    assert np.abs(rows["obs"][30, sim.OBS_DIM :]).max() > 0  # the handover step has its rates
    np.testing.assert_array_equal(rows["obs"][0, sim.OBS_DIM :], 0.0)  # nothing before t = 0
    # the 5-step target of row t bootstraps from row t + 5's input, rates and all
    np.testing.assert_allclose(rows["next_obs"][0], rows["obs"][5], atol=1e-6)

    raw = rows["obs"][:, : sim.OBS_DIM]
    actors = np.zeros(len(raw), np.int64)  # Actor.GUIDE
    add_demo_steps(demos, raw, rows["actions"], actors)
    np.testing.assert_allclose(demos.arrays()["obs"], rows["obs"], atol=1e-5)


def test_train_with_rates_records_the_standard_door_and_reloads(tmp_path):
    run = tmp_path / "rates"
    assert launch.main(["train", "--run-dir", str(run), *TINY, "--steps", "400",
                        "--sac.obs-rates"]) == 0  # fmt: skip
    episode = next(iter(iter_episodes(run / TRAIN_DATASET)))
    assert episode.observations.shape[1:] == (sim.OBS_DIM,)  # Minari clients see the door
    explorer = load_explorer(run, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)
    assert explorer.uses_previous
    result = EpisodeRunner(sim.make_door(), make_guide("scripted", sim.make_door()), explorer,
                           explorer_deterministic=True).run_episode(seed=1, h=0)  # fmt: skip
    assert result.steps == sim.EPISODE_STEPS
    env = sim.make_door()  # the same checkpoint as a guide keeps its own previous observation
    runner = EpisodeRunner(env, make_guide(f"policy:{run}", env), None)
    runner.reset(2, sim.EPISODE_STEPS)
    steps = [runner.step() for _ in range(20)]
    previous = None
    for tr in steps:  # its Commands are the policy's given each step's previous observation
        own = explorer.policy.act(tr.obs, deterministic=True, previous=previous)
        want = explorer.controller.to_person(own)  # recorded in a person's units
        np.testing.assert_allclose(tr.command, want, atol=1e-6)
        previous = tr.obs


def test_the_door_rate_set_leaves_the_palm_rate_out_everywhere(tmp_path):
    """``--sac.rates-of door``: latch and hinge rates only, for acting, replay and checkpoints."""
    door = rate_entries("door")
    assert door.tolist() == [OBS_LATCH, OBS_HINGE] == list(RATE_SETS["door"])
    obs = np.zeros(sim.OBS_DIM, np.float32)
    obs[OBS_HINGE], obs[29] = 0.03, 0.5
    x = with_rates(obs, np.zeros_like(obs), door)
    assert x.shape == (input_dim(sim.OBS_DIM, True, door),) == (sim.OBS_DIM + 2,)
    assert x[sim.OBS_DIM + 1] == pytest.approx(0.03 / DOOR_DT)  # no palm rate among them
    buffer = ReplayBuffer(10, sim.OBS_DIM, 6, rates=True, rate_entries=door)
    assert buffer.input_dim == sim.OBS_DIM + 2
    with pytest.raises(ValueError, match="rates_of must be"):
        rate_entries("palm")
    with pytest.raises(ValueError, match="rates_of must be door-palm or door"):
        SACConfig(rates_of="palm")  # type: ignore[arg-type]

    run = tmp_path / "door-rates"
    assert launch.main(["train", "--run-dir", str(run), *TINY, "--steps", "200",
                        "--sac.obs-rates", "--sac.rates-of", "door"]) == 0  # fmt: skip
    explorer = load_explorer(run, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)
    assert explorer.policy.actor.obs_dim == sim.OBS_DIM + 2
    result = EpisodeRunner(sim.make_door(), make_guide("scripted", sim.make_door()), explorer,
                           explorer_deterministic=True).run_episode(seed=1, h=0)  # fmt: skip
    assert result.steps == sim.EPISODE_STEPS
    argv = ["train", "--run-dir", str(run), *TINY, "--steps", "400", "--resume",
            "--sac.rates-of", "door-palm"]  # fmt: skip
    assert launch.main(argv) == 2  # resuming with the other rate set is refused, not mixed


def test_runs_and_checkpoints_from_before_the_rate_options_keep_what_they_saw():
    """Rates are on by default now (the door's); older saved settings keep their inputs."""
    assert SACConfig().obs_rates and SACConfig().rates_of == "door"
    before_rates = {"hidden": 32}  # saved before obs_rates existed: no rates
    assert saved_sac_settings(before_rates)["obs_rates"] is False
    before_rates_of = {"hidden": 32, "obs_rates": True}  # saw the palm's rates too
    assert saved_sac_settings(before_rates_of)["rates_of"] == "door-palm"
    assert saved_sac_settings({"obs_rates": False})["rates_of"] == SACConfig.rates_of
    agent_config = SACConfig(hidden=16, rates_of="door-palm")
    explorer = Explorer(
        sim.OBS_DIM, 6, SACConfig(**saved_sac_settings(before_rates_of | {"hidden": 16}))
    )
    assert explorer.actor.obs_dim == input_dim(sim.OBS_DIM, True) == sim.OBS_DIM + 5
    assert Explorer(sim.OBS_DIM, 6, agent_config).actor.obs_dim == explorer.actor.obs_dim
