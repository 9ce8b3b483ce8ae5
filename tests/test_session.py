"""The one learning session: the app's path and ``train``'s write the same run directory,
both resume, observers see every step, and ``collect`` is the session with learning off."""

from __future__ import annotations

import json

import pytest

import launch
import sim
from app.config import AppConfig
from app.learning_views import recording_view, session_settings
from guides.registry import make_guide
from learner.checkpoint import load_checkpoint
from learner.collect import collect_episodes, collect_session
from learner.config import LearnerConfig, SACConfig, TrainConfig
from learner.metrics import EPISODE_FIELDS, EVAL_FIELDS, read_csv
from learner.run_dir import APP_DATASET, CONFIG_FILE, TRAIN_DATASET
from learner.session import LearningSession, SessionOptions
from learner.session_setup import episode_seed
from recordings.reader import iter_episodes, load_transitions

TRAIN_ARGS = ["--guide", "scripted", "--guide-episodes", "1", "--eval-episodes", "1",
              "--no-progress", "--learner.warmup-steps", "50",
              "--buffer-capacity", "300000"]  # fmt: skip


def app_session(run_dir, **overrides) -> LearningSession:
    """The session exactly as the app builds it (its settings), driven step by step."""
    cfg = AppConfig(guide="scripted", run_dir=run_dir, guide_episodes=1, warmup_steps=50,
                    **overrides)  # fmt: skip
    train_cfg, options = session_settings(cfg)
    env = sim.make_door()
    return LearningSession(train_cfg, make_guide("scripted", env, seed=0), options, env=env)


def run_episodes(session: LearningSession, n: int) -> None:
    for _ in range(n):
        session.begin_episode()
        while not session.done:
            session.step()  # once per frame in the app
        session.end_episode()


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    session = app_session(root / "app")
    try:
        run_episodes(session, 1)
    finally:
        assert session.close() == []
    assert launch.main(["train", "--run-dir", str(root / "train"), "--steps", "200",
                        *TRAIN_ARGS]) == 0  # fmt: skip
    return root / "app", root / "train"


def test_app_and_train_write_the_same_run_directory_format(run_dirs, capsys):
    app_dir, train_dir = run_dirs
    configs = [json.loads((d / CONFIG_FILE).read_text()) for d in run_dirs]
    assert [sorted(c) for c in configs] == [["act_dim", "obs_dim", "train"]] * 2
    assert sorted(configs[0]["train"]) == sorted(configs[1]["train"])
    assert configs[0]["train"]["sac"]["init_alpha"] == 0.01  # one set of defaults
    for d in run_dirs:
        for name, fields in (("episodes.csv", EPISODE_FIELDS), ("evals.csv", EVAL_FIELDS)):
            header = (d / "metrics" / name).read_text().splitlines()[0]
            assert header.split(",") == list(fields)
        rows = read_csv(d / "metrics" / "episodes.csv")
        assert [int(r["env_steps"]) for r in rows] == [200] and rows[0]["h"]
    ckpts = [load_checkpoint(d) for d in run_dirs]
    assert sorted(ckpts[0]) == sorted(ckpts[1])
    assert sorted(ckpts[0]["counters"]) == sorted(ckpts[1]["counters"])
    assert ckpts[0]["counters"]["env_steps"] == ckpts[1]["counters"]["env_steps"] == 200
    assert ckpts[0]["history"] == {
        "hs": [int(rows[0]["h"])],
        "successes": [rows[0]["open_at_end"] == "1"],
    }
    assert len(list(iter_episodes(app_dir / APP_DATASET))) == 1
    assert len(list(iter_episodes(train_dir / TRAIN_DATASET))) == 1

    capsys.readouterr()
    argv = ["eval", "--checkpoint", str(app_dir), "--episodes", "1", "--json", "--no-progress"]
    assert launch.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["env_steps"] == 200 and report["episodes"] == 1 and "success_rate" in report


def test_resume_from_an_app_run_and_from_a_train_run(run_dirs, tmp_path):
    app_dir, train_dir = run_dirs
    # The app again with the same --run-dir: the session goes on where it stopped.
    saved_version = load_checkpoint(app_dir)["weight_version"]
    resumed = app_session(app_dir)
    try:
        assert resumed.counters.episodes == 1 and resumed.env_steps == 200
        assert len(resumed.history) == 1  # the app's h plot comes back
        assert len(resumed.online) >= 200  # refilled from door-app-v0
        assert resumed.next_seed() == episode_seed(0, 1)  # seeds go on, they do not repeat
        assert resumed.parts.slot.version > saved_version  # weight versions go on too
        view = recording_view(resumed)  # the HUD's RECORDING counts the dataset, not 0
        assert view is not None and (view.episodes, view.steps) == (1, 200)
        run_episodes(resumed, 1)
    finally:
        assert resumed.close() == []
    versions = [e.weight_version for e in iter_episodes(app_dir / APP_DATASET)]
    assert versions == sorted(versions) and versions[1] > versions[0]
    assert load_checkpoint(app_dir)["counters"]["episodes"] == 2
    assert len(load_checkpoint(app_dir)["history"]["hs"]) == 2

    # train --resume reads the app's run directory (same settings) and the train one.
    # (the app's curriculum has no explorer-alone episodes and its MC floor stays: train
    # resumes it as it was, and names both options when they are left out)
    app_settings = ["--curriculum.alone-every", "0", "--sac.mc-lower-bound-until", "0"]
    assert launch.main(["train", "--run-dir", str(app_dir), "--steps", "600", "--resume",
                        *TRAIN_ARGS, "--eval-episodes", "0", *app_settings]) == 0  # fmt: skip
    assert load_checkpoint(app_dir)["counters"]["env_steps"] == 600
    assert len(load_transitions(app_dir / TRAIN_DATASET)["rewards"]) == 200
    assert [int(r["env_steps"]) for r in read_csv(app_dir / "metrics" / "episodes.csv")] == [
        200, 400, 600]  # fmt: skip
    assert launch.main(["train", "--run-dir", str(train_dir), "--steps", "400", "--resume",
                        *TRAIN_ARGS]) == 0  # fmt: skip
    assert load_checkpoint(train_dir)["counters"]["episodes"] == 2


def test_the_app_resumes_a_run_at_its_own_explorer_speed_and_mc_floor(tmp_path):
    """A resumed run keeps the speed its actor learned at and its floor; a new one the app's."""
    new, _ = session_settings(AppConfig(run_dir=tmp_path / "new"))
    assert new.explorer_speed == 3.0 and new.sac.mc_lower_bound_until == 0  # the app's floor
    assert launch.main(["train", "--run-dir", str(tmp_path / "slow"), "--steps", "200",
                        "--explorer-speed", "1", *TRAIN_ARGS]) == 0  # fmt: skip
    train_cfg, _ = session_settings(AppConfig(run_dir=tmp_path / "slow"))
    assert train_cfg.resume and train_cfg.explorer_speed == 1.0
    assert train_cfg.sac.mc_lower_bound_until == 60_000  # train's, kept


def test_observers_see_every_step_and_every_episode_end(tmp_path):
    session = app_session(tmp_path / "run", learner=False)
    steps, ends = [], []
    session.add_step_observer(lambda tr: steps.append((tr.t, tr.actor)))
    session.add_episode_observer(lambda r, finished: ends.append((r.steps, finished)))
    try:
        run_episodes(session, 2)
        session.begin_episode()
        for _ in range(7):
            session.step()
        session.end_episode()  # cut short: kept, truncated, counted
    finally:
        assert session.close() == []
    assert len(steps) == session.env_steps == 2 * sim.EPISODE_STEPS + 7
    assert [t for t, _ in steps] == [*range(200), *range(200), *range(7)]
    assert ends == [(200, True), (200, True), (7, False)]
    assert session.counters.episodes == 3
    assert [len(e) for e in iter_episodes(tmp_path / "run" / APP_DATASET)] == [200, 200, 7]


def test_collect_is_the_session_with_learning_off(tmp_path):
    env = sim.make_door()
    out = tmp_path / "door-scripted-v0"
    session = collect_session(out, make_guide("scripted", env, seed=0), seed=40, env=env)
    assert session.parts.agent is None and session.parts.thread is None
    try:
        stats = collect_episodes(session, 3, progress=False)
    finally:
        assert session.close() == []
    assert stats.episodes == 3
    episodes = list(iter_episodes(out))
    assert [e.seed for e in episodes] == [40, 41, 42]
    assert all(len(e) == 200 and e.h == 200 and e.guide_kind == "scripted" for e in episodes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["door-scripted-v0"]  # no run files


def test_a_checkpoint_counts_only_committed_episodes(tmp_path):
    """save() waits for the writer: the dataset holds every episode the checkpoint counts."""
    import torch

    from learner.checkpoint import latest_checkpoint
    from recordings.reader import episode_count

    cfg = TrainConfig(run_dir=tmp_path / "run", guide="none", strategy="none", steps=400,
                      guide_episodes=0, eval_episodes=0, bc_steps=0, progress=False,
                      sac=SACConfig(hidden=16), learner=LearnerConfig(warmup_steps=50))  # fmt: skip
    session = LearningSession(cfg, None, SessionOptions())
    try:
        for _ in range(2):
            session.begin_episode()
            while not session.done:
                session.step()
            session.end_episode()
        path = session.save()
        saved = torch.load(path, weights_only=True)
        dataset = tmp_path / "run" / "episodes" / "door-train-v0"
        # right after save(), with no close(): a kill -9 now keeps what the checkpoint counts
        assert episode_count(dataset) >= saved["counters"]["episodes"] == 2
        assert saved["dataset_episodes"] == 2
        assert latest_checkpoint(tmp_path / "run") == path
    finally:
        session.close()
