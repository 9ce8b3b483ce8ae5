"""Fault campaign: ``kill -9`` / resume cycles of ``train``, the app and ``collect``.

Each target runs as a real process on its own directory; every cycle starts it (resuming
after the first), kills it with SIGKILL at a random moment or right after it saved (a new
checkpoint for ``train`` and the app, a newly committed episode for ``collect``), and starts
it again. A last clean run finishes the campaign; then the recording is checked against what
the run counts:

- **lost**: an episode the run counts (its seed is behind the run's position) that the dataset
  does not hold;
- **duplicated**: a seed the dataset holds more than once.

    python -m bench.faults --cycles 50

writes ``bench/results/faults.json`` and prints a table. Target: 0 lost and 0 duplicated in
every row.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tyro

ROOT = Path(__file__).resolve().parents[1]
MODES = ("random", "after-save")
"""When a cycle kills: a random moment, or right after the target saved."""
TARGETS = ("train", "collect", "app")


@dataclass(frozen=True)
class FaultsBench:
    """Kill -9 / resume cycles; count the episodes lost and duplicated."""

    cycles: int = 50
    """Kill/resume cycles per target and mode."""
    targets: tuple[str, ...] = TARGETS
    """Which of train, collect, app to run."""
    modes: tuple[str, ...] = MODES
    """random (a kill 0-6 s after the process begins recording) and/or after-save."""
    seed: int = 0
    """Seed of the kill times."""
    work_dir: Path = Path("runs/bench-faults")
    """Where the targets' directories go (replaced on each run of the bench)."""
    out: Path = Path("bench/results/faults.json")
    """JSON results."""
    max_wait_s: float = 120.0
    """Longest wait for a save before a cycle kills anyway."""


def command(target: str, where: Path, first: bool) -> list[str]:
    """The target's command line (resuming when not ``first``)."""
    py = [sys.executable, "launch.py"]
    if target == "train":
        resume = [] if first else ["--resume"]
        return [*py, "train", "--run-dir", str(where), "--guide", "scripted",
                "--guide-episodes", "2", "--eval-episodes", "0", "--no-progress",
                "--sac.hidden", "32", "--learner.warmup-steps", "200",
                "--checkpoint-every", "400", "--steps", "1000000", *resume]  # fmt: skip
    if target == "collect":
        return [*py, "collect", "--guide", "scripted", "--episodes", "1000000", "--append",
                "--no-progress", "--out", str(where / "door-faults-v0")]  # fmt: skip
    return [*py, "app", "--guide", "scripted", "--run-dir", str(where), "--guide-episodes", "1",
            "--fixed-steps-per-frame", "25", "--episode-pause-s", "0", "--warmup-steps", "200",
            "--fps-limit", "200", "--render-hz", "5"]  # fmt: skip


def dataset_of(target: str, where: Path) -> Path:
    """The dataset the target records its episodes to."""
    name = {"train": "door-train-v0", "app": "door-app-v0"}.get(target)
    return where / "door-faults-v0" if name is None else where / "episodes" / name


def saved_marker(target: str, where: Path) -> Callable[[], Any]:
    """What changes when the target has saved (the newest checkpoint, or the episode count)."""
    from learner.checkpoint import latest_checkpoint
    from recordings.reader import episode_count
    from sim.errors import UserError

    if target == "collect":

        def count() -> Any:
            try:
                return episode_count(dataset_of(target, where))
            except UserError:
                return None

        return count
    return lambda: latest_checkpoint(where)


def records(where: Path, pid: int) -> bool:
    """Whether process ``pid`` holds a dataset's writer lock under ``where`` (it records)."""
    for lock in where.rglob(".writer.lock"):
        try:
            if lock.read_text().strip() == str(pid):
                return True
        except OSError:
            continue
    return False


def cycle(cfg: FaultsBench, target: str, mode: str, where: Path, first: bool,
          rng: random.Random) -> str:  # fmt: skip
    """Start the target, kill it with SIGKILL at the mode's moment; what happened."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
           "OMP_NUM_THREADS": "1"}  # fmt: skip
    marker = saved_marker(target, where)
    before = marker()
    proc = subprocess.Popen(command(target, where, first), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    t0, deadline, started = time.monotonic(), rng.uniform(0.0, 6.0), None
    while proc.poll() is None:
        waited = time.monotonic() - t0
        if started is None and records(where, proc.pid):  # past its start-up
            started = waited
        if mode == "random" and started is not None and waited - started >= deadline:
            break
        if mode == "after-save" and (marker() != before or waited >= cfg.max_wait_s):
            break
        time.sleep(0.005)
    if proc.poll() is not None:  # it ended by itself: an error to report
        err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
        return f"exited {proc.returncode}: {err.splitlines()[-1] if err else ''}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return "killed"


def finish(target: str, where: Path) -> int:
    """One clean run until it saves once more, stopped with SIGTERM (save, flush, exit)."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    marker = saved_marker(target, where)
    before, t0 = marker(), time.monotonic()
    proc = subprocess.Popen(command(target, where, first=False), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    while proc.poll() is None and marker() == before and time.monotonic() - t0 < 120:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # does what Ctrl-C does: save, flush, exit
    return proc.wait(timeout=300)


def audit(target: str, where: Path) -> dict[str, Any]:
    """Episodes lost and duplicated: the dataset's seeds against what the run counts."""
    from learner.checkpoint import latest_checkpoint, load_checkpoint
    from learner.session_setup import episode_seed
    from recordings.reader import iter_episodes

    dataset = dataset_of(target, where)
    seeds = [e.seed for e in iter_episodes(dataset)] if dataset.exists() else []
    duplicated = sum(n - 1 for n in Counter(seeds).values() if n > 1)
    if target == "collect":  # episode i of the dataset has seed i (``--seed 0``)
        expected = set(range(max(seeds, default=-1) + 1))
    else:
        saved = load_checkpoint(where) if latest_checkpoint(where) is not None else {}
        counted = int(saved.get("counters", {}).get("episodes", 0))
        expected = {episode_seed(0, k) for k in range(counted)}
    lost = len(expected - set(seeds))
    return {"episodes": len(seeds), "lost": lost, "duplicated": duplicated}


def run_target(cfg: FaultsBench, target: str, mode: str, rng: random.Random) -> dict[str, Any]:
    """All cycles of one target and mode, the clean finish, and the audit."""
    import shutil

    from tqdm import tqdm

    where = cfg.work_dir / f"{target}-{mode}"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    outcomes: Counter[str] = Counter()
    for i in tqdm(range(cfg.cycles), desc=f"{target} {mode}", unit="kill"):
        outcomes[cycle(cfg, target, mode, where, first=i == 0, rng=rng)] += 1
    finished = finish(target, where)
    row = {"target": target, "mode": mode, "cycles": cfg.cycles, "finish_exit": finished,
           "outcomes": dict(outcomes), **audit(target, where)}  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def main(cfg: FaultsBench) -> int:
    """Run the campaign, write the JSON, print the table; 0 if every row has 0 and 0."""
    rng = random.Random(cfg.seed)
    rows = [run_target(cfg, t, m, rng) for t in cfg.targets for m in cfg.modes]
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    cfg.out.write_text(json.dumps({"config": asdict(cfg), "rows": rows}, indent=2, default=str))
    print("| target | kills at | cycles | episodes | lost | duplicated |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['target']} | {r['mode']} | {r['cycles']} | {r['episodes']} | {r['lost']} "
              f"| {r['duplicated']} |")  # fmt: skip
    return 0 if all(r["lost"] == 0 and r["duplicated"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(tyro.cli(FaultsBench)))
