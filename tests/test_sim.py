"""The door env: registration, binary reward, seeding, env checker, renderer."""

import ctypes.util
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sim
from sim.door import OBS_HINGE
from sim.render import DoorRenderer
from tests.conftest import ROOT


def test_registered_and_checker_passes():
    env = gym.make(sim.ENV_ID)
    check_env(env.unwrapped, skip_render_check=True)
    assert env.observation_space.shape == (sim.OBS_DIM,)
    assert env.action_space.shape == (sim.ACT_DIM,)
    assert env.spec.max_episode_steps == sim.EPISODE_STEPS


def test_binary_reward_and_truncation_at_200():
    env = sim.make_door()
    env.reset(seed=1)
    rewards, success = [], []
    for _ in range(sim.EPISODE_STEPS):
        _, r, term, trunc, info = env.step(np.zeros(sim.ACT_DIM, np.float32))
        rewards.append(r)
        success.append(info["success"])
    assert trunc and not term
    assert set(rewards) <= {-1.0, 0.0}
    assert all(r == float(s) - 1.0 for r, s in zip(rewards, success, strict=True))


def test_success_flag_follows_hinge_angle():
    env = sim.make_door()
    env.reset(seed=0)
    u = env.unwrapped
    u.data.qpos[u.door_hinge_addrs] = 1.5
    obs, r, *_, info = env.step(np.zeros(sim.ACT_DIM, np.float32))
    assert obs[OBS_HINGE] >= sim.SUCCESS_HINGE_ANGLE
    assert info["success"] is True and r == 0.0


def test_seeding_is_reproducible_and_seeds_differ():
    env = sim.make_door()
    a, _ = env.reset(seed=3)
    b, _ = env.reset(seed=3)
    c, _ = env.reset(seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(("ret", "score"), [(-200, 0.0), (0, 100.0), (-50, 75.0)])
def test_normalized_score(ret, score):
    assert sim.normalized_score(ret) == pytest.approx(score)


def test_renderer_size_and_content():
    env = sim.make_door()
    env.reset(seed=0)
    with DoorRenderer(env.unwrapped.model, width=320, height=240) as r:
        frame = r.render(env.unwrapped.data)
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    assert frame.std() > 10  # a scene, not a blank frame
    with pytest.raises(RuntimeError, match="after close"):
        r.render(env.unwrapped.data)


@pytest.mark.parametrize("backend", ["egl", "osmesa"])
def test_renderer_exits_cleanly(backend):
    """A process that renders and exits (without closing) prints no exception."""
    if backend == "osmesa" and ctypes.util.find_library("OSMesa") is None:
        pytest.skip("OSMesa library not installed (apt-get install libosmesa6)")
    code = (
        "import sim; from sim.render import DoorRenderer\n"
        "env = sim.make_door(); env.reset(seed=0)\n"
        "r = DoorRenderer(env.unwrapped.model, 64, 64); r.render(env.unwrapped.data)\n"
    )
    env = {"MUJOCO_GL": backend, "PYOPENGL_PLATFORM": backend, "PATH": "/usr/bin:/bin"}
    proc = fresh_python(code, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Exception" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def fresh_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter from the project root (nothing imported yet)."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_gym_make_works_after_a_plain_import_sim_and_check_env_passes():
    code = (
        "import sim, gymnasium as gym\n"
        "from gymnasium.utils.env_checker import check_env\n"
        "env = gym.make('JumpStart/DoorBinary-v0')\n"
        "check_env(env.unwrapped)\n"
        "check_env(gym.make('JumpStart/DoorBinary-v0', render_mode='rgb_array').unwrapped)\n"
        "print('ok', env.observation_space.shape)\n"
    )
    done = fresh_python(code)
    assert done.returncode == 0 and "ok (39,)" in done.stdout, done.stderr[-2000:]


def test_the_module_prefix_id_makes_the_door_in_a_fresh_interpreter_without_import_sim():
    """Gymnasium 1.x loads no plugin entry points: ``sim:`` imports the registering module."""
    code = (
        "import sys, gymnasium as gym\n"
        "assert 'sim' not in sys.modules\n"
        "try:\n"
        "    gym.make('JumpStart/DoorBinary-v0')\n"
        "except gym.error.NamespaceNotFound:\n"
        "    print('not registered without import sim')\n"
        "env = gym.make('sim:JumpStart/DoorBinary-v0')\n"
        "obs, _ = env.reset(seed=0)\n"
        "print('ok', env.spec.id, obs.shape, env.action_space.shape, env.spec.max_episode_steps)\n"
    )
    done = fresh_python(code)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "not registered without import sim" in done.stdout
    assert "ok JumpStart/DoorBinary-v0 (39,) (28,) 200" in done.stdout, done.stdout
