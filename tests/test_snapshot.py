"""``recordings snapshot``: a consistent copy of a dataset a writer is still appending to."""

import json
import os

import h5py

from launch import main
from recordings.reader import episode_count, iter_episodes
from recordings.writer import DatasetWriter
from tests.test_recordings import _synthetic_episode


def test_a_snapshot_of_a_live_dataset_is_a_plain_minari_dataset_no_writer_touches(tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(0)
    live, snap = tmp_path / "live-v0", tmp_path / "copies" / "snap-v0"
    with DatasetWriter(live, author="tester") as w:
        for seed in range(3):
            _synthetic_episode(w, rng, 5, seed=seed)
        assert w.wait_committed(timeout=30)
        assert main(["recordings", "snapshot", str(live), str(snap)]) == 0  # writer still open
        _synthetic_episode(w, rng, 7, seed=3)  # the run goes on after the snapshot
    assert "snap-v0 holds 3 episodes (15 steps)" in capsys.readouterr().out
    assert sorted(os.listdir(snap)) == ["data"]  # no lock files, no journal
    assert episode_count(live) == 4 and episode_count(snap) == 3
    assert [e.seed for e in iter_episodes(snap)] == [0, 1, 2]
    meta = json.loads((snap / "data" / "metadata.json").read_text())
    assert meta["dataset_id"] == "snap-v0" and meta["total_episodes"] == 3
    assert meta["author"] == ["tester"]  # the original's metadata, with this copy's counts
    assert sorted(os.listdir(snap.parent)) == ["snap-v0"]  # no staging directory left
    with h5py.File(snap / "data" / "main_data.hdf5", "r") as f:  # a lock-unaware reader
        assert sorted(f) == ["episode_0", "episode_1", "episode_2"]
    os.environ["MINARI_DATASETS_PATH"] = str(snap.parent)
    import minari

    dataset = minari.load_dataset("snap-v0")
    assert dataset.total_episodes == 3 and dataset.total_steps == 15


def test_snapshot_refuses_an_existing_target_and_a_missing_source(tmp_path, capsys):
    import numpy as np

    live = tmp_path / "live-v0"
    with DatasetWriter(live) as w:
        _synthetic_episode(w, np.random.default_rng(1), 3)
    (tmp_path / "taken-v0").mkdir()
    assert main(["recordings", "snapshot", str(live), str(tmp_path / "taken-v0")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["recordings", "snapshot", str(tmp_path / "none-v0"), str(tmp_path / "x-v0")]) == 2
    assert "is not a dataset" in capsys.readouterr().err
    assert main(["recordings", "snapshot", str(live)]) == 2  # OUT missing
    err = capsys.readouterr().err.strip()
    assert err.endswith("(see 'launch.py recordings snapshot --help')") and err.count("\n") == 0
