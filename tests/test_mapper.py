"""The Command -> action mapper on the real door env."""

import mujoco
import numpy as np
import pytest

import sim
from sim.door import OBS_PALM
from teleop.command import Command
from teleop.mapper import ARM, CommandMapper, MapperConfig
from teleop.synergies import FINGER_JOINTS, FIRST_FINGER_INDEX, POWER_GRASP, finger_targets


@pytest.fixture(scope="module")
def env():
    e = sim.make_door()
    yield e
    e.close()


def _run(env, mapper, command, steps, seed=0):
    obs, _ = env.reset(seed=seed)
    mapper.reset(obs)
    start = obs.copy()
    for _ in range(steps):
        obs, *_ = env.step(mapper(command, obs))
    return start, obs


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_palm_velocity_moves_palm_that_way(env, axis, sign):
    mapper = CommandMapper(env.unwrapped.model)
    velocity = [0.0, 0.0, 0.0]
    velocity[axis] = 0.3 * sign
    start, obs = _run(env, mapper, Command(palm_velocity=tuple(velocity)), steps=30)
    moved = obs[OBS_PALM] - start[OBS_PALM]
    # 0.3 m/s for 0.3 s is 9 cm; the arm tracks it closely and barely moves off-axis.
    assert moved[axis] * sign > 0.06, moved
    off_axis = np.delete(moved, axis)
    assert np.all(np.abs(off_axis) < 0.02), moved


def test_zero_command_holds_the_pose(env):
    mapper = CommandMapper(env.unwrapped.model)
    start, obs = _run(env, mapper, Command(), steps=60)
    assert np.linalg.norm(obs[OBS_PALM] - start[OBS_PALM]) < 0.01


def test_grasp_closes_the_fingers(env):
    mapper = CommandMapper(env.unwrapped.model)
    _, obs = _run(env, mapper, Command(grasp=1.0), steps=60)
    fingers = obs[FIRST_FINGER_INDEX - 1 : FIRST_FINGER_INDEX - 1 + len(FINGER_JOINTS)]
    flexors = [i for i, name in enumerate(FINGER_JOINTS) if name[-1] in "012" and name[:2] != "TH"]
    # Every finger flexor moved most of the way to the power grasp.
    assert np.all(fingers[flexors] > 0.6 * POWER_GRASP[flexors]), fingers[flexors]
    thumb_rotation = FINGER_JOINTS.index("THJ4")
    assert fingers[thumb_rotation] > 0.5 * POWER_GRASP[thumb_rotation]


def test_open_hand_is_the_rest_pose():
    assert np.all(finger_targets(0.0) == 0.0)
    assert np.allclose(finger_targets(1.0), POWER_GRASP)


def test_twist_rolls_the_hand_without_moving_the_palm(env):
    mapper = CommandMapper(env.unwrapped.model)
    start, obs = _run(env, mapper, Command(twist=1.0), steps=40)
    assert obs[2] > 0.25  # qpos[3] = ARRz, the forearm roll
    assert np.linalg.norm(obs[OBS_PALM] - start[OBS_PALM]) < 0.02


def test_wrist_plus_tilts_the_fingertips_up(env):
    model = env.unwrapped.model
    mapper = CommandMapper(model)
    _run(env, mapper, Command(wrist=1.0), steps=30)
    data = env.unwrapped.data
    tip = data.site_xpos[model.site("S_mftip").id]
    palm = data.xpos[model.body("palm").id]
    assert tip[2] - palm[2] > 0.02


def test_slide_is_recovered_from_the_palm(env):
    mapper = CommandMapper(env.unwrapped.model)
    obs, _ = env.reset(seed=3)
    assert mapper.joint_positions(obs)[0] == pytest.approx(env.unwrapped.data.qpos[0], abs=1e-9)
    rng = np.random.default_rng(0)
    for _ in range(25):
        obs, *_ = env.step(rng.uniform(-1, 1, 28))
    q = mapper.joint_positions(obs)
    data_q = env.unwrapped.data.qpos[:28]
    assert np.allclose(q[1:], data_q[1:])
    # The palm in the obs is one 2 ms substep older than qpos: exact up to that lag.
    assert q[0] == pytest.approx(data_q[0], abs=5e-3)


def test_mapper_never_touches_the_live_data(env):
    mapper = CommandMapper(env.unwrapped.model)
    obs, _ = env.reset(seed=1)
    before = (env.unwrapped.data.qpos.copy(), env.unwrapped.data.ctrl.copy())
    mapper(Command(palm_velocity=(0.5, 0.5, 0.5), twist=2.0, grasp=1.0), obs)
    assert np.array_equal(env.unwrapped.data.qpos, before[0])
    assert np.array_equal(env.unwrapped.data.ctrl, before[1])


def test_random_extreme_commands_stay_in_ranges(env):
    model = env.unwrapped.model
    mapper = CommandMapper(model)
    lo, hi = model.jnt_range[:28].T
    rng = np.random.default_rng(7)
    obs, _ = env.reset(seed=2)
    mapper.reset(obs)
    for step in range(300):
        scale = 10.0 ** rng.integers(-2, 7)
        command = Command(
            palm_velocity=tuple(rng.uniform(-scale, scale, 3)),
            twist=float(rng.uniform(-scale, scale)),
            wrist=float(rng.uniform(-scale, scale)),
            grasp=float(rng.choice([0.0, 1.0, rng.uniform()])),
        )
        action = mapper(command, obs)
        assert action.dtype == np.float32 and action.shape == (28,)
        assert np.all(np.isfinite(action)) and np.all(np.abs(action) <= 1.0), step
        assert np.all(mapper.targets >= lo - 1e-12) and np.all(mapper.targets <= hi + 1e-12)
        obs, *_ = env.step(action)
    # The arm targets never lead the measured joints by more than the configured leash.
    lead = np.abs(mapper.targets[ARM] - mapper.joint_positions(obs)[ARM])
    assert np.all(lead < 2 * mapper.config.max_lead + 0.05)


def test_calling_before_reset_resets_on_the_spot(env):
    mapper = CommandMapper(env.unwrapped.model)
    obs, _ = env.reset(seed=4)
    action = mapper(Command(), obs)
    assert np.all(np.isfinite(action))
    assert mapper.targets is not None
    assert np.allclose(mapper.targets, mapper.joint_positions(obs))


def test_mapper_rejects_a_bad_observation(env):
    mapper = CommandMapper(env.unwrapped.model)
    obs, _ = env.reset(seed=0)
    mapper.reset(obs)
    bad = obs.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        mapper(Command(), bad)
    with pytest.raises(ValueError, match="39"):
        mapper.reset(obs[:10])
    assert np.all(np.isfinite(mapper.targets))


def test_mapper_config_rejects_bad_values():
    with pytest.raises(ValueError, match="max_palm_speed"):
        MapperConfig(max_palm_speed=0.0)
    with pytest.raises(ValueError, match="arm_kd"):
        MapperConfig(arm_kd=(1.0, 2.0))
    with pytest.raises(ValueError, match="dt"):
        MapperConfig(dt=float("nan"))


def test_mapper_rejects_a_model_that_is_not_the_door():
    model = mujoco.MjModel.from_xml_string(
        "<mujoco><worldbody><site name='S_grasp'/></worldbody></mujoco>"
    )
    with pytest.raises(ValueError, match="28 actuators"):
        CommandMapper(model)
