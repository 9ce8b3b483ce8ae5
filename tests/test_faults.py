"""OS errors at the edge (real full and read-only filesystems): one line, exit 2, nothing
half-written left behind, and what was recorded stays sound and resumable."""

from __future__ import annotations

import pytest

import launch
from learner.checkpoint import load_checkpoint
from learner.run_dir import TRAIN_DATASET
from recordings.reader import episode_count, iter_episodes

COLLECT = ["collect", "--guide", "scripted", "--episodes", "3", "--no-progress"]
TRAIN = ["--guide", "scripted", "--guide-episodes", "1", "--eval-episodes", "0",
         "--no-progress", "--sac.hidden", "16",
         "--learner.warmup-steps", "100000", "--checkpoint-every", "400"]  # fmt: skip


def one_line_exit_2(capsys, argv) -> str:
    assert launch.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


@pytest.mark.parametrize("size_kb", [4, 16, 300])
def test_collect_on_a_full_disk(mounts, capsys, size_kb):
    """Full while creating the dataset, at its first episode, or after two episodes."""
    disk = mounts.small("disk", size_kb)
    out = disk / "door-a-v0"
    line = one_line_exit_2(capsys, [*COLLECT, "--out", str(out)])
    assert "No space left on device" in line
    if out.exists():  # only a dataset with whole episodes is kept
        assert episode_count(out) == 2
        assert not [p for p in (out / "data").iterdir() if p.name.startswith(".tmp")]
    else:
        assert list(disk.iterdir()) == []


def test_train_on_a_full_disk_then_resume_with_space(mounts, capsys, tmp_path):
    disk = mounts.small("disk", 1500)
    run = disk / "run"
    line = one_line_exit_2(capsys, ["train", "--run-dir", str(run), *TRAIN, "--steps", "100000"])
    assert "No space left on device" in line
    assert not list(run.rglob("*.tmp")) and not list(run.rglob(".*.tmp"))
    saved = load_checkpoint(run)
    recorded = episode_count(run / TRAIN_DATASET)
    assert saved["counters"]["episodes"] <= recorded  # it never counts what was not recorded

    # Space again (the run copied to a roomy disk): resume, nothing played twice.
    import shutil

    roomy = tmp_path / "roomy"
    shutil.copytree(run, roomy, symlinks=True)
    argv = ["train", "--run-dir", str(roomy), *TRAIN, "--resume", "--steps",
            str(200 * (recorded + 2))]  # fmt: skip
    assert launch.main(argv) == 0, capsys.readouterr().err
    seeds = [e.seed for e in iter_episodes(roomy / TRAIN_DATASET)]
    assert len(seeds) == recorded + 2 == len(set(seeds))


@pytest.mark.parametrize("command", ["collect", "train"])
def test_a_read_only_filesystem(mounts, capsys, command):
    disk = mounts.small("disk", 64)
    mounts.read_only(disk)
    if command == "collect":
        argv = [*COLLECT, "--out", str(disk / "door-a-v0")]
    else:
        argv = ["train", "--run-dir", str(disk / "new" / "run"), *TRAIN, "--steps", "400"]
    assert "Read-only file system" in one_line_exit_2(capsys, argv)


def test_out_under_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("not a directory")
    line = one_line_exit_2(capsys, [*COLLECT, "--out", str(tmp_path / "file" / "door-a-v0")])
    assert "Not a directory" in line


def test_a_read_only_dataset_is_verified_and_refuses_an_append(mounts, capsys):
    disk = mounts.small("disk", 2048)
    out = disk / "door-a-v0"
    assert launch.main([*COLLECT[:3], "--episodes", "1", "--no-progress", "--out", str(out)]) == 0
    mounts.read_only(disk)
    capsys.readouterr()
    assert launch.main(["recordings", "verify", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "read-only" in printed and "OK: " in printed and "1 sound episodes" in printed
    line = one_line_exit_2(capsys, [*COLLECT, "--out", str(out), "--append"])
    assert "Read-only file system" in line
