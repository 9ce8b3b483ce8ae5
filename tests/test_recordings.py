"""The dataset writer and reader: round trip, real Minari loading, append, refusals, errors."""

import contextlib
import json
import os
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import sim
from episode.types import Actor
from recordings.reader import iter_episodes, load_transitions, read_one, summarize
from recordings.schema import NO_ACTOR
from recordings.verify import verify
from recordings.writer import DatasetWriter, RecordingError
from sim.errors import UserError
from tests.conftest import ROOT


def _minari(root):
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    import minari

    return minari


def _synthetic_episode(writer, rng, steps, *, h=3, seed=None, kind="test", end=True, term=False):
    obs = rng.standard_normal(sim.OBS_DIM)
    writer.begin_episode(obs, seed=seed, h=h, guide_kind=kind, weight_version=7)
    record = {"obs": [obs], "act": [], "rew": [], "actor": []}
    for t in range(steps):
        act = rng.uniform(-1, 1, sim.ACT_DIM).astype(np.float32)
        nxt = rng.standard_normal(sim.OBS_DIM)
        actor = Actor.GUIDE if t < h else Actor.EXPLORER
        last = t == steps - 1
        writer.add_step(
            act, -1.0, nxt, term and last, False, actor=actor, h=h, success=term and last
        )
        record["obs"].append(nxt)
        record["act"].append(act)
        record["rew"].append(-1.0)
        record["actor"].append(int(actor))
    if end:
        writer.end_episode()
    return record


def test_real_episodes_round_trip_and_load_with_minari(tmp_path):
    """Door episodes written by the writer read back bit-exact, through our reader and Minari."""
    env = sim.make_door()
    rng = np.random.default_rng(0)
    truth = []
    with DatasetWriter(tmp_path / "door-test-v0", author="tester") as w:
        for ep in range(2):
            obs, _ = env.reset(seed=ep)
            w.begin_episode(obs, seed=ep, h=40, guide_kind="scripted", weight_version=ep)
            rec = {"obs": [obs], "act": [], "rew": [], "term": [], "trunc": [], "succ": []}
            done = False
            while not done:
                a = rng.uniform(-1, 1, sim.ACT_DIM).astype(np.float32)
                nxt, r, te, tr, info = env.step(a)
                actor = Actor.GUIDE if len(rec["act"]) < 40 else Actor.EXPLORER
                w.add_step(a, r, nxt, te, tr, actor=actor, h=40, success=info["success"])
                for k, v in zip(
                    ("obs", "act", "rew", "term", "trunc", "succ"),
                    (nxt, a, r, te, tr, info["success"]),
                    strict=True,
                ):
                    rec[k].append(v)
                done = te or tr
            w.end_episode()
            truth.append(rec)
    assert (w.episodes_written, w.steps_written) == (2, 2 * sim.EPISODE_STEPS)

    ours = list(iter_episodes(tmp_path / "door-test-v0"))
    dataset = _minari(tmp_path).load_dataset("door-test-v0")
    assert dataset.total_episodes == 2 and dataset.total_steps == 2 * sim.EPISODE_STEPS
    assert dataset.env_spec.id == sim.ENV_ID
    assert dataset.observation_space.shape == (sim.OBS_DIM,)
    assert dataset.action_space.shape == (sim.ACT_DIM,)
    assert dataset.storage.metadata["author"] == {"tester"}
    for rec, mine, theirs in zip(truth, ours, dataset.iterate_episodes(), strict=True):
        for ep in (mine, theirs):
            np.testing.assert_array_equal(ep.observations, np.array(rec["obs"]))
            np.testing.assert_array_equal(ep.actions, np.array(rec["act"]))
            np.testing.assert_array_equal(ep.rewards, np.array(rec["rew"]))
            np.testing.assert_array_equal(ep.terminations, np.array(rec["term"]))
            np.testing.assert_array_equal(ep.truncations, np.array(rec["trunc"]))
            assert ep.actions.dtype == np.float32 and ep.observations.dtype == np.float64
            # Minari's convention: infos have T + 1 rows, row 0 for the reset observation
            assert ep.infos["actor"].dtype == np.int8
            assert ep.infos["actor"][0] == NO_ACTOR
            np.testing.assert_array_equal(ep.infos["actor"][1:41], Actor.GUIDE)
            np.testing.assert_array_equal(ep.infos["actor"][41:], Actor.EXPLORER)
            np.testing.assert_array_equal(ep.infos["success"][1:], np.array(rec["succ"]))
            np.testing.assert_array_equal(ep.infos["h"], 40)
        assert mine.actor.shape == (sim.EPISODE_STEPS,)
    metas = list(dataset.storage.get_episode_metadata([0, 1]))
    for i, meta in enumerate(metas):
        assert meta["seed"] == i and meta["weight_version"] == i and meta["h"] == 40
        assert meta["guide_kind"] == "scripted"
        assert meta["total_steps"] == sim.EPISODE_STEPS
    assert dataset.recover_environment().spec.id == sim.ENV_ID


def test_partial_episode_at_close_is_truncated_and_empty_ones_dropped(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "d-v0"
    with DatasetWriter(path) as w:
        _synthetic_episode(w, rng, 4, end=False)  # ended by the caller before the env did
        w.end_episode()
        w.begin_episode(rng.standard_normal(sim.OBS_DIM), seed=None, h=0, guide_kind="x")
        w.end_episode()  # no steps: not stored
        _synthetic_episode(w, rng, 5, term=True)  # terminated: stored as is
        _synthetic_episode(w, rng, 6, end=False)  # still running at close
    eps = list(iter_episodes(path))
    assert [len(e) for e in eps] == [4, 5, 6]
    assert eps[0].truncations.tolist() == [False, False, False, True]
    assert not eps[1].truncations.any() and eps[1].terminations[-1]
    assert eps[2].truncations[-1] and not eps[2].terminations.any()
    assert all(e.seed is None for e in eps)  # no seed attribute when there was no seed


def test_discard_episode_drops_it(tmp_path):
    rng = np.random.default_rng(2)
    with DatasetWriter(tmp_path / "d-v0") as w:
        _synthetic_episode(w, rng, 3)
        _synthetic_episode(w, rng, 9, end=False)
        w.discard_episode()
    assert [len(e) for e in iter_episodes(tmp_path / "d-v0")] == [3]


def test_append_continues_ids_and_minari_sees_everything(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "d-v1"
    with DatasetWriter(path) as w:
        first = _synthetic_episode(w, rng, 3, seed=10)
    with DatasetWriter(path, append=True) as w:
        assert not w.created
        _synthetic_episode(w, rng, 4, seed=11)
        _synthetic_episode(w, rng, 5, seed=12)
    dataset = _minari(tmp_path).load_dataset("d-v1")
    assert dataset.total_episodes == 3 and dataset.total_steps == 12
    assert [e.id for e in dataset.iterate_episodes()] == [0, 1, 2]
    np.testing.assert_array_equal(read_one(path, 0).observations, np.array(first["obs"]))
    assert [e.seed for e in iter_episodes(path)] == [10, 11, 12]


def test_refuses_to_overwrite_and_keeps_the_data(tmp_path):
    rng = np.random.default_rng(4)
    path = tmp_path / "d-v0"
    with DatasetWriter(path) as w:
        _synthetic_episode(w, rng, 3)
    before = (path / "data" / "main_data.hdf5").read_bytes()
    with pytest.raises(UserError, match="exists; pass --append"):
        DatasetWriter(path)
    assert (path / "data" / "main_data.hdf5").read_bytes() == before
    assert len(list(iter_episodes(path))) == 1


@pytest.mark.parametrize("name", ["door", "door-v", "door-vX", "-v0x", "..", "door v0"])
def test_bad_names_are_refused_clearly(tmp_path, name):
    with pytest.raises(UserError, match="must look like NAME-vN"):
        DatasetWriter(tmp_path / name)
    assert not (tmp_path / name / "data").exists()


def test_a_directory_that_is_not_a_dataset_is_left_alone(tmp_path):
    path = tmp_path / "photos-v0"
    path.mkdir()
    (path / "holiday.jpg").write_bytes(b"jpeg")
    with pytest.raises(UserError, match="is not a dataset"):
        DatasetWriter(path, append=True)
    assert sorted(p.name for p in path.iterdir()) == ["holiday.jpg"]


def test_a_second_writer_is_refused_while_the_first_runs(tmp_path):
    path = tmp_path / "d-v0"
    with DatasetWriter(path):
        with pytest.raises(UserError, match="being written by another writer"):
            DatasetWriter(path, append=True)
        with pytest.raises(UserError, match="being written by process"):
            verify(path)
    DatasetWriter(path, append=True).close()  # free again once closed


def test_append_refuses_a_dataset_of_another_env(tmp_path):
    path = tmp_path / "d-v0"
    DatasetWriter(path).close()
    with pytest.raises(UserError, match="records env"):
        DatasetWriter(path, append=True, env_id="CartPole-v1")


def test_add_step_checks_its_arguments(tmp_path):
    rng = np.random.default_rng(5)
    with DatasetWriter(tmp_path / "d-v0") as w:
        with pytest.raises(RuntimeError, match="before begin_episode"):
            w.add_step(np.zeros(28), 0.0, np.zeros(39), False, False, actor=0, h=0, success=False)
        w.begin_episode(rng.standard_normal(39), seed=0, h=1, guide_kind="x")
        with pytest.raises(ValueError, match="expected"):
            w.add_step(np.zeros(27), 0.0, np.zeros(39), False, False, actor=0, h=0, success=False)
        with pytest.raises(ValueError, match="actor must be one of"):
            w.add_step(np.zeros(28), 0.0, np.zeros(39), False, False, actor=5, h=0, success=False)
        with pytest.raises(RuntimeError, match="in progress"):
            w.begin_episode(rng.standard_normal(39), seed=0, h=1, guide_kind="x")
        with pytest.raises(ValueError, match="obs shape"):
            w.discard_episode()
            w.begin_episode(np.zeros(3), seed=0, h=1, guide_kind="x")


def test_long_episodes_grow_the_buffer(tmp_path):
    rng = np.random.default_rng(6)
    with DatasetWriter(tmp_path / "d-v0") as w:
        rec = _synthetic_episode(w, rng, 700)
    (ep,) = iter_episodes(tmp_path / "d-v0")
    np.testing.assert_array_equal(ep.actions, np.array(rec["act"]))
    np.testing.assert_array_equal(ep.observations, np.array(rec["obs"]))
    assert ep.actor.tolist() == rec["actor"]


def test_load_transitions_selects_by_actor(tmp_path):
    rng = np.random.default_rng(7)
    path = tmp_path / "d-v0"
    with DatasetWriter(path) as w:
        recs = [_synthetic_episode(w, rng, n, h=h) for n, h in ((5, 2), (4, 0), (3, 3))]
    everything = load_transitions(path)
    assert len(everything["obs"]) == 12
    np.testing.assert_array_equal(everything["next_obs"][:5], np.array(recs[0]["obs"][1:]))
    np.testing.assert_array_equal(everything["obs"][5:9], np.array(recs[1]["obs"][:-1]))
    guided = load_transitions(path, {Actor.GUIDE})
    assert guided["actor"].tolist() == [0] * 5
    assert guided["episode"].tolist() == [0, 0, 2, 2, 2]
    assert guided["t"].tolist() == [0, 1, 0, 1, 2]
    np.testing.assert_array_equal(guided["actions"][2:], np.array(recs[2]["act"]))
    explorer = load_transitions(path, {Actor.EXPLORER})
    assert len(explorer["actions"]) == 7
    none = load_transitions(path, {Actor.HUMAN})
    assert none["obs"].shape == (0, sim.OBS_DIM) and none["actions"].shape == (0, sim.ACT_DIM)


def test_summary_counts_what_is_there(tmp_path):
    rng = np.random.default_rng(8)
    path = tmp_path / "d-v0"
    with DatasetWriter(path) as w:
        _synthetic_episode(w, rng, 4, h=2, kind="human", term=True)
        _synthetic_episode(w, rng, 6, h=3, kind="scripted")
        _synthetic_episode(w, rng, 2, h=3, kind="scripted")
    s = summarize(path)
    # the door opened in one short episode, but for < 25 steps: no D4RL success
    assert (s.episodes, s.steps, s.successes, s.ever_opened) == (3, 12, 0, 1)
    assert s.guide_kinds == {"scripted": 2, "human": 1}
    assert s.h_values == {2: 1, 3: 2}
    assert s.actor_steps == {"guide": 2 + 3 + 2, "explorer": 2 + 3, "human": 0}
    assert s.weight_versions == (7, 7)
    assert not s.notes
    text = "\n".join(s.lines())
    assert "success   0/3" in text and "ever opened 1/3" in text and "scripted: 2" in text


def _run_child(code, tmp_path, **kwargs):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT), "DATASET": str(tmp_path / "d-v0")},
        **kwargs,
    )


def test_a_write_error_reaches_the_caller_and_written_episodes_stay(tmp_path):
    """A file-size limit makes the disk "full" mid-recording, in a child process."""
    proc = _run_child(
        """
        import os, resource, signal, numpy as np
        from pathlib import Path
        from recordings.writer import DatasetWriter, RecordingError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        w = DatasetWriter(Path(os.environ["DATASET"]))
        resource.setrlimit(resource.RLIMIT_FSIZE, (600_000, 600_000))
        rng = np.random.default_rng(0)
        try:
            for ep in range(100):
                w.begin_episode(rng.standard_normal(39), seed=ep, h=0, guide_kind="x")
                for t in range(200):
                    w.add_step(np.zeros(28, np.float32), -1.0, rng.standard_normal(39),
                               False, t == 199, actor=1, h=0, success=False)
                w.end_episode()
                w._thread.join(0.05)  # let the recorder keep up (not required)
            print("no error")
        except RecordingError as e:
            print("written", w.episodes_written, type(w.error).__name__, "|", e)
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("written"), proc.stdout + proc.stderr
    written = int(proc.stdout.split()[1])
    assert written >= 1
    assert "File too large" in proc.stdout or "OSError" in proc.stdout
    report = verify(tmp_path / "d-v0")
    assert report.sound and report.episodes == written
    assert len(list(iter_episodes(tmp_path / "d-v0"))) == written


def test_a_program_that_forgets_close_still_writes_everything(tmp_path):
    proc = _run_child(
        """
        import os, numpy as np
        from pathlib import Path
        from recordings.writer import DatasetWriter
        w = DatasetWriter(Path(os.environ["DATASET"]))
        for ep in range(3):
            w.begin_episode(np.zeros(39), seed=ep, h=0, guide_kind="x")
            for t in range(5):
                w.add_step(np.zeros(28), -1.0, np.ones(39), False, False, actor=1, h=0,
                           success=False)
            if ep < 2:
                w.end_episode()
        print("main done")
        """,
        tmp_path,
    )
    assert proc.returncode == 0 and "main done" in proc.stdout, proc.stderr
    eps = list(iter_episodes(tmp_path / "d-v0"))
    assert [len(e) for e in eps] == [5, 5, 5] and eps[2].truncations[-1]
    meta = json.loads((tmp_path / "d-v0" / "data" / "metadata.json").read_text())
    assert meta["total_episodes"] == 3 and meta["total_steps"] == 15


def test_raise_if_failed_surfaces_an_error_in_the_thread(tmp_path):
    """The dataset vanishes under a live writer: the thread's error reaches the caller."""
    rng = np.random.default_rng(9)
    path = tmp_path / "d-v0"
    w = DatasetWriter(path)
    _synthetic_episode(w, rng, 3)
    w._thread.join(0.5)  # give it time to write the first episode
    (path / "data" / "main_data.hdf5").rename(tmp_path / "moved.hdf5")
    _synthetic_episode(w, rng, 3, end=False)
    with contextlib.suppress(RecordingError):  # may or may not raise yet: asynchronous
        w.end_episode()
    with pytest.raises(RecordingError, match="failed: FileNotFoundError") as info:
        w.close()
    assert isinstance(w.error, FileNotFoundError)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    with h5py.File(tmp_path / "moved.hdf5", "r") as f:
        assert list(f) == ["episode_0"]
