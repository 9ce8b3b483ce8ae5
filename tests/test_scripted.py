"""The scripted guide (opens the real door through the mapper), built from the registry."""

import numpy as np
import pytest

import sim
from episode.guide import Guide, GuideError
from guides.registry import make_guide
from guides.scripted import Phase, ScriptedConfig, ScriptedGuide
from teleop.mapper import CommandMapper


@pytest.fixture(scope="module")
def env():
    e = sim.make_door()
    yield e
    e.close()


def _episode(env, guide, seed):
    """Run one guided episode; return the first step with the door open (or None)."""
    obs, _ = env.reset(seed=seed)
    guide.reset(obs)
    for t in range(sim.EPISODE_STEPS):
        obs, _, _, _, info = env.step(guide.act(obs))
        if info["success"]:
            return t + 1
    return None


def test_expert_opens_the_door(env):
    guide = make_guide("scripted", env, seed=0)
    opened = [_episode(env, guide, seed) for seed in range(5)]
    assert sum(step is not None for step in opened) >= 4, opened
    assert guide.phase is Phase.RELEASE


def test_act_is_the_mapper_applied_to_command(env):
    one = make_guide("scripted:0.7", env, seed=3)
    two = make_guide("scripted:0.7", env, seed=3)
    obs, _ = env.reset(seed=11)
    one.reset(obs)
    two.reset(obs)
    for _ in range(80):
        action = one.act(obs)
        assert np.array_equal(action, two.mapper(two.command(obs), obs))
        obs, *_ = env.step(action)


def test_quantized_commands_are_keyboard_commands(env):
    config = ScriptedConfig(quantized=True, key_palm_speed=0.5, key_twist_speed=4.0)
    guide = ScriptedGuide(CommandMapper(env.unwrapped.model), config)
    obs, _ = env.reset(seed=5)
    guide.reset(obs)
    grasp, phases = 0.0, set()
    for _ in range(sim.EPISODE_STEPS):
        command = guide.command(obs)
        phases.add(guide.phase)
        assert set(command.palm_velocity) <= {-0.5, 0.0, 0.5}
        assert command.twist in (-4.0, 0.0, 4.0)
        assert command.wrist in (-config.key_wrist_speed, 0.0, config.key_wrist_speed)
        step = config.key_grasp_rate * config.dt
        assert abs(command.grasp - grasp) <= step + 1e-9
        grasp = command.grasp
        obs, *_ = env.step(guide.mapper(command, obs))
    # Quantized, it still gets the lever turned and the door moving.
    assert Phase.PULL in phases


def test_low_skill_changes_the_plan(env):
    expert = make_guide("scripted:1", env, seed=0)
    sloppy = make_guide("scripted:0.2", env, seed=0)
    obs, _ = env.reset(seed=0)
    expert.reset(obs)
    sloppy.reset(obs)
    a, b = expert.command(obs), sloppy.command(obs)
    assert a.palm_velocity != b.palm_velocity


def test_scripted_guide_is_a_guide(env):
    guide = make_guide("scripted:0.5", env, seed=2)
    assert isinstance(guide, Guide)
    assert guide.kind == "scripted"
    assert guide.config.skill == 0.5 and guide.config.seed == 2


def test_config_rejects_bad_skill():
    with pytest.raises(ValueError, match="skill"):
        ScriptedConfig(skill=1.5)


@pytest.mark.parametrize("spec", ["", "  ", "nope", "scripted:", "scripted:abc", "scripted:1.5"])
def test_factory_rejects_bad_specs(env, spec):
    with pytest.raises(GuideError, match=r"scripted\[:SKILL\]"):
        make_guide(spec, env)
