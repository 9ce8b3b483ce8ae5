"""Crash safety: the rollback journal at every crash point, real SIGKILLs, verify and repair."""

import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

import launch
import sim
from recordings.episode import Episode, make_attrs, write_episode
from recordings.journal import JournaledFile, journal_path, rollback
from recordings.layout import dataset_paths, try_lock_writer, unlock
from recordings.reader import iter_episodes, load_transitions
from recordings.verify import verify
from recordings.writer import DatasetWriter
from sim.errors import UserError
from tests.conftest import ROOT


def _write_episodes(path, lengths, *, seed=0):
    rng = np.random.default_rng(seed)
    with DatasetWriter(path, append=True) as w:
        for n in lengths:
            w.begin_episode(rng.standard_normal(sim.OBS_DIM), seed=1, h=2, guide_kind="x")
            for t in range(n):
                w.add_step(
                    rng.uniform(-1, 1, sim.ACT_DIM).astype(np.float32),
                    -1.0,
                    rng.standard_normal(sim.OBS_DIM),
                    False,
                    t == n - 1,
                    actor=int(t >= 2),
                    h=2,
                    success=False,
                )
            w.end_episode()


def _episode(episode_id, steps, rng):
    infos = {
        "actor": np.r_[-1, np.ones(steps)].astype(np.int8),
        "h": np.zeros(steps + 1, np.int32),
        "success": np.zeros(steps + 1, bool),
    }
    rewards = -np.ones(steps)
    return Episode(
        id=episode_id,
        observations=rng.standard_normal((steps + 1, sim.OBS_DIM)),
        actions=rng.uniform(-1, 1, (steps, sim.ACT_DIM)).astype(np.float32),
        rewards=rewards,
        terminations=np.zeros(steps, bool),
        truncations=np.r_[np.zeros(steps - 1, bool), True],
        infos=infos,
        attrs=make_attrs(
            episode_id,
            rewards,
            infos["success"],
            {"seed": 3, "h": 0, "guide_kind": "x", "weight_version": 0},
        ),
    )


def _minari_episodes(root, name):
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    import minari

    dataset = minari.load_dataset(name)
    return dataset, list(dataset.iterate_episodes())


def test_journal_restores_the_file_at_every_crash_point(tmp_path):
    """A commit interrupted after any number of page writes, or a torn journal, rolls back
    to exactly the bytes of the last commit; a finished commit keeps the new episode."""
    path = tmp_path / "d-v0"
    _write_episodes(path, [30, 20, 25])
    main = path / "data" / "main_data.hdf5"
    before = main.read_bytes()

    jf = JournaledFile(main)
    with h5py.File(jf, "a", track_order=True) as f:
        write_episode(f, _episode(3, 40, np.random.default_rng(0)))
    pages = sorted(jf._pages)
    overwritten = [p for p in pages if p * 4096 < len(before)]
    assert overwritten, "appending an episode must rewrite some committed pages"
    jf._write_journal()
    journal = journal_path(main).read_bytes()
    new_size = jf._size
    new_pages = {p: bytes(jf._pages[p]) for p in pages}
    jf.close()

    def crash_state(applied, truncated, journal_bytes):
        main.write_bytes(before)
        with open(main, "r+b") as fh:
            for p in pages[:applied]:
                fh.seek(p * 4096)
                fh.write(new_pages[p][: max(0, new_size - p * 4096)])
            if truncated:
                fh.truncate(new_size)
        journal_path(main).write_bytes(journal_bytes)

    points = [(k, False, journal) for k in range(len(pages) + 1)] + [(len(pages), True, journal)]
    points += [(0, False, journal[:cut]) for cut in (0, 5, 20, 40, len(journal) // 2, -1)]
    for applied, truncated, journal_bytes in points:
        crash_state(applied, truncated, journal_bytes)
        assert rollback(main)
        assert main.read_bytes() == before, (applied, truncated, len(journal_bytes))
        assert not journal_path(main).exists()
    report = verify(path)
    assert report.sound and report.episodes == 3 and not report.fixed

    jf = JournaledFile(main)  # and without a crash, the commit goes through
    with h5py.File(jf, "a", track_order=True) as f:
        write_episode(f, _episode(3, 40, np.random.default_rng(0)))
    jf.commit()
    jf.close()
    assert not journal_path(main).exists()
    assert verify(path).episodes == 4  # metadata repaired to count the extra episode
    assert len(_minari_episodes(tmp_path, "d-v0")[1]) == 4


def test_journaled_file_behaves_like_a_file(tmp_path):
    """Random writes, reads and truncations agree with a bytearray, before and after commit."""
    rng = np.random.default_rng(1)
    path = tmp_path / "f.bin"
    model = bytearray(rng.integers(0, 256, 10_000, dtype=np.uint8).tobytes())
    path.write_bytes(model)
    jf = JournaledFile(path, durable=False)
    for _ in range(300):
        op = rng.integers(3)
        pos = int(rng.integers(0, len(model) + 5000))
        if op == 0:
            data = rng.integers(0, 256, int(rng.integers(1, 9000)), dtype=np.uint8).tobytes()
            if pos > len(model):
                model.extend(bytes(pos - len(model)))
            model[pos : pos + len(data)] = data
            jf.seek(pos)
            jf.write(data)
        elif op == 1:
            n = int(rng.integers(1, 9000))
            jf.seek(pos)
            assert jf.read(n) == bytes(model[pos : pos + n])
        else:
            size = int(rng.integers(0, len(model) + 3000))
            model = model[:size] + bytearray(max(0, size - len(model)))
            jf.truncate(size)
        assert jf.seek(0, io.SEEK_END) == len(model)
        if rng.random() < 0.05:
            jf.commit()
            assert path.read_bytes() == bytes(model)
    jf.commit()
    jf.close()
    assert path.read_bytes() == bytes(model)


_CHILD = """
import os, sys, time, numpy as np
from pathlib import Path
from recordings.writer import DatasetWriter
w = DatasetWriter(Path(os.environ["DATASET"]), append=True)
rng = np.random.default_rng(int(sys.argv[1]))
print("ready", flush=True)
ended = 0
while True:
    steps = int(rng.integers(1, 300))
    nonce = float(rng.random())
    obs = np.zeros(39); obs[0] = nonce
    w.begin_episode(obs, seed=ended, h=5, guide_kind="crash")
    for t in range(steps):
        obs = np.zeros(39); obs[0] = nonce; obs[1] = t + 1
        act = np.full(28, t / 1000, np.float32)
        w.add_step(act, -1.0, obs, False, t == steps - 1, actor=int(t >= 5), h=5, success=False)
    w.end_episode()
    ended += 1
    while ended - w.episodes_written > 2:  # keep the recorder busy, not swamped
        time.sleep(0.0005)
    sys.stdout.write(f"progress {w.episodes_written} {ended}\\n")  # one write: a kill never
    sys.stdout.flush()  # tears the line (print writes each piece with PYTHONUNBUFFERED set)
"""


def _sound_content(ep):
    """Every row of an episode carries the same nonce and its own step index."""
    n = len(ep.rewards)
    return (
        np.all(ep.observations[:, 0] == ep.observations[0, 0])
        and np.array_equal(ep.observations[:, 1], np.arange(n + 1))
        and np.array_equal(ep.actions[:, 0], (np.arange(n) / 1000).astype(np.float32))
        and ep.truncations[-1]
        and ep.infos["actor"][0] == -1
    )


def test_sigkill_at_any_moment_keeps_every_finished_episode(tmp_path):
    """Kill -9 real recording processes at different moments, appending to one dataset."""
    path = tmp_path / "crash-v0"
    low = high = 0
    left_journal = 0
    for round_, delay in enumerate((0.0, 0.02, 0.05, 0.11, 0.17, 0.23, 0.31, 0.43)):
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_CHILD), str(round_)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "DATASET": str(path)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, err
        progress = [line.split() for line in out.splitlines() if line.startswith("progress")]
        written, ended = (int(progress[-1][1]), int(progress[-1][2])) if progress else (0, 0)
        low, high = low + written, high + ended
        left_journal += journal_path(path / "data" / "main_data.hdf5").exists()
        if round_ % 2:  # odd rounds: verify repairs; even rounds: the next writer's open does
            report = verify(path)
            assert report.sound, report.problems
            assert low <= report.episodes <= high, (low, report.episodes, high)
            low = high = report.episodes
    report = verify(path)
    assert report.sound and low <= report.episodes <= high
    episodes = list(iter_episodes(path))
    assert len(episodes) == report.episodes > 0
    assert all(_sound_content(ep) for ep in episodes)
    dataset, theirs = _minari_episodes(tmp_path, "crash-v0")
    assert dataset.total_episodes == len(theirs) == report.episodes
    assert dataset.total_steps == sum(len(ep) for ep in theirs) == report.steps
    assert all(_sound_content(ep) for ep in theirs)
    print(f"{report.episodes} episodes survived 8 kills; {left_journal} kills hit a commit")


# --- verify and repair ---------------------------------------------------------------------


def _main(argv, capsys):
    code = launch.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "door-rec-v0"
    _write_episodes(path, [5, 7, 9])
    return path


def test_verify_says_ok_for_a_sound_dataset(dataset, capsys):
    code, out, err = _main(["recordings", "verify", str(dataset)], capsys)
    assert code == 0, err
    assert "OK" in out and "3 sound episodes (21 steps)" in out


def test_verify_repairs_stale_and_missing_metadata(dataset, capsys, tmp_path):
    meta_path = dataset / "data" / "metadata.json"
    meta_path.write_text(
        meta_path.read_text().replace('"total_episodes": 3', '"total_episodes": 2')
    )
    code, out, err = _main(["recordings", "verify", "--no-repair", str(dataset)], capsys)
    assert code == 2 and "total_episodes was 2, the data says 3" in err
    assert len(err.strip().splitlines()) == 1
    code, out, err = _main(["recordings", "verify", str(dataset)], capsys)
    assert code == 0 and "repaired: rewrote metadata.json" in out
    meta_path.unlink()
    assert verify(dataset).fixed
    (tmp_path / "renamed-v3").mkdir()
    shutil.move(dataset, tmp_path / "renamed-v3" / "door-rec-v3")
    report = verify(tmp_path / "renamed-v3" / "door-rec-v3")
    assert any("dataset_id was 'door-rec-v0'" in f for f in report.fixed)
    _, eps = _minari_episodes(tmp_path / "renamed-v3", "door-rec-v3")
    assert [len(e) for e in eps] == [5, 7, 9]


def test_verify_removes_temporaries_and_a_half_written_last_group(dataset, capsys):
    (dataset / "data" / ".tmp-metadata.json.abc").write_text("{")
    with h5py.File(dataset / "data" / "main_data.hdf5", "a", track_order=True) as f:
        f.create_group("episode_3").create_dataset("observations", data=np.zeros((4, 39)))
    code, out, err = _main(["recordings", "verify", "--no-repair", str(dataset)], capsys)
    assert code == 2 and "half-written" in err
    code, out, err = _main(["recordings", "verify", str(dataset)], capsys)
    assert code == 0, err
    assert "removed .tmp-metadata.json.abc" in out and "removed episode_3" in out
    assert [len(e) for e in iter_episodes(dataset)] == [5, 7, 9]


def test_verify_rolls_back_a_hot_journal(dataset, capsys):
    main = dataset / "data" / "main_data.hdf5"
    before = main.read_bytes()
    jf = JournaledFile(main)
    with h5py.File(jf, "a", track_order=True) as f:
        write_episode(f, _episode(3, 10, np.random.default_rng(2)))
    jf._write_journal()
    jf._apply()  # crash after writing the file, before removing the journal
    jf.close()
    code, out, err = _main(["recordings", "verify", "--no-repair", str(dataset)], capsys)
    assert code == 2 and "a crash interrupted a write" in err
    code, out, err = _main(["recordings", "verify", str(dataset)], capsys)
    assert code == 0 and "rolled back" in out
    assert main.read_bytes() == before


def test_readers_roll_back_a_hot_journal_unless_a_writer_is_alive(dataset):
    main = dataset / "data" / "main_data.hdf5"
    before = main.read_bytes()
    jf = JournaledFile(main)
    with h5py.File(jf, "a", track_order=True) as f:
        write_episode(f, _episode(3, 10, np.random.default_rng(2)))
    jf._write_journal()
    jf._apply()
    jf.close()
    hot = main.read_bytes()
    fd = try_lock_writer(paths := dataset_paths(dataset))  # as if its writer still lived
    with pytest.raises(UserError, match="interrupted mid-write"):
        load_transitions(dataset)
    assert main.read_bytes() == hot
    unlock(fd)
    assert len(load_transitions(dataset)["rewards"]) == 21
    assert main.read_bytes() == before and not journal_path(paths.main).exists()


def _corrupt_cases(dataset):
    main = dataset / "data" / "main_data.hdf5"

    def truncated():
        main.write_bytes(main.read_bytes()[: main.stat().st_size // 2])

    def foreign():
        main.unlink()
        with h5py.File(main, "w") as f:
            f["x"] = np.arange(3)

    def wrong_shape():
        with h5py.File(main, "a") as f:
            del f["episode_1/actions"]
            f["episode_1/actions"] = np.zeros((7, 5), np.float32)

    def not_hdf5():
        main.write_text("hello")

    def gap():
        with h5py.File(main, "a") as f:
            f.move("episode_1", "episode_7")

    return {
        "truncated": (truncated, "not a readable HDF5 file"),
        "foreign": (foreign, "not a Jump-Start Teleop recording"),
        "wrong_shape": (wrong_shape, "episode_1/actions has shape (7, 5), expected (7, 28)"),
        "not_hdf5": (not_hdf5, "not a readable HDF5 file"),
        "gap": (gap, "numbering has gaps"),
    }


@pytest.mark.parametrize("case", ["truncated", "foreign", "wrong_shape", "not_hdf5", "gap"])
def test_bad_files_get_one_line_exit_2_and_stay_untouched(dataset, capsys, case):
    damage, needle = _corrupt_cases(dataset)[case]
    damage()
    snapshot = {p.name: p.read_bytes() for p in (dataset / "data").iterdir()}
    for sub in ("verify", "info"):
        code, out, err = _main(["recordings", sub, str(dataset)], capsys)
        assert code == 2, (sub, out, err)
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
        assert sub == "info" or needle in err
    with pytest.raises(UserError):
        DatasetWriter(dataset, append=True)
    assert {p.name: p.read_bytes() for p in (dataset / "data").iterdir()} == snapshot


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("missing-v0", "does not exist"),
        ("empty-v0", "is not a dataset"),
        ("bad name", "must look like NAME-vN"),
        ("file-v0", "is a file"),
    ],
)
def test_paths_that_are_not_datasets(tmp_path, capsys, target, needle):
    (tmp_path / "empty-v0").mkdir()
    (tmp_path / "file-v0").write_text("x")
    for sub in ("verify", "info"):
        code, _out, err = _main(["recordings", sub, str(tmp_path / target)], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1
        assert sub == "info" or needle in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-v0", "file-v0"]
    assert not any((tmp_path / "empty-v0").iterdir())


def test_info_prints_the_summary(dataset, capsys):
    code, out, err = _main(["recordings", "info", str(dataset)], capsys)
    assert code == 0, err
    assert "episodes  3   steps 21" in out
    assert "guides    x: 3" in out and "h         2: 3" in out
    assert "guide 6 (28.6 %), explorer 15 (71.4 %), human 0" in out
    code, out, err = _main(["recordings", "info", "--json", str(dataset)], capsys)
    assert code == 0 and '"steps": 21' in out


def test_info_tells_of_nan_and_out_of_range_actions(dataset, capsys):
    with h5py.File(dataset / "data" / "main_data.hdf5", "r+") as f:
        actions = f["episode_1/actions"]
        actions[2, 0] = np.nan
        actions[3, 5] = np.inf
        actions[4, 1] = 7.0  # the door's actions are in [-1, 1] or so: far outside
    code, out, err = _main(["recordings", "info", str(dataset)], capsys)
    assert code == 0, err
    assert "2 steps in 1 episodes have NaN or infinite actions" in out
    assert "1 steps in 1 episodes have out-of-range actions" in out
