"""``launch.py eval``: the explorer alone or the combined policy; bad checkpoints exit 2."""

import json

import numpy as np
import pytest
import torch

import launch
from learner.checkpoint import latest_checkpoint
from learner.returns import returns_to_go


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "run"
    argv = [
        "train",
        "--run-dir",
        str(run),
        "--steps",
        "200",
        "--strategy",
        "none",
        "--guide",
        "none",
        "--eval-episodes",
        "0",
        "--no-progress",
        "--sac.hidden",
        "16",
        "--learner.warmup-steps",
        "50",
    ]
    assert launch.main(argv) == 0
    return latest_checkpoint(run)


def test_eval_json_is_one_object_and_reproducible(checkpoint, capsys):
    argv = ["eval", "--checkpoint", str(checkpoint), "--episodes", "2", "--json"]
    assert launch.main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    report = json.loads(out[0])
    assert report["episodes"] == 2 and report["horizon"] == 0 and report["env_steps"] == 200
    assert 0.0 <= report["success_rate"] <= 1.0 and 0.0 <= report["normalized_score"] <= 100.0
    assert set(report) >= {"success_rate", "normalized_score", "median_steps_to_open"}
    failures = round((1.0 - report["success_rate"]) * report["episodes"])
    assert sum(report["failed_at"].values()) == failures, report["failed_at"]
    assert launch.main(argv) == 0  # deterministic policy, same seeds: the same numbers
    assert json.loads(capsys.readouterr().out) == report


def test_eval_run_dir_and_combined_policy_table(checkpoint, capsys):
    run_dir = checkpoint.parent.parent
    argv = [
        "eval",
        "--checkpoint",
        str(run_dir),
        "--episodes",
        "1",
        "--horizon",
        "200",
        "--guide",
        "scripted",
        "--no-progress",
    ]
    assert launch.main(argv) == 0
    out = capsys.readouterr().out
    assert "success rate" in out and "scripted for 200 steps" in out
    assert "median steps to open" in out and "failures" in out


def bad(capsys, argv):
    assert launch.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_bad_checkpoints_exit_2_with_one_line(checkpoint, tmp_path, capsys):
    assert "does not exist" in bad(capsys, ["eval", "--checkpoint", str(tmp_path / "no.pt")])
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all" * 10)
    assert "not a readable checkpoint" in bad(capsys, ["eval", "--checkpoint", str(junk)])
    foreign = tmp_path / "foreign.pt"
    torch.save({"actor": {"w": torch.zeros(2)}}, foreign)
    assert "not a Jump-Start Teleop checkpoint" in bad(
        capsys, ["eval", "--checkpoint", str(foreign)]
    )
    other = tmp_path / "other.pt"
    ckpt = torch.load(checkpoint, weights_only=True)
    ckpt["act_dim"] = 6
    torch.save(ckpt, other)
    assert "act_dim=6" in bad(capsys, ["eval", "--checkpoint", str(other)])
    assert "holds no checkpoints" in bad(capsys, ["eval", "--checkpoint", str(tmp_path)])
    assert "--guide" in bad(capsys, ["eval", "--checkpoint", str(checkpoint), "--horizon", "5"])
    assert "--episodes" in bad(capsys, ["eval", "--checkpoint", str(checkpoint), "--episodes", "0"])


def test_release_bench_traces_each_episode_and_refuses_a_missing_checkpoint(
    checkpoint, tmp_path, capsys
):
    from bench import release

    out = tmp_path / "release.json"
    argv = ["--checkpoint", str(checkpoint), "--episodes", "1", "--out", str(out)]
    assert release.main(argv) == 0
    result = json.loads(out.read_text())
    (episode,) = result["episodes"]
    assert episode["seed"] == 10_000 and 0.0 <= episode["max_hinge"] <= 2.0
    assert {"value_at_release", "return_at_release"} <= set(episode)
    if episode["release_step"] is not None:  # -1 a step at most, discounted: >= -1 / (1 - 0.99)
        assert -100.0 <= episode["return_at_release"] <= 0.0
    assert returns_to_go(np.array([-1.0, -1.0, 0.0]), gamma=0.5)[0] == -1.5  # what it reports
    assert set(result["summary"]) == {"success", "failure"}
    capsys.readouterr()
    assert release.main(["--checkpoint", str(tmp_path / "none.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0], err


def test_the_scripted_grasp_touches_the_lever_and_the_release_bench_sees_it():
    import sim
    from bench.release import door_bodies, hand_touching_door
    from guides.registry import make_guide

    env = sim.make_door()
    guide = make_guide("scripted", env, seed=0)
    obs, _ = env.reset(seed=0)
    guide.reset(obs)
    door, seen = door_bodies(env.unwrapped.model), set()
    assert door  # the frame, the door and the latch
    for _ in range(40):  # reach ~21 steps, grasp closed by ~27
        obs, *_ = env.step(guide.act(obs))
        seen |= hand_touching_door(env.unwrapped.model, env.unwrapped.data, door)
    assert any(name.startswith(("ff", "mf", "rf", "lf", "th")) for name in seen), seen
    env.close()
