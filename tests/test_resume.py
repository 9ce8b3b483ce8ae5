"""Resume never plays an episode twice nor loses one; damaged checkpoints are caught."""

from __future__ import annotations

import pytest

from learner.checkpoint import (
    checksum_path,
    list_checkpoints,
    load_checkpoint,
    load_resumable,
    save_checkpoint,
)
from learner.config import LearnerConfig, SACConfig, TrainConfig
from learner.metrics import read_csv
from learner.run_dir import TRAIN_DATASET
from learner.session import LearningSession, SessionOptions
from recordings.reader import iter_episodes
from sim.errors import UserError


def config(run_dir, resume=False) -> TrainConfig:
    return TrainConfig(run_dir=run_dir, guide="none", strategy="none", steps=100_000,
                       guide_episodes=0, eval_episodes=0, bc_steps=0, progress=False,
                       checkpoint_every=400, resume=resume, sac=SACConfig(hidden=16),
                       learner=LearnerConfig(warmup_steps=100_000))  # fmt: skip


def play(session: LearningSession, n: int) -> None:
    for _ in range(n):
        session.begin_episode()
        while not session.done:
            session.step()
        session.end_episode()


def killed(session: LearningSession) -> None:
    """What a ``kill -9`` leaves: the committed episodes, no checkpoint after the last one."""
    assert session.recorder is not None and session.recorder.wait_committed(60)
    session.parts.stop()
    session.recorder.close()  # the episodes are committed already; nothing new is written
    assert session.metrics is not None
    session.metrics.close()


def seeds(run_dir) -> list[int | None]:
    return [e.seed for e in iter_episodes(run_dir / TRAIN_DATASET)]


def test_episodes_recorded_after_the_checkpoint_are_counted_on_resume(tmp_path):
    run = tmp_path / "run"
    session = LearningSession(config(run), None, SessionOptions())
    play(session, 3)  # checkpoints at 0 and 400 env steps; episode 3 is after the last one
    killed(session)
    assert load_checkpoint(run)["counters"]["episodes"] == 2

    resumed = LearningSession(config(run, resume=True), None, SessionOptions())
    try:
        assert resumed.counters.episodes == 3 and resumed.env_steps == 600
        assert len(read_csv(run / "metrics" / "episodes.csv")) == 3  # episode 3's row kept
        play(resumed, 1)
    finally:
        assert resumed.close() == []
    found = seeds(run)
    assert len(found) == 4 and len(set(found)) == 4  # no seed twice, none skipped
    assert found == sorted(found) and found[-1] - found[0] == 3


def test_an_aborted_episode_is_dropped_and_played_again(tmp_path):
    run = tmp_path / "run"
    session = LearningSession(config(run), None, SessionOptions())
    play(session, 1)
    session.begin_episode()
    for _ in range(50):
        session.step()
    assert session.close() == []  # Ctrl-C mid-episode: abort, checkpoint, flush
    assert load_checkpoint(run)["counters"]["env_steps"] == 200
    assert len(seeds(run)) == 1  # the partial episode is not recorded

    resumed = LearningSession(config(run, resume=True), None, SessionOptions())
    try:
        play(resumed, 1)
    finally:
        assert resumed.close() == []
    found = seeds(run)
    assert len(found) == len(set(found)) == 2


def test_a_flipped_byte_is_caught_and_resume_falls_back(tmp_path):
    run = tmp_path / "run"
    session = LearningSession(config(run), None, SessionOptions())
    play(session, 4)  # checkpoints at 0, 400 and 800 env steps
    killed(session)
    newest = list_checkpoints(run)[-1]
    assert newest.name == "step_000000800.pt" and checksum_path(newest).exists()
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside the tensor data: torch alone would load it
    newest.write_bytes(bytes(data))

    with pytest.raises(UserError, match="damaged"):
        load_checkpoint(newest)
    assert load_resumable(run)["counters"]["env_steps"] == 400
    resumed = LearningSession(config(run, resume=True), None, SessionOptions())
    try:  # resumed from 400 steps; the 2 episodes recorded after it are counted
        assert resumed.counters.episodes == 4 and resumed.env_steps == 800
    finally:
        resumed.parts.stop()
        assert resumed.recorder is not None
        resumed.recorder.close()
    assert len(set(seeds(run))) == 4


def test_no_loadable_checkpoint_is_one_clear_error(tmp_path):
    run = tmp_path / "run"
    for steps in (0, 400):
        path = save_checkpoint(run / "checkpoints" / f"step_{steps:09d}.pt", {"x": 1})
        path.write_bytes(b"garbage")
    with pytest.raises(UserError, match=r"no checkpoint of .* loads: .*\(and 1 older ones\)"):
        load_resumable(run)


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_checkpoint_that_cannot_be_written_leaves_nothing_behind(mounts, fault):
    disk = mounts.small("disk", 64)
    folder = disk / "checkpoints"
    folder.mkdir()
    if fault == "full":
        (disk / "filler").write_bytes(b"x" * 60_000)
        payload = {"weights": __import__("torch").zeros(20_000)}  # 80 kB: does not fit
    else:
        mounts.read_only(disk)
        payload = {"x": 1}
    with pytest.raises(UserError, match=r"cannot save the checkpoint .*(space|Read-only)"):
        save_checkpoint(folder / "step_000000000.pt", payload)
    assert list(folder.iterdir()) == []


def test_a_run_killed_during_its_guide_episodes_starts_again_on_resume(tmp_path):
    import subprocess
    import sys
    import time

    import launch
    from learner.checkpoint import latest_checkpoint
    from learner.run_dir import GUIDE_DATASET
    from recordings.reader import episode_count
    from tests.conftest import ROOT

    run = tmp_path / "run"
    args = ["--guide", "scripted", "--guide-episodes", "4", "--eval-episodes", "0",
            "--no-progress", "--sac.hidden", "16", "--learner.warmup-steps", "100000"]  # fmt: skip
    cmd = [sys.executable, "launch.py", "train", "--run-dir", str(run), *args, "--steps", "400"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    guide = run / GUIDE_DATASET

    def recorded() -> int:
        try:
            return episode_count(guide)
        except UserError:  # not created yet
            return 0

    while proc.poll() is None and recorded() < 1:
        time.sleep(0.01)
    proc.kill()  # kill -9 with 1-3 of the 4 guide episodes recorded
    proc.wait(timeout=60)
    assert latest_checkpoint(run) is None
    assert launch.main(["train", "--run-dir", str(run), *args, "--steps", "400"]) == 2
    assert launch.main(["train", "--run-dir", str(run), *args, "--steps", "400", "--resume"]) == 0
    seeds = [e.seed for e in iter_episodes(guide)]
    assert len(seeds) == len(set(seeds)) == 4
    assert load_checkpoint(run)["counters"]["env_steps"] == 400
