"""Rollout workers on a real local Ray cluster (two workers, no mocks of Ray).

One cluster serves the whole module (``ray.init`` takes seconds); the pools use it and leave it
running. The runs are tiny: a few hundred env steps, the learner small or off.
"""

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
import ray

import launch
import sim
from learner.collect import collect_session
from learner.metrics import read_csv
from learner.ray_runs import play_session
from learner.ray_workers import WorkerPool, WorkerSpec
from learner.run_dir import TRAIN_DATASET
from learner.session_setup import episode_seed
from recordings.reader import iter_episodes
from tests.test_train_cli import TINY

WORKERS = ["--workers", "2"]


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


scripted = launch.guide_builder(launch.parse_spec("scripted"), 0)  # as the CLI builds it


def minari_episodes(dataset: Path):
    os.environ["MINARI_DATASETS_PATH"] = str(dataset.parent)
    import minari

    return minari.load_dataset(dataset.name)


def test_train_on_two_workers_records_every_episode_once(tmp_path, capsys):
    run = tmp_path / "run"
    args = [
        "train",
        "--run-dir",
        str(run),
        *TINY,
        "--guide-episodes",
        "2",
        "--bc-steps",
        "50",
        "--steps",
        "600",
    ]
    assert launch.main([*args, *WORKERS, "--seed", "4"]) == 0
    assert "2 Ray workers, at most 2 episodes in flight" in capsys.readouterr().out

    dataset = run / TRAIN_DATASET
    seeds = [e.seed for e in iter_episodes(dataset)]
    assert seeds == [episode_seed(4, k) for k in range(3)]  # each once, in the run's order
    rows = read_csv(run / "metrics" / "episodes.csv")
    assert [int(r["env_steps"]) for r in rows] == [200, 400, 600]
    assert [int(r["seed"]) for r in rows] == seeds
    loaded = minari_episodes(dataset)
    assert loaded.total_episodes == 3 and loaded.total_steps == 600
    assert {int(v) for ep in loaded for v in ep.infos["actor"][1:]} <= {0, 1}

    # eval on the workers plays the very episodes eval plays in one process
    ckpt = ["eval", "--checkpoint", str(run), "--episodes", "2", "--json", "--no-progress"]
    assert launch.main(ckpt) == 0
    here = json.loads(capsys.readouterr().out)
    assert launch.main([*ckpt, *WORKERS]) == 0
    assert json.loads(capsys.readouterr().out) == here

    # a finished run goes on with --resume and more steps, on the workers again
    assert launch.main([*args, *WORKERS, "--seed", "4", "--steps", "800", "--resume"]) == 0
    assert [e.seed for e in iter_episodes(dataset)] == [episode_seed(4, k) for k in range(4)]


def test_collect_on_workers_matches_one_process(tmp_path, capsys):
    one, two = tmp_path / "door-one-v0", tmp_path / "door-two-v0"
    argv = ["collect", "--guide", "scripted", "--episodes", "3", "--no-progress", "--seed", "5"]
    assert launch.main([*argv, "--out", str(one)]) == 0
    assert launch.main([*argv, "--out", str(two), *WORKERS]) == 0
    assert "recorded 3 episodes (600 steps)" in capsys.readouterr().out
    a, b = list(iter_episodes(one)), list(iter_episodes(two))
    assert [e.seed for e in b] == [5, 6, 7]
    for x, y in zip(a, b, strict=True):  # the same runner, guide and seeds: the same steps
        np.testing.assert_array_equal(x.actions, y.actions)
    assert minari_episodes(two).total_steps == 600


class StepCurriculum:
    """``h`` shrinks by 10 with every episode the driver commits."""

    strategy = "fixed"

    def __init__(self):
        self.updates = 0

    def horizon(self):
        return 150 - 10 * self.updates

    def update(self, result):
        self.updates += 1

    def status(self):
        from learner.curriculum import CurriculumStatus

        return CurriculumStatus("fixed", self.horizon(), 0, 1, 150, "test")

    def state_dict(self):
        return {"strategy": "fixed", "h": 0}

    def load_state_dict(self, state):
        pass


def test_h_reaches_every_worker_within_one_episode(tmp_path):
    env = sim.make_door()
    session = collect_session(tmp_path / "door-h-v0", scripted(env), seed=0, env=env)
    session.parts.curriculum = StepCurriculum()
    pool = WorkerPool(2, WorkerSpec(scripted, None), log_to_driver=False)
    try:
        play_session(session, pool, lambda k: k < 6)
    finally:
        pool.close()
        session.close()
    hs = [e.h for e in iter_episodes(tmp_path / "door-h-v0")]
    # episode k was given out after k - 1 or k commits: the current h or the one before it
    assert all(h in (150 - 10 * k, 150 - 10 * (k - 1)) for k, h in enumerate(hs)), hs
    assert hs[-1] <= 110 and pool.staleness.max_in_flight <= 2  # both workers saw h shrink


def test_a_killed_worker_is_replaced_and_the_run_goes_on(tmp_path):
    out = tmp_path / "door-kill-v0"
    env = sim.make_door()
    session = collect_session(out, scripted(env), seed=0, env=env)
    pool = WorkerPool(2, WorkerSpec(scripted, None), log_to_driver=False)
    before = pool.pids()

    def kill_once(result, finished):
        if result.seed == 0:  # worker 1 is busy (or about to be) while episode 0 commits
            os.kill(before[1], signal.SIGKILL)

    session.add_episode_observer(kill_once)
    try:
        play_session(session, pool, lambda k: k < 5)
        after = pool.pids()
    finally:
        pool.close()
        session.close()
    assert after[0] == before[0] and after[1] != before[1]  # Ray restarted worker 1
    assert pool.staleness.restarts >= 1
    assert [e.seed for e in iter_episodes(out)] == [0, 1, 2, 3, 4]  # each once, none lost
    assert minari_episodes(out).total_episodes == 5


def test_without_ray_workers_say_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if not installed
    run = ["train", "--run-dir", str(tmp_path / "r"), *TINY, "--steps", "200"]
    assert launch.main([*run, *WORKERS]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "pip install -e '.[ray]'" in err and "--workers 2" in err
    out = ["collect", "--episodes", "1", "--out", str(tmp_path / "d-v0"), *WORKERS]
    assert launch.main(out) == 2 and "ray==2.60.0" in capsys.readouterr().err
    assert launch.main([*run, "--ray-address", "auto"]) == 2
    assert "--ray-address needs --workers" in capsys.readouterr().err
    assert launch.main([*run, "--workers", "0"]) == 2
    assert not (tmp_path / "r").exists()


def test_bench_jobs_run_as_ray_tasks(tmp_path):
    from bench.parallel import TrainJob
    from bench.ray_jobs import run_jobs_on_ray

    jobs = [
        TrainJob("help", ["train", "--help"], tmp_path / "help.log"),
        TrainJob(
            "bad", ["train", "--run-dir", str(tmp_path / "r"), "--steps", "0"], tmp_path / "bad.log"
        ),
    ]
    assert run_jobs_on_ray(jobs, workers=2) == ["bad"]  # the shared cluster: one CPU a task
    assert "--workers" in (tmp_path / "help.log").read_text()
    assert "--steps must be >= 1" in (tmp_path / "bad.log").read_text()


class FailingGuide:
    kind = "failing"

    def reset(self, obs):
        pass

    def act(self, obs):
        raise ValueError("the guide broke at its first step")


def failing_guide(env):
    return FailingGuide()


def test_an_error_in_a_worker_reaches_the_driver_as_itself():
    from learner.ray_workers import EpisodeTask

    pool = WorkerPool(2, WorkerSpec(failing_guide, None), log_to_driver=False)
    try:
        with pytest.raises(ValueError, match="the guide broke"):
            pool.play_in_order(0, lambda k: k < 2, lambda k: EpisodeTask(k, k, 200), print)
    finally:
        pool.close()
