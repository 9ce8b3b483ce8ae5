"""The teleop Command as a 6-D action: encoding, the door in Command space, labelling 28-D steps."""

import math
import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sim
from episode.runner import EpisodeRunner
from guides.registry import make_guide
from learner.config import SACConfig
from learner.explorer import CommandExplorer, Explorer
from sim.door import OBS_PALM
from teleop.command import Command
from teleop.command_space import (
    COMMAND_DIM,
    CommandActions,
    CommandController,
    CommandLabeler,
    CommandScale,
    decode,
    encode,
    rescale,
)
from teleop.mapper import CommandMapper, MapperConfig


@pytest.fixture(scope="module")
def env():
    return sim.make_door()


@pytest.fixture(scope="module")
def scripted_steps(env):
    """One whole episode of the scripted guide (a Command guide), as transitions."""
    guide = make_guide("scripted", env, seed=0)
    runner = EpisodeRunner(env, guide, None)
    runner.reset(seed=0, h=sim.EPISODE_STEPS)
    steps = []
    while not runner.done:
        steps.append(runner.step())
    assert runner.result().success
    return steps


# -- encode / decode ------------------------------------------------------------------------------
def test_encode_decode_round_trip_in_physical_units():
    scale = CommandScale()
    c = Command(palm_velocity=(0.5, -1.0, 0.25), twist=-3.0, wrist=1.5, grasp=0.75)
    v = encode(c, scale)
    assert v.dtype == np.float32 and v.shape == (COMMAND_DIM,)
    np.testing.assert_allclose(v, [0.25, -0.5, 0.125, -0.5, 0.5, 0.5], atol=1e-7)
    back = decode(v, scale)
    np.testing.assert_allclose(back.palm_velocity, c.palm_velocity, atol=1e-6)
    assert (back.twist, back.wrist, back.grasp) == pytest.approx((c.twist, c.wrist, c.grasp))
    rng = np.random.default_rng(0)
    for v in rng.uniform(-1, 1, (50, COMMAND_DIM)).astype(np.float32):
        np.testing.assert_allclose(encode(decode(v)), v, atol=1e-6)
    other = CommandScale(palm_speed=0.5, twist_rate=1.0, wrist_rate=1.0)
    assert decode(np.ones(6), other).palm_velocity == (0.5, 0.5, 0.5)


def test_encode_clips_rates_beyond_the_scale():
    v = encode(Command(palm_velocity=(10.0, -10.0, 0.0), twist=60.0, wrist=-30.0, grasp=1.0))
    np.testing.assert_array_equal(v, [1.0, -1.0, 0.0, 1.0, -1.0, 1.0])
    assert encode(Command(grasp=0.0))[5] == -1.0


def test_decode_clips_and_zeroes_non_finite_entries():
    c = decode(np.array([np.nan, 5.0, -np.inf, np.inf, -7.0, np.nan]))
    assert c.palm_velocity == (0.0, 2.0, -2.0)
    assert c.twist == pytest.approx(6.0) and c.wrist == pytest.approx(-3.0)
    assert c.grasp == pytest.approx(0.5)  # NaN -> 0 -> grasp level 0.5
    assert all(math.isfinite(x) for x in (*c.palm_velocity, c.twist, c.wrist, c.grasp))
    with pytest.raises(ValueError, match="6 entries"):
        decode(np.zeros(5))
    with pytest.raises(ValueError, match="palm_speed"):
        CommandScale(palm_speed=0.0)


# -- the door in Command space -------------------------------------------------------------------
def test_command_actions_is_a_valid_gymnasium_env():
    env = CommandActions(sim.make_door())
    assert env.action_space.shape == (COMMAND_DIM,)
    assert env.action_space.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env, skip_render_check=True)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert info["action_28d"].shape == (sim.ACT_DIM,) and reward in (-1.0, 0.0)
    assert np.all(np.abs(info["action_28d"]) <= 1.0)
    with pytest.raises(RuntimeError, match="before reset"):
        CommandActions(sim.make_door()).step(np.zeros(COMMAND_DIM))


def test_command_actions_can_be_remade_from_its_spec():
    env = CommandActions(sim.make_door())
    again = env.spec.make()
    assert isinstance(again, CommandActions)
    again.close()


def test_a_plus_y_palm_command_moves_the_palm_toward_plus_y():
    env = CommandActions(sim.make_door())
    obs, _ = env.reset(seed=0)
    start = obs[OBS_PALM].copy()
    command = encode(Command(palm_velocity=(0.0, 0.3, 0.0)))
    for _ in range(20):
        obs, *_ = env.step(command)
    moved = obs[OBS_PALM] - start
    # 0.3 m/s for 0.2 s is 6 cm: most of it along +y, little sideways or vertical drift.
    assert 0.04 < moved[1] < 0.08
    assert abs(moved[0]) < 0.01 and abs(moved[2]) < 0.01


# -- labelling 28-D steps ------------------------------------------------------------------------
def test_labeler_recovers_the_scripted_guides_palm_velocity_twist_and_grasp(env, scripted_steps):
    labeler = CommandLabeler.for_env(env)
    issued = np.stack([tr.command for tr in scripted_steps])
    previous = [None] + [tr.action for tr in scripted_steps[:-1]]
    pairs = zip(scripted_steps, previous, strict=True)
    labels = np.stack([labeler(tr.obs, tr.action, tr.next_obs, p) for tr, p in pairs])
    assert labels.dtype == np.float32 and labels.shape == (sim.EPISODE_STEPS, COMMAND_DIM)
    assert np.all(np.abs(labels) <= 1.0)
    err = np.abs(labels - issued).mean(0)
    # Measured on this episode: palm 0.055 / 0.12 / 0.055, twist 0.009, wrist 0.012, grasp 0.003
    assert err[0] < 0.1 and err[1] < 0.2 and err[2] < 0.1
    assert err[3] < 0.03 and err[4] < 0.03 and err[5] < 0.01
    assert np.abs(labels[:, 5] - issued[:, 5]).max() <= 0.03  # grasp: within the level grid
    for i in (0, 1, 2, 3):  # the labels follow the Commands, not just a small average error
        assert np.corrcoef(labels[:, i], issued[:, i])[0, 1] > 0.75


def test_labeler_reads_a_pure_wrist_command_in_free_space():
    env = CommandActions(sim.make_door())
    labeler = CommandLabeler.for_env(env)
    obs, _ = env.reset(seed=0)
    command = encode(Command(wrist=1.5))
    labels, previous = [], None
    for _ in range(15):
        next_obs, *_, info = env.step(command)
        labels.append(labeler(obs, info["action_28d"], next_obs, previous))
        obs, previous = next_obs, info["action_28d"]
    # The servo's target moves at the commanded rate from the first step (the joint lags it).
    for label in labels:
        assert label[4] == pytest.approx(0.5, abs=0.01)
    assert abs(labels[-1][3]) < 0.02  # no roll (the palm moves: it is off the wrist's axis)


# -- the explorer takes over a Command guide's mapper --------------------------------------------
def test_command_explorer_take_over_carries_the_guides_mapper_targets(env):
    guide = make_guide("scripted", env, seed=0)
    obs, _ = env.reset(seed=0)
    guide.reset(obs)
    for _ in range(30):  # mid-reach: the guide's targets lead the measured pose
        obs, *_ = env.step(guide.act(obs))
    policy = Explorer(sim.OBS_DIM, COMMAND_DIM, SACConfig(hidden=16), seed=0)
    explorer = CommandExplorer(policy, CommandController(CommandMapper.for_env(env)))
    mapper = explorer.controller.mapper
    pose = mapper.joint_positions(obs)
    assert not np.allclose(guide.mapper.targets, pose, atol=1e-3)

    explorer.take_over(obs, guide)
    np.testing.assert_array_equal(mapper.targets, guide.mapper.targets)
    assert mapper.targets is not guide.mapper.targets  # a copy: the guide's stay its own
    action = explorer.act(obs, deterministic=True)
    assert action.shape == (sim.ACT_DIM,) and explorer.command_vector.shape == (COMMAND_DIM,)

    explorer.take_over(obs, None)  # no Command actor before (a 28-D one, or none): hold the pose
    np.testing.assert_allclose(mapper.targets, pose)
    with pytest.raises(ValueError, match="6-D policy"):
        CommandExplorer(
            Explorer(sim.OBS_DIM, sim.ACT_DIM, SACConfig(hidden=16)), explorer.controller
        )


# -- a faster explorer (--explorer-speed) ---------------------------------------------------------


def test_a_faster_controller_widens_its_units_caps_and_lead_together(env):
    person = CommandController.for_env(env)
    assert person.scale == CommandScale()
    assert person.mapper.config == MapperConfig(dt=env.unwrapped.dt)
    fast = CommandController.for_env(env, 1.5)
    cfg = fast.mapper.config
    assert (cfg.max_palm_speed, cfg.max_twist_rate, cfg.max_wrist_rate) == (3.0, 9.0, 4.5)
    assert math.isclose(cfg.max_lead, 0.12)
    assert decode(np.array([1, 0, 0, -1, 1, 1.0]), fast.scale) == Command(
        palm_velocity=(3.0, 0.0, 0.0), twist=-9.0, wrist=4.5, grasp=1.0
    )
    v = np.array([1.0, -1.0, 0.5, 1.0, -0.2, -1.0], np.float32)
    np.testing.assert_allclose(fast.to_person(v), [1.5, -1.5, 0.75, 1.5, -0.3, -1.0], rtol=1e-6)
    np.testing.assert_allclose(fast.from_person(fast.to_person(v)), v, rtol=1e-6)
    np.testing.assert_allclose(rescale(v, CommandScale(), CommandScale()), v)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="positive number"):
            CommandController.for_env(env, bad)


def test_a_faster_controller_moves_the_palm_faster(env):
    """The same +y Command vector, 1.5 times the speed: the palm travels about 1.5 times as far."""

    def travel(speed: float) -> float:
        obs, _ = env.reset(seed=0)
        controller = CommandController.for_env(env, speed)
        controller.reset(obs)
        start = obs[OBS_PALM].copy()
        for _ in range(8):
            obs, *_ = env.step(controller(np.array([0, 0.5, 0, 0, 0, -1.0]), obs))
        return float(obs[OBS_PALM][1] - start[1])

    slow, fast = travel(1.0), travel(1.5)
    assert slow > 0.02 and 1.3 < fast / slow < 1.7, (slow, fast)


def test_a_faster_explorer_records_its_commands_in_a_persons_units(env):
    policy = Explorer(sim.OBS_DIM, COMMAND_DIM, SACConfig(hidden=16), seed=0)
    explorer = CommandExplorer(policy, CommandController.for_env(env, 2.0))
    obs, _ = env.reset(seed=0)
    explorer.take_over(obs, None)
    explorer.act(obs, deterministic=True)
    own = policy.act(obs, deterministic=True)
    np.testing.assert_allclose(explorer.command_vector[:5], 2.0 * own[:5], rtol=1e-5)
    assert explorer.command_vector[5] == pytest.approx(own[5])
