"""``collect``: headless recording end to end, through ``launch.main`` and the real env."""

import os

import numpy as np
import pytest

import launch
import sim
from episode.guide import GuideError
from episode.types import Actor
from learner.collect import collect_episodes, collect_session
from recordings.reader import iter_episodes, summarize


class _ConstantGuide:
    """A trivial guide for the loop itself: a fixed, out-of-range action (so it is clipped)."""

    kind = "constant"

    def __init__(self, value=1.5, fail_at=None):
        self.value, self.fail_at, self.calls = value, fail_at, 0

    def reset(self, obs):
        self.resets = getattr(self, "resets", 0) + 1

    def act(self, obs):
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            return np.zeros(5)  # a wrong shape: the sanitizer raises GuideError
        return np.full(sim.ACT_DIM, self.value)


def test_collect_episodes_records_sanitized_guide_steps(tmp_path):
    guide = _ConstantGuide()
    session = collect_session(tmp_path / "c-v0", guide, seed=5)
    try:
        stats = collect_episodes(session, 2, progress=False)
    finally:
        assert session.close() == []
    assert stats.episodes == 2 and guide.resets == 2
    eps = list(iter_episodes(tmp_path / "c-v0"))
    assert [e.seed for e in eps] == [5, 6]
    for ep in eps:
        assert len(ep) == sim.EPISODE_STEPS and ep.truncations[-1]
        assert np.all(ep.actions == 1.0)  # clipped by the sanitizer before env.step
        assert np.all(ep.actor == Actor.GUIDE) and np.all(ep.step_h == sim.EPISODE_STEPS)
        assert ep.guide_kind == "constant" and ep.h == sim.EPISODE_STEPS
        assert ep.episode_return == stats.returns[ep.id]


def test_a_failing_guide_keeps_finished_episodes_and_drops_the_partial_one(tmp_path):
    guide = _ConstantGuide(value=0.0, fail_at=sim.EPISODE_STEPS + 17)
    session = collect_session(tmp_path / "c-v0", guide)
    with pytest.raises(GuideError):
        collect_episodes(session, 3, progress=False)
    session.close()
    assert [len(e) for e in iter_episodes(tmp_path / "c-v0")] == [sim.EPISODE_STEPS]


def test_collect_command_end_to_end(tmp_path, capsys):
    out = tmp_path / "door-scripted-v0"
    argv = ["collect", "--guide", "scripted", "--episodes", "2", "--out", str(out)]
    assert launch.main(argv) == 0
    printed = capsys.readouterr().out
    assert "recorded 2 episodes (400 steps)" in printed and "created" in printed
    assert "mean normalized score" in printed and "MB" in printed
    s = summarize(out)
    assert s.episodes == 2 and s.guide_kinds == {"scripted": 2}
    assert f"success {s.successes}/2" in printed

    assert launch.main(argv) == 2  # refuses to overwrite
    assert "exists; pass --append" in capsys.readouterr().err
    assert launch.main([*argv[:4], "1", "--seed", "7", "--out", str(out), "--append"]) == 0
    assert "it now holds 3 episodes" in capsys.readouterr().out
    assert [e.seed for e in iter_episodes(out)] == [0, 1, 9]  # episode i: seed + i

    os.environ["MINARI_DATASETS_PATH"] = str(tmp_path)
    import minari

    dataset = minari.load_dataset("door-scripted-v0")
    assert dataset.total_episodes == 3 and dataset.total_steps == 600
    assert all(ep.infos["actor"][1:].tolist() == [0] * 200 for ep in dataset)
    # self-describing: our score through Minari's own helper, the env back from the metadata
    scores = minari.get_normalized_score(dataset, np.array([-200.0, -50.0, 0.0]))
    np.testing.assert_allclose(scores, [0.0, 0.75, 1.0])
    env = dataset.recover_environment()
    assert env.spec is not None and env.spec.id == "JumpStart/DoorBinary-v0"
    assert env.observation_space.shape == (39,)
    env.close()
    meta = dataset.storage.metadata
    assert meta["author"] and "jumpstart-teleop" in meta["requirements"]
    assert meta["code_permalink"]  # the commit or the version (tests/test_provenance.py)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--episodes", "0", "--out", "{tmp}/d-v0"], "--episodes must be in [1, "),
        (["--out", "{tmp}/no-version"], "must look like NAME-vN"),
        (["--guide", "nonsense-guide", "--episodes", "1", "--out", "{tmp}/d-v0"], "guide"),
    ],
)
def test_collect_bad_arguments_exit_2_and_create_nothing(tmp_path, capsys, args, needle):
    code = launch.main(["collect", *(a.format(tmp=tmp_path) for a in args)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err, err
    assert not any(tmp_path.iterdir())
