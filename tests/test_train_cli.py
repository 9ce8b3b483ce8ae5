"""``launch.py train`` end to end on tiny runs: outputs, Ctrl-C, resume, bad input."""

import dataclasses
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

import launch
import sim
from episode.types import Actor
from learner.checkpoint import (
    FORMAT,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    load_explorer,
    save_checkpoint,
)
from learner.config import TRAIN_UTD, TrainConfig
from learner.metrics import read_csv
from learner.run_dir import (
    GUIDE_DATASET,
    TRAIN_DATASET,
    check_same_settings,
    config_to_dict,
    read_config,
)
from learner.sac import SACConfig
from learner.thread import LearnerConfig
from recordings.reader import iter_episodes, load_transitions
from sim.errors import UserError
from tests.conftest import ROOT

TINY = [
    "--guide",
    "scripted",
    "--guide-episodes",
    "3",
    "--eval-every",
    "400",
    "--eval-episodes",
    "1",
    "--checkpoint-every",
    "400",
    "--no-progress",
    "--sac.hidden",
    "32",
    "--sac.batch-size",
    "32",
    "--learner.warmup-steps",
    "100",
    "--learner.publish-every",
    "20",
]


def train(run_dir, *args):
    return launch.main(["train", "--run-dir", str(run_dir), *TINY, *args])


def complete_rows(run_dir):
    return read_csv(run_dir / "metrics" / "episodes.csv")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    assert train(run_dir, "--steps", "600", "--seed", "3") == 0
    return run_dir


def test_train_writes_config_metrics_recordings_checkpoint_plots(tiny_run):
    config = json.loads((tiny_run / "config.json").read_text())
    assert config["train"]["steps"] == 600 and config["train"]["sac"]["hidden"] == 32
    assert config["obs_dim"] == sim.OBS_DIM

    rows = complete_rows(tiny_run)
    assert [int(r["env_steps"]) for r in rows] == [200, 400, 600]
    evals = read_csv(tiny_run / "metrics" / "evals.csv")
    assert [int(r["env_steps"]) for r in evals] == [0, 400, 600]
    assert all(r["horizon"] == "0" for r in evals)
    assert int(evals[-1]["updates"]) > 0  # the learner trained
    for r in evals:  # where the failed evaluation episodes stopped, e.g. "reach=1 turn=1"
        counts = [int(part.split("=")[1]) for part in r["failed_at"].split()]
        assert sum(counts) == round((1 - float(r["success_rate"])) * int(r["episodes"])), r

    # H1 is the guide episodes' mean steps to success, and the first training episode uses it.
    guide = list(iter_episodes(tiny_run / GUIDE_DATASET))
    assert len(guide) == 3 and all(len(e) == 200 for e in guide)
    firsts = [int(np.argmax(e.step_success)) + 1 for e in guide if e.step_success.any()]
    h1 = int(np.ceil(np.mean(firsts)))
    assert int(rows[0]["h"]) == h1

    data = load_transitions(tiny_run / TRAIN_DATASET)
    assert len(data["rewards"]) == 600
    for dataset in (GUIDE_DATASET, TRAIN_DATASET):
        meta = json.loads((tiny_run / dataset / "data" / "metadata.json").read_text())
        assert meta["code_permalink"]  # the commit or the version (tests/test_provenance.py)
    for ep in np.unique(data["episode"]):
        sel = data["episode"] == ep
        h = int(data["h"][sel][0])
        expect = [Actor.GUIDE] * h + [Actor.EXPLORER] * (200 - h)
        np.testing.assert_array_equal(data["actor"][sel], expect)

    ckpt = load_checkpoint(tiny_run, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)
    assert ckpt["format"] == FORMAT and ckpt["counters"]["env_steps"] == 600
    assert ckpt["curriculum"]["strategy"] == "curriculum" and ckpt["curriculum"]["H1"] == h1
    assert latest_checkpoint(tiny_run).name == "step_000000600.pt"

    for name in ("success", "score", "horizon", "losses"):
        png = tiny_run / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_the_checkpoint_keeps_the_explorer_its_evaluation_row_measured(tiny_run, capsys):
    """`eval --checkpoint` re-measures the weights the trainer evaluated at that step (the
    learner's newer, unpublished weights can score far apart), with their version."""
    row = read_csv(tiny_run / "metrics" / "evals.csv")[-1]
    ckpt = load_checkpoint(tiny_run, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)
    assert ckpt["weight_version"] == int(row["weight_version"]) > 1
    assert ckpt["agent"]["updates"] >= int(row["updates"])  # the agent itself is the newest
    capsys.readouterr()
    assert launch.main(["eval", "--checkpoint", str(tiny_run), "--episodes", "1", "--json",
                        "--no-progress"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["mean_return"] == pytest.approx(float(row["mean_return"]))


def test_a_faster_explorer_is_trained_saved_and_evaluated_at_its_speed(tmp_path, capsys):
    run = tmp_path / "fast"
    assert train(run, "--steps", "400", "--explorer-speed", "1.5") == 0
    assert read_config(run / "config.json")["explorer_speed"] == 1.5
    explorer = load_explorer(run, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)
    assert explorer.controller.scale.palm_speed == 3.0  # type: ignore[union-attr]
    row = read_csv(run / "metrics" / "evals.csv")[-1]
    capsys.readouterr()
    assert launch.main(["eval", "--checkpoint", str(run), "--episodes", "1", "--json",
                        "--no-progress"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["mean_return"] == pytest.approx(float(row["mean_return"]))
    assert train(run, "--steps", "600", "--resume") == 2  # the speed is the run's: not changed
    assert "--explorer-speed" in capsys.readouterr().err


def test_ctrl_c_saves_and_resume_ends_like_an_uninterrupted_run(tmp_path):
    # No learning (warm-up longer than the run) and a stage 0 where the guide acts for all but
    # the last step (--h1 199): episode 1 trains, episode 2 is the stage's one-episode trial
    # (the guide's success, kept by the explorer's single deterministic step), episode 3 runs
    # at stage 1. Free of learning noise, so the curriculum must match exactly.
    fixed = ["--learner.warmup-steps", "100000", "--seed", "5", "--h1", "199",
             "--curriculum.stages", "even", "--curriculum.n-stages", "3",
             "--curriculum.window", "1", "--curriculum.trial-episodes", "1",
             "--steps", "600"]  # fmt: skip
    straight = tmp_path / "straight"
    assert train(straight, *fixed) == 0

    stopped = tmp_path / "stopped"
    # A run long enough that only Ctrl-C ends it; resumed with the same arguments but --steps.
    long = [*TINY, *fixed[:-1], "100000"]
    cmd = [sys.executable, "launch.py", "train", "--run-dir", str(stopped), *long]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    csv_path = stopped / "metrics" / "episodes.csv"
    while proc.poll() is None and len(read_csv(csv_path)) < 1:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)  # most likely mid-way through the second episode
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err
    ckpt = load_checkpoint(stopped)
    steps_at_stop = ckpt["counters"]["env_steps"]
    assert steps_at_stop in (200, 400)  # whole episodes only
    recorded = len(load_transitions(stopped / TRAIN_DATASET)["rewards"])
    assert recorded == steps_at_stop  # the episode in progress is dropped: played again

    assert train(stopped, "--resume", *fixed) == 0
    a, b = load_checkpoint(straight), load_checkpoint(stopped)
    assert a["counters"]["env_steps"] == b["counters"]["env_steps"] == 600
    assert a["counters"]["episodes"] == b["counters"]["episodes"] == 3
    assert a["curriculum"] == b["curriculum"]
    assert a["curriculum"]["advances"] == [[2, 1]]  # the trial (episode 2) advanced stage 0
    rows = read_csv(stopped / "metrics" / "episodes.csv")
    assert [r["h"] for r in rows] == [
        r["h"] for r in read_csv(straight / "metrics" / "episodes.csv")
    ]
    assert [int(r["env_steps"]) for r in rows] == [200, 400, 600]
    cpu = [float(r["cpu_s"]) for r in rows]  # the process's CPU time, counted on over resumes
    assert cpu == sorted(cpu) and cpu[-1] > ckpt["counters"]["cpu_s"] > 0

    # A finished run can be extended: same arguments, more steps.
    assert train(straight, *fixed[:-2], "--steps", "800", "--resume") == 0
    assert load_checkpoint(straight)["counters"]["env_steps"] == 800
    assert len(load_transitions(straight / TRAIN_DATASET)["rewards"]) == 800


def bad(capsys, argv):
    assert launch.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    return err[0]


def test_bad_train_input_exits_2_with_one_line(tiny_run, tmp_path, capsys):
    before = sorted(p.name for p in (tiny_run / "checkpoints").iterdir())
    line = bad(capsys, ["train", "--run-dir", str(tiny_run), "--steps", "200"])
    assert "--resume" in line
    argv = ["train", "--run-dir", str(tiny_run), *TINY, "--steps", "800", "--seed", "3",
            "--strategy", "random", "--resume"]  # fmt: skip
    line = bad(capsys, argv)
    assert "strategy: the run has 'curriculum', now 'random' (--strategy curriculum)" in line
    argv = ["train", "--run-dir", str(tiny_run), *TINY, "--steps", "800", "--resume",
            "--sac.no-bc-self", "--curriculum.alone-every", "0"]  # fmt: skip
    line = bad(capsys, argv)  # nested settings: each leaf, with the option that restores it
    assert "sac.bc_self: the run has True, now False (--sac.bc-self)" in line
    assert "curriculum.alone_every: the run has 2, now 0 (--curriculum.alone-every 2)" in line
    assert sorted(p.name for p in (tiny_run / "checkpoints").iterdir()) == before

    line = bad(capsys, ["train", "--run-dir", str(tmp_path / "x"), "--resume"])
    assert "nothing to resume" in line
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert "not empty" in bad(capsys, ["train", "--run-dir", str(other)])
    assert (other / "notes.txt").read_text() == "mine"
    line = bad(capsys, ["train", "--run-dir", str(tmp_path / "y"), "--guide", "none"])
    assert "--guide none" in line
    assert "--steps" in bad(capsys, ["train", "--run-dir", str(tmp_path / "z"), "--steps", "0"])
    assert "unknown guide" in bad(capsys, ["train", "--run-dir", str(tmp_path / "g"),
                                           "--guide", "telepathy", "--no-progress"])  # fmt: skip


def test_no_jsrl_learns_from_the_same_guide_data_and_rejects_other_shapes(tmp_path, capsys):
    run = tmp_path / "none"
    args = [*TINY, "--steps", "400", "--strategy", "none", "--guide-episodes", "2"]
    assert train(run, *args) == 0
    data = load_transitions(run / TRAIN_DATASET)
    assert set(np.unique(data["actor"])) == {Actor.EXPLORER} and set(np.unique(data["h"])) == {0}
    assert len(list(iter_episodes(run / GUIDE_DATASET))) == 2  # the same guide data as JSRL
    assert int(read_csv(run / "metrics" / "evals.csv")[-1]["updates"]) > 0

    for path in list_checkpoints(run):  # every one: a damaged newest would fall back
        ckpt = torch.load(path, weights_only=True)
        ckpt["obs_dim"] = 12
        save_checkpoint(path, ckpt)
    line = bad(capsys, ["train", "--run-dir", str(run), *args, "--steps", "600", "--resume"])
    assert "obs_dim=12" in line


def test_train_config_nests_the_learners_own_configs():
    """One copy of each config: ``TrainConfig`` holds the learner's SACConfig and LearnerConfig.

    ``train``'s own defaults differ in the update schedule only: UTD 2, the actor once per step.
    """
    cfg = TrainConfig(run_dir=ROOT / "unused")
    assert type(cfg.sac) is SACConfig and cfg.sac == SACConfig(actor_every=TRAIN_UTD)
    assert type(cfg.learner) is LearnerConfig and cfg.learner == LearnerConfig(utd_ratio=TRAIN_UTD)
    assert TRAIN_UTD == 2 and SACConfig().actor_every == 1 and LearnerConfig().utd_ratio == 1
    assert cfg.sac.hidden == 128 and cfg.sac.init_alpha == pytest.approx(0.01)
    names = {f.name for f in dataclasses.fields(SACConfig)}
    assert {"n_step", "mc_lower_bound", "backup_entropy", "bc_weight", "bc_decay_updates"} <= names


def test_offline_data_joins_the_prior_buffer(tiny_run, tmp_path, capsys):
    """--offline-data adds every step of a recording (e.g. human demos) to the offline buffer."""
    from guides.registry import make_guide
    from learner.config import TrainConfig
    from learner.session import LearningSession

    demos = tiny_run / GUIDE_DATASET  # 3 recorded guide episodes stand in for human demos
    n_demo = len(load_transitions(demos)["rewards"])
    cfg = TrainConfig(
        run_dir=tmp_path / "with-demos", guide_episodes=2, offline_data=(demos,), progress=False
    )
    env = sim.make_door()
    session = LearningSession(cfg, make_guide("scripted", env, seed=0), env=env)
    try:
        assert len(session.parts.offline) == n_demo + 2 * sim.EPISODE_STEPS
    finally:
        assert session.close() == []
    # Tiny settings, so a missing path that is not rejected fails fast instead of training
    # for the default 100k steps.
    line = bad(capsys, ["train", "--run-dir", str(tmp_path / "bad"), *TINY, "--steps", "200",
                        "--offline-data", str(tmp_path / "missing-v0")])  # fmt: skip
    assert "missing-v0" in line


def test_sigterm_saves_like_ctrl_c(tmp_path):
    """A session manager's SIGTERM saves a checkpoint and exits as Ctrl-C does (no traceback)."""
    run = tmp_path / "run"
    cmd = [sys.executable, "launch.py", "train", "--run-dir", str(run), *TINY,
           "--learner.warmup-steps", "100000", "--steps", "100000"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while proc.poll() is None and len(read_csv(run / "metrics" / "episodes.csv")) < 1:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err
    assert load_checkpoint(run)["counters"]["episodes"] >= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "-1"], "--seed must be in"),
        (["--seed", str(2**70)], "--seed must be in"),
        (["--buffer-capacity", str(10**13)], "--buffer-capacity must be in"),
        (["--bc-steps", "-1"], "--bc-steps must be in"),
        (["--sac.hidden", str(10**7)], "hidden must be in"),
        (["--sac.actor-lr", "-1"], "actor_lr must be a positive number"),
        (["--curriculum.window", "0"], "--curriculum.window must be >= 1"),
        (["--explorer-speed", "0"], "--explorer-speed must be in [0.1, 10]"),
        (["--explorer-speed", "nan"], "--explorer-speed must be in [0.1, 10]"),
        (["--curriculum.retry-failures", "2"], "--curriculum.retry-failures must be in [0, 1]"),
        (["--curriculum.retry-until", "190"], "--curriculum.retry-from and retry-until must"),
        (["--learner.device", "cuda"], "no CUDA GPU here"),
        (["--learner.device", "tpu9"], "--learner.device"),
    ],
)
def test_bad_numbers_get_one_line_and_exit_2(tmp_path, capsys, args, message):
    try:
        code = launch.main(["train", "--run-dir", str(tmp_path / "r"), "--no-progress", *args])
    except SystemExit as e:  # a config's own check fails while the arguments are parsed
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()  # nothing written


def test_a_refused_resume_of_a_live_run_touches_nothing(tmp_path, capsys):
    """--resume on a run another process is writing: one line, exit 2, its metric rows kept."""
    run = tmp_path / "run"
    cmd = [sys.executable, "launch.py", "train", "--run-dir", str(run), *TINY,
           "--learner.warmup-steps", "100000", "--steps", "100000"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        csv_path = run / "metrics" / "episodes.csv"
        while proc.poll() is None and (
            len(read_csv(csv_path)) < 3 or latest_checkpoint(run) is None
        ):
            time.sleep(0.05)
        before = len(read_csv(csv_path))
        code = launch.main(["train", "--run-dir", str(run), *TINY, "--learner.warmup-steps",
                            "100000", "--steps", "100000", "--resume"])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert len(read_csv(csv_path)) >= before  # the live run's rows are all still there
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)


BROKEN_GUIDE = """
import numpy as np

class Guide:
    def __init__(self):
        self.episodes, self.t = 0, 0

    def reset(self, obs):
        self.episodes, self.t = self.episodes + 1, 0

    def act(self, obs):
        self.t += 1
        if self.episodes >= 4 and self.t == 50:
            raise RuntimeError("the guide broke")
        return np.zeros(28, np.float32)

def make():
    return Guide()
"""


def test_a_guide_error_mid_episode_is_neither_counted_nor_recorded(tmp_path, capsys):
    guide = tmp_path / "broken.py"
    guide.write_text(BROKEN_GUIDE)
    run = tmp_path / "run"
    code = launch.main(["train", "--run-dir", str(run), "--guide", f"{guide}:make",
                        "--strategy", "fixed", "--curriculum.fixed-h", "100",
                        "--guide-episodes", "0", "--eval-episodes", "0", "--steps", "2000",
                        "--no-progress", "--sac.hidden", "16"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "the guide broke" in err, err
    counters = load_checkpoint(run)["counters"]
    # whole episodes only: the broken episode's 49 steps are neither recorded nor counted
    assert counters["env_steps"] == 200 * counters["episodes"] and counters["episodes"] >= 1
    assert len(load_transitions(run / TRAIN_DATASET)["rewards"]) == counters["env_steps"]


def test_a_run_killed_in_its_first_episode_resumes(tmp_path):
    """A checkpoint at step 0 (after the guide episodes): kill -9 in episode 1, then --resume."""
    run = tmp_path / "run"
    cmd = [sys.executable, "launch.py", "train", "--run-dir", str(run), *TINY,
           "--learner.warmup-steps", "100000", "--steps", "100000"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and latest_checkpoint(run) is None:
        time.sleep(0.01)
    proc.kill()  # kill -9 before the first episode has ended
    proc.wait(timeout=60)
    assert load_checkpoint(run)["counters"]["env_steps"] in (0, 200)
    assert train(run, "--resume", "--learner.warmup-steps", "100000", "--steps", "400") == 0
    assert load_checkpoint(run)["counters"]["env_steps"] == 400


def test_config_file_from_a_previous_run(tiny_run, tmp_path, capsys):
    new = tmp_path / "again"
    argv = ["train", "--config", str(tiny_run / "config.json"), "--run-dir", str(new),
            "--steps", "200", "--seed", "9"]  # fmt: skip
    assert launch.main(argv) == 0, capsys.readouterr().err
    old, again = (json.loads((d / "config.json").read_text()) for d in (tiny_run, new))
    assert again["train"]["seed"] == 9 and again["train"]["steps"] == 200  # given: they win
    same = {k for k in old["train"] if k not in ("run_dir", "seed", "steps", "resume")}
    assert {k: again["train"][k] for k in same} == {k: old["train"][k] for k in same}
    line = bad(capsys, ["train", "--config", str(tmp_path / "missing.json"), "--run-dir", "x"])
    assert "--config" in line and "missing.json" in line


def test_tensorboard_gets_every_metric_column(tiny_run):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from learner.metrics import EPISODE_FIELDS, EVAL_FIELDS, NOT_SCALARS

    events = EventAccumulator(str(tiny_run / "metrics" / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert "train/open_at_end" in tags and "train/h" in tags and "eval/success_rate" in tags
    numeric = {f"train/{k}" for k in EPISODE_FIELDS if k not in NOT_SCALARS} | {
        f"eval/{k}" for k in EVAL_FIELDS if k not in NOT_SCALARS}  # fmt: skip
    assert len(tags & numeric) >= len(numeric) - 3  # all but values never finite (e.g. NaN)


def test_resuming_a_run_from_before_an_option_accepts_its_default(tmp_path):
    """A run saved before an option existed resumes when the option is left at its default."""
    cfg = TrainConfig(run_dir=tmp_path)
    saved = config_to_dict(cfg)
    del saved["curriculum"]["retry_from"], saved["sac"]["bc_q_filter_after"]
    check_same_settings(cfg, saved)  # at their defaults: the run goes on as it was made
    moved = dataclasses.replace(cfg, curriculum=dataclasses.replace(cfg.curriculum, retry_from=80))
    with pytest.raises(UserError, match=r"curriculum.retry_from: the run has none .*now 80"):
        check_same_settings(moved, saved)


def test_a_run_from_before_the_explorer_speed_resumes_at_a_persons_speed(tmp_path):
    """A faster default came after such runs: their actors learned at speed 1."""
    saved = config_to_dict(TrainConfig(run_dir=tmp_path))
    del saved["explorer_speed"]  # written before the option existed
    (tmp_path / "config.json").write_text(json.dumps({"train": saved}))
    before = read_config(tmp_path / "config.json")
    assert before["explorer_speed"] == 1.0 and TrainConfig.explorer_speed == 3.0
    changed = r"explorer_speed: the run has 1.0, now 3.0 .*--explorer-speed 1.0"
    with pytest.raises(UserError, match=changed):
        check_same_settings(TrainConfig(run_dir=tmp_path), before)
    check_same_settings(TrainConfig(run_dir=tmp_path, explorer_speed=1.0), before)
    argv = launch.expand_config(["train", "--config", str(tmp_path / "config.json")])
    assert argv[argv.index("--explorer-speed") + 1] == "1.0"  # --config: the run as it was made


def test_a_run_from_before_the_mc_floor_ended_keeps_it_throughout(tmp_path):
    """Runs made before ``mc_lower_bound_until`` kept the floor: resuming says how to go on."""
    saved = config_to_dict(TrainConfig(run_dir=tmp_path))
    del saved["sac"]["mc_lower_bound_until"]  # written before the option existed
    (tmp_path / "config.json").write_text(json.dumps({"train": saved}))
    before = read_config(tmp_path / "config.json")
    assert before["sac"]["mc_lower_bound_until"] == 0
    assert SACConfig.mc_lower_bound_until == 60_000
    changed = r"sac.mc_lower_bound_until: the run has 0, now 60000 .*--sac.mc-lower-bound-until 0"
    with pytest.raises(UserError, match=changed):
        check_same_settings(TrainConfig(run_dir=tmp_path), before)
    kept_floor = SACConfig(actor_every=TRAIN_UTD, mc_lower_bound_until=0)
    kept = TrainConfig(run_dir=tmp_path, sac=kept_floor)
    check_same_settings(kept, before)


def test_a_run_from_before_rates_resumes_without_them_and_says_how(tmp_path):
    """Rates became the default after such runs: resuming one names the option that keeps it."""
    saved = config_to_dict(TrainConfig(run_dir=tmp_path))
    del saved["sac"]["obs_rates"], saved["sac"]["rates_of"]  # written before either existed
    (tmp_path / "config.json").write_text(json.dumps({"train": saved}))
    before = read_config(tmp_path / "config.json")
    with pytest.raises(
        UserError, match=r"sac.obs_rates: the run has False, now True .*--sac.no-obs-rates"
    ):
        check_same_settings(TrainConfig(run_dir=tmp_path), before)
    without = TrainConfig(run_dir=tmp_path, sac=SACConfig(obs_rates=False))
    check_same_settings(without, before)  # what the run was made with: it goes on
