"""Minari both ways: datasets Minari wrote (DataCollector, combine of our own recordings) are
read by ``recordings info``, the reader, ``--offline-data`` and ``imitation:``."""

from __future__ import annotations

import numpy as np
import pytest

import launch
import sim
from episode.types import Actor
from guides.registry import make_guide
from recordings.reader import iter_episodes, load_transitions, read_one, summarize


@pytest.fixture
def minari_root(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "datasets"))
    return tmp_path / "datasets"


def collected_by_minari(root, name="door-minari-v0", episodes=3):
    """Scripted-guide episodes given to ``minari.create_dataset_from_buffers`` (not written by
    this project), with the door's dense-reward-free binary reward and no infos of ours."""
    import minari
    from minari.data_collector.episode_buffer import EpisodeBuffer

    env = sim.make_door()
    guide = make_guide("scripted", env, seed=0)
    buffers = []
    for seed in range(episodes):
        obs, _ = env.reset(seed=seed)
        guide.reset(obs)
        observations, actions, rewards = [obs], [], []
        for _ in range(sim.EPISODE_STEPS):
            action = guide.act(obs)
            obs, reward, *_ = env.step(action)
            observations.append(obs)
            actions.append(action)
            rewards.append(reward)
        n = len(actions)
        buffers.append(EpisodeBuffer(
            id=seed, seed=seed, observations=observations, actions=actions, rewards=rewards,
            terminations=[False] * n, truncations=[False] * (n - 1) + [True], infos={},
        ))  # fmt: skip
    minari.create_dataset_from_buffers(
        name, buffers, env=env.spec, algorithm_name="scripted", author="someone else"
    )
    env.close()
    return root / name


def test_a_dataset_minari_wrote_reads_like_ours(minari_root, capsys):
    dataset = collected_by_minari(minari_root)
    episodes = list(iter_episodes(dataset))
    assert len(episodes) == 3 and all(len(e) == 200 for e in episodes)
    assert all(set(np.unique(e.actor)) == {int(Actor.GUIDE)} for e in episodes)
    assert all(set(np.unique(e.rewards)) <= {-1.0, 0.0} for e in episodes)  # door-binary
    assert sum(e.success for e in episodes) >= 2  # the expert opens it
    assert len(read_one(dataset, 2)) == 200
    data = load_transitions(dataset, {Actor.GUIDE})
    assert data["obs"].shape == (600, 39) and data["actions"].shape == (600, 28)
    summary = summarize(dataset)
    assert summary.episodes == 3 and summary.guide_kinds == {"minari": 3}
    assert launch.main(["recordings", "info", str(dataset)]) == 0
    assert "written by Minari" in capsys.readouterr().out


def test_minari_combine_of_our_recordings_and_training_from_it(minari_root, tmp_path, capsys):
    import minari

    for name, seed in (("door-a-v0", "0"), ("door-b-v0", "10")):
        argv = ["collect", "--guide", "scripted", "--episodes", "2", "--seed", seed,
                "--no-progress", "--out", str(minari_root / name)]  # fmt: skip
        assert launch.main(argv) == 0
    combined = minari.combine_datasets(
        [minari.load_dataset("door-a-v0"), minari.load_dataset("door-b-v0")], "door-ab-v0"
    )
    assert combined.total_episodes == 4
    dataset = minari_root / "door-ab-v0"
    assert summarize(dataset).episodes == 4
    assert len(load_transitions(dataset)["rewards"]) == 800
    run = tmp_path / "run"
    argv = ["train", "--run-dir", str(run), "--guide", "none", "--strategy", "none",
            "--guide-episodes", "0", "--offline-data", str(dataset), "--steps", "200",
            "--eval-episodes", "0", "--no-progress", "--sac.hidden", "16",
            "--learner.warmup-steps", "100000"]  # fmt: skip
    assert launch.main(argv) == 0, capsys.readouterr().err
    guide = make_guide(f"imitation:{dataset}", sim.make_door(), seed=0)
    assert guide.kind == "imitation"


def test_a_minari_dataset_of_another_task_is_one_line(minari_root, capsys):
    import gymnasium as gym
    import minari
    from minari.data_collector.episode_buffer import EpisodeBuffer

    env = gym.make("Pendulum-v1")
    obs, _ = env.reset(seed=0)
    buffer = EpisodeBuffer(
        id=0,
        observations=[obs, obs],
        actions=[env.action_space.sample()],
        rewards=[0.0],
        terminations=[False],
        truncations=[True],
        infos={},
    )
    minari.create_dataset_from_buffers("pendulum-x-v0", [buffer], env=env.spec)
    env.close()
    assert launch.main(["recordings", "info", str(minari_root / "pendulum-x-v0")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another task" in err[0], err
