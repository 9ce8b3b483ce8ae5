"""``--guide policy:CKPT``: a checkpoint written by ``train`` as the guide of a new run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import guides.policy  # noqa: F401  (registers the policy: form)
import launch
import sim
from episode.guide import GuideError
from guides.registry import make_guide
from learner.checkpoint import latest_checkpoint, load_explorer

TINY = [
    "--guide", "scripted", "--guide-episodes", "1", "--eval-every", "400", "--eval-episodes",
    "1", "--checkpoint-every", "400", "--no-progress", "--sac.hidden", "32",
    "--sac.batch-size", "32", "--learner.warmup-steps", "100", "--learner.publish-every", "20",
]  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("policy") / "run"
    assert launch.main(["train", "--run-dir", str(run), *TINY, "--steps", "400"]) == 0
    return run


def test_policy_guide_acts_like_the_checkpoint_explorer(run_dir: Path) -> None:
    """The default run trains a Command-space explorer: the guide drives its mapper the same way.

    A Command explorer integrates its Commands into joint targets, so two calls on one
    observation differ; the guide must match a freshly loaded explorer call for call.
    """
    env = sim.make_door()
    guide = make_guide(f"policy:{run_dir}", env, seed=0)
    assert guide.kind == "policy"
    ckpt = latest_checkpoint(run_dir)
    assert ckpt is not None and guide.source == ckpt
    explorer = load_explorer(ckpt, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)
    obs, _ = env.reset(seed=1)
    guide.reset(obs)
    previous = None  # the guide keeps the episode's previous observation (the rates' input)
    for _ in range(10):
        a = guide.act(obs)
        assert a.shape == (28,) and a.dtype == np.float32
        want = explorer.act(obs, deterministic=True, previous=previous)
        np.testing.assert_allclose(a, want, atol=1e-6)
        previous = obs
        obs, *_ = env.step(a)
    assert guide.weight_version >= 1


def test_policy_guide_starts_each_episode_afresh(run_dir: Path) -> None:
    """A Command checkpoint's mapper is reset with the guide: no targets left from before."""
    env = sim.make_door()
    guide = make_guide(f"policy:{run_dir}", env, seed=0)
    obs, _ = env.reset(seed=1)
    guide.reset(obs)
    for _ in range(50):
        obs, *_ = env.step(guide.act(obs))
    obs, _ = env.reset(seed=2)
    guide.reset(obs)
    fresh = load_explorer(latest_checkpoint(run_dir), obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)
    np.testing.assert_allclose(guide.act(obs), fresh.act(obs, deterministic=True), atol=1e-6)


def test_policy_guide_from_checkpoint_file_runs_collect(run_dir: Path, tmp_path: Path) -> None:
    ckpt = latest_checkpoint(run_dir)
    out = tmp_path / "door-policy-v0"
    assert launch.main(["collect", "--guide", f"policy:{ckpt}", "--episodes", "1",
                        "--out", str(out)]) == 0  # fmt: skip
    from recordings.reader import iter_episodes

    (episode,) = list(iter_episodes(out))
    assert len(episode) == sim.EPISODE_STEPS


def test_bad_checkpoints_raise_guide_error(tmp_path: Path) -> None:
    env = sim.make_door()
    with pytest.raises(GuideError, match="does not exist"):
        make_guide(f"policy:{tmp_path}/missing.pt", env)
    with pytest.raises(GuideError, match="holds no checkpoints"):
        make_guide(f"policy:{tmp_path}", env)
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    with pytest.raises(GuideError, match="not a readable checkpoint"):
        make_guide(f"policy:{junk}", env)
    with pytest.raises(GuideError, match="needs a checkpoint"):
        make_guide("policy:", env)
