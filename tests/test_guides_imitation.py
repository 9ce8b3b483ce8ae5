"""The imitation guide: behaviour cloning on a recording, its cache, and the DAgger trainer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import sim
from episode.guide import GuideError
from episode.runner import EpisodeRunner
from episode.types import Actor
from guides.dagger import DaggerConfig, DaggerLoop, describe_status
from guides.imitation import (
    CACHE_FILE,
    ImitationConfig,
    ImitationTrainer,
    describe,
    load_imitation_guide,
    read_demos,
)
from guides.mapping import mapper_for
from guides.registry import make_guide
from guides.scripted import ScriptedGuide
from recordings.reader import load_transitions
from recordings.writer import DatasetWriter
from teleop.command_space import COMMAND_DIM, CommandController
from teleop.mapper import CommandMapper

FAST = ImitationConfig(steps=150, hidden=32, batch_size=64, eval_episodes=1)


def record_scripted(dataset: Path, episodes: int, seed: int, append: bool = False) -> None:
    env = sim.make_door()
    with DatasetWriter(dataset, append=append) as writer:
        runner = EpisodeRunner(env, ScriptedGuide(mapper_for(env)), None, recorder=writer)
        for i in range(episodes):
            runner.run_episode(seed + i, sim.EPISODE_STEPS)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "door-scripted-v0"
    record_scripted(path, 2, seed=100)
    return path


def test_trains_evaluates_and_caches(dataset: Path) -> None:
    guide = load_imitation_guide(dataset, FAST)
    assert guide.kind == "imitation"
    assert not guide.info.cached and guide.info.samples == 2 * sim.EPISODE_STEPS
    assert guide.evaluation is not None and guide.evaluation.episodes == 1
    assert 0.0 <= guide.success_rate <= 1.0
    assert (dataset / CACHE_FILE).is_file()
    assert "success" in describe(guide)

    env = sim.make_door()
    obs, _ = env.reset(seed=7)
    guide.reset(obs)
    action = guide.act(obs)
    assert action.shape == (28,) and action.dtype == np.float32
    assert np.all(np.abs(action) <= 1.0)
    # the scripted guide's episodes carry their Commands: the guide clones those (auto space)
    assert guide.space == "command" and guide.policy.act_dim == COMMAND_DIM
    mean, scale = guide.scaling
    expected = np.clip(mean + scale * guide.policy.act(obs.astype(np.float32)), -1, 1)
    np.testing.assert_allclose(guide.command_vector, expected, atol=1e-5)
    by_hand = CommandController(mapper_for(env))
    by_hand.reset(obs)
    np.testing.assert_allclose(action, by_hand(guide.command_vector, obs), atol=1e-6)
    assert isinstance(guide.mapper, CommandMapper)  # what a Command explorer continues from

    again = load_imitation_guide(dataset, FAST)
    assert again.info.cached and again.space == "command"
    assert again.evaluation == guide.evaluation
    again.reset(obs)
    np.testing.assert_allclose(again.act(obs), action, atol=1e-6)


def test_joint_space_clones_the_28d_actions(dataset: Path) -> None:
    guide = load_imitation_guide(dataset, dataclasses.replace(FAST, space="joint"))
    assert guide.space == "joint" and guide.command_vector is None and guide.mapper is None
    obs, _ = sim.make_door().reset(seed=7)
    mean, scale = guide.scaling
    expected = np.clip(mean + scale * guide.policy.act(obs.astype(np.float32)), -1, 1)
    np.testing.assert_allclose(guide.act(obs), expected, atol=1e-5)


def test_command_space_needs_recorded_commands(tmp_path: Path) -> None:
    path = tmp_path / "door-joint-v0"
    with DatasetWriter(path) as writer:  # 28-D steps only, no Commands
        write_episode(writer, "user", [Actor.GUIDE] * 12, seed=3)
    obs, actions, _, _ = read_demos(path, ImitationConfig())  # auto: the 28-D actions
    assert actions.shape == (12, 28)
    with pytest.raises(GuideError, match="recorded no Commands"):
        read_demos(path, ImitationConfig(space="command"))
    with pytest.raises(ValueError, match="space must be"):
        ImitationConfig(space="both")  # type: ignore[arg-type]
    joint = ImitationTrainer(ImitationConfig(space="joint"))
    assert joint.space == "joint" and joint.add_demos(obs[:2], actions[:2]) == 2


def test_observation_noise_changes_the_fit_and_is_checked() -> None:
    from learner.bc import train_bc_policy

    rng = np.random.default_rng(0)
    obs = rng.normal(size=(64, 5)).astype(np.float32)
    actions = np.tanh(obs[:, :2]).astype(np.float32)
    plain = train_bc_policy(obs, actions, hidden=16, steps=50, batch_size=16)
    noisy = train_bc_policy(obs, actions, hidden=16, steps=50, batch_size=16, obs_noise=0.5)
    again = train_bc_policy(obs, actions, hidden=16, steps=50, batch_size=16, obs_noise=0.5)
    assert not np.allclose(plain.act(obs), noisy.act(obs))
    np.testing.assert_array_equal(noisy.act(obs), again.act(obs))  # seeded noise
    with pytest.raises(ValueError, match="obs_noise"):
        train_bc_policy(obs, actions, steps=1, obs_noise=-1.0)


def test_cache_invalidated_when_the_dataset_changes(dataset: Path) -> None:
    first = load_imitation_guide(dataset, FAST)
    record_scripted(dataset, 1, seed=200, append=True)
    second = load_imitation_guide(dataset, FAST)
    assert not second.info.cached
    assert second.info.samples == first.info.samples + sim.EPISODE_STEPS
    assert load_imitation_guide(dataset, FAST).info.cached


def test_other_settings_train_again_and_keep_both(dataset: Path) -> None:
    load_imitation_guide(dataset, FAST)
    other = ImitationConfig(steps=100, hidden=32, batch_size=64, eval_episodes=1)
    assert not load_imitation_guide(dataset, other).info.cached
    assert load_imitation_guide(dataset, FAST).info.cached
    assert load_imitation_guide(dataset, other).info.cached


def write_episode(writer: DatasetWriter, kind: str, actors: list[Actor], seed: int) -> None:
    env = sim.make_door()
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    writer.begin_episode(obs, seed=seed, h=0, guide_kind=kind)
    for actor in actors:
        action = rng.uniform(-1, 1, 28).astype(np.float32)
        obs, reward, term, trunc, info = env.step(action)
        writer.add_step(action, reward, obs, term, trunc, actor=actor, h=0,
                        success=info["success"])  # fmt: skip
    writer.end_episode()


def test_clones_only_guide_and_human_steps(tmp_path: Path) -> None:
    path = tmp_path / "door-explorer-v0"
    with DatasetWriter(path) as writer:
        write_episode(writer, "scripted", [Actor.EXPLORER] * 20, seed=0)
    with pytest.raises(GuideError, match="no guide/human steps"):
        load_imitation_guide(path, FAST)
    assert len(load_transitions(path)["obs"]) == 20


def test_never_clones_its_own_guide_steps(tmp_path: Path) -> None:
    path = tmp_path / "door-mixed-v0"
    with DatasetWriter(path) as writer:
        write_episode(writer, "imitation", [Actor.GUIDE] * 8 + [Actor.HUMAN] * 5, seed=1)
        write_episode(writer, "human", [Actor.GUIDE] * 7 + [Actor.EXPLORER] * 3, seed=2)
    obs, actions, episodes, _ = read_demos(path, ImitationConfig())
    assert len(obs) == len(actions) == 5 + 7 and episodes == 2
    data = load_transitions(path)
    human = data["actor"] == int(Actor.HUMAN)
    np.testing.assert_array_equal(actions[:5], data["actions"][human])


def test_bad_specs_raise_guide_error(tmp_path: Path) -> None:
    env = sim.make_door()
    with pytest.raises(GuideError, match="not a dataset"):
        make_guide(f"imitation:{tmp_path}/door-none-v0", env)
    with pytest.raises(GuideError, match="imitation:DATASET"):
        make_guide("imitation:", env)


def test_trainer_aggregates_interventions_and_retrains(dataset: Path) -> None:
    trainer = ImitationTrainer(ImitationConfig(steps=60, hidden=32, batch_size=32, eval_episodes=0))
    assert not trainer.retrain()  # nothing to learn from yet
    assert trainer.latest() == (0, None)
    n = trainer.add_dataset(dataset)
    assert n == 2 * sim.EPISODE_STEPS
    assert trainer.retrain()
    assert trainer.wait(timeout=120)
    version, guide = trainer.latest()
    assert version == 1 and guide is not None and guide.kind == "imitation"

    obs, commands, _, _ = read_demos(dataset, ImitationConfig())  # the scripted guide's Commands
    assert trainer.space == "command" and commands.shape[1] == 6
    assert trainer.add_interventions(obs[:10], commands[:10]) == n + 10
    with pytest.raises(ValueError, match="6 per step"):
        trainer.add_interventions(obs[:3], np.zeros((3, 28), np.float32))
    assert trainer.retrain()
    assert trainer.wait(timeout=120)
    stats = trainer.stats()
    assert stats.version == 2 and stats.samples == n + 10 and stats.intervention_samples == 10
    assert not stats.training and stats.error is None
    assert trainer.latest()[1] is not guide
    trainer.stop()


def test_stop_ends_a_round_at_its_next_step_and_publishes_nothing(dataset: Path) -> None:
    long_round = ImitationConfig(steps=10_000_000, hidden=32, batch_size=32, eval_episodes=0)
    trainer = ImitationTrainer(long_round)
    trainer.add_dataset(dataset)
    assert trainer.retrain()
    assert trainer.stats().training  # a round is under way (or queued)
    trainer.stop(timeout=60)  # a round of 10M steps: it only ends this soon if it stops early
    assert not trainer.stats().training
    assert trainer.latest() == (0, None)  # the half-trained guide is not published


# -- the app's DAgger loop (guides/dagger.py) ------------------------------------------------

TINY = ImitationConfig(steps=60, hidden=32, batch_size=32, eval_episodes=0)


def loop_episode(
    loop: DaggerLoop, runner: EpisodeRunner, teacher: ScriptedGuide, seed: int,
    human: range = range(0), steps: int = sim.EPISODE_STEPS,
) -> None:  # fmt: skip
    """One episode, every step fed to the loop; the scripted teacher stands in for a person
    at the steps in ``human`` (HUMAN interventions)."""
    runner.reset(seed, sim.EPISODE_STEPS)
    teacher.reset(runner.obs)
    while not runner.done and runner.t < steps:
        action = teacher.act(runner.obs) if runner.t in human else None
        tr = runner.step(action, None if action is None else teacher.command_vector)
        loop.record(tr.obs, tr.action, tr.actor, tr.command)
    loop.episode_ended(runner.result().guide_kind)
    runner.finish()


def test_dagger_loop_trains_after_k_demos_switches_and_aggregates_interventions() -> None:
    env = sim.make_door()
    teacher = ScriptedGuide(mapper_for(env))
    runner = EpisodeRunner(env, teacher, None)
    loop = DaggerLoop(DaggerConfig(after=2, teachers=("scripted",), imitation=TINY, nice=0))
    loop_episode(loop, runner, teacher, seed=1)
    status = loop.status()
    assert (status.demos, status.samples, status.version) == (1, sim.EPISODE_STEPS, 0)
    assert not status.started and not status.training
    loop_episode(loop, runner, teacher, seed=2, steps=5)  # too short to count as a demo
    assert loop.demos == 1 and loop.status().samples == sim.EPISODE_STEPS + 5
    assert loop.guide("scripted") is None and "no imitation guide yet" in loop.toggle()

    loop_episode(loop, runner, teacher, seed=3)  # the 2nd demo: training starts
    status = loop.status()
    assert status.started and (status.training or status.version == 1)
    assert loop.trainer.wait(timeout=120)
    assert "press I" in (loop.news() or "") and loop.news() is None  # it asks, once
    assert not loop.switch_due("scripted") and loop.guide("scripted") is None  # not by itself
    assert "imitation v1" in loop.toggle()  # the person accepts
    assert loop.switch_due("scripted") and not loop.switch_due("human")
    assert loop.guide("human") is None  # stands in for a teacher only
    guide = loop.guide("scripted")
    assert guide is not None and loop.in_use == 1 and loop.label(guide) == "imitation v1"
    assert not loop.switch_due("scripted")

    runner.guide = guide  # an imitation-guided episode; the person takes over for 15 steps
    loop_episode(loop, runner, teacher, seed=4, human=range(40, 55))
    assert loop.status().intervention_samples == 15
    assert loop.trainer.wait(timeout=120)  # the DAgger round it requested
    assert loop.status().version == 2 and loop.switch_due("scripted")
    loop_episode(loop, runner, teacher, seed=5)  # no takeover: nothing new to learn
    assert loop.trainer.wait(timeout=120) and loop.status().version == 2
    assert loop.guide("scripted") is not guide and loop.in_use == 2

    assert "scripted" in loop.toggle() and loop.guide("scripted") is None
    assert "imitation v2" in loop.toggle() and loop.guide("scripted") is not None
    state, data = describe_status(loop.status())
    assert state.startswith("v2 guiding") and "15 interventions" in data
    loop.close()


def test_dagger_loop_off_and_a_failed_trainer_is_reported_not_raised() -> None:
    off = DaggerLoop(DaggerConfig(after=0))
    off.record(np.zeros(sim.OBS_DIM), np.zeros(sim.ACT_DIM), Actor.GUIDE)
    off.episode_ended("human")
    assert not off.enabled and off.status().samples == 0 and "off" in off.toggle()

    loop = DaggerLoop(DaggerConfig(after=1, min_demo_steps=3, imitation=TINY, nice=0))
    obs = np.full((4, sim.OBS_DIM), np.nan)  # data the trainer rejects in its thread
    for o in obs:
        loop.record(o, np.zeros(sim.ACT_DIM), Actor.GUIDE)  # no Command: not cloned
    loop.episode_ended("human")
    assert loop.status().samples == 0
    for o in obs:
        loop.record(o, np.zeros(sim.ACT_DIM), Actor.GUIDE, np.zeros(6))
    loop.episode_ended("human")
    with pytest.raises(RuntimeError, match="imitation trainer failed"):
        loop.trainer.wait(timeout=60)
    assert "imitation trainer failed" in (loop.error_line() or "")
    assert describe_status(loop.status())[0].startswith("FAILED")
    for o in obs:
        loop.record(o, np.zeros(sim.ACT_DIM), Actor.GUIDE, np.zeros(6))
    loop.episode_ended("human")  # more data after the failure: no crash, no retrain
    assert loop.guide("human") is None
    with pytest.raises(ValueError, match="teachers"):
        DaggerConfig(teachers=("imitation",))
