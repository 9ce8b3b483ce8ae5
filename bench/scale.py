"""Scaling of collection: env steps per wall second and per CPU second, one process vs Ray workers.

Each case is the real ``train`` session (scripted guide, the explorer acting after a fixed
``h``, nothing evaluated or checkpointed while timed) playing ``--steps`` env steps: in one
process (:func:`learner.trainer.play_here`, the ``--workers 1`` path) and on 1, 2, ... Ray
workers (:func:`learner.ray_runs.play_session`, the ``--workers N`` path), with the learner off
and on (paced at the update-to-data ratio, as ``train`` runs it). The CPU seconds are the
driver's (learner and writer threads included) plus every worker's, read from ``/proc``; Ray's
daemons (raylet, GCS) are left out and reported apart. The workers' start-up (``ray.init``, the
actors' set-up) is timed apart too: the rates are of the steady collection.

Scaling efficiency = (steps/s with N workers) / (N x steps/s in one process); the target is
>= 0.8 up to the machine's cores. Writes bench/results/scale.json and prints a table.

    python -m bench.scale --workers 1 2 --steps 3000
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tyro

ROOT = Path(__file__).resolve().parents[1]
TARGET_EFFICIENCY = 0.8
"""Goal: N workers collect at least 0.8 x N times the steps/s of one process (N <= cores)."""
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ScaleBench:
    """Env steps per wall and CPU second: one process against 1, 2, ... Ray workers."""

    workers: tuple[int, ...] = (1, 2)
    """Worker counts to measure (each against the one-process baseline)."""
    steps: int = 3000
    """Env steps per case (whole 200-step episodes)."""
    h: int = 60
    """Guide steps per episode (the explorer acts for the rest)."""
    learner: tuple[bool, ...] = (False, True)
    """Measure with the learner off, and on (paced, utd 1)."""
    out: Path = ROOT / "bench" / "results" / "scale.json"
    """JSON results."""


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def ray_daemon_pids() -> list[int]:
    """Processes of Ray's own daemons on this machine (raylet, gcs_server)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                name = (proc / "comm").read_text().strip()
            except OSError:
                continue
            if name in ("raylet", "gcs_server"):
                pids.append(int(proc.name))
    return pids


def _config(run_dir: Path, steps: int, h: int) -> Any:
    from learner.config import CurriculumConfig, LearnerConfig, SACConfig, TrainConfig

    return TrainConfig(
        run_dir=run_dir, guide="scripted", strategy="fixed", guide_episodes=2, bc_steps=100,
        eval_episodes=0, checkpoint_every=10**9, progress=False, steps=steps,
        sac=SACConfig(), learner=LearnerConfig(warmup_steps=200),
        curriculum=CurriculumConfig(fixed_h=h),
    )  # fmt: skip


def _session(cfg: ScaleBench, run_dir: Path, learner: bool) -> Any:
    import sim
    from guides.registry import make_guide, parse_spec
    from learner.session import LearningSession, SessionOptions

    env = sim.make_door()
    guide = make_guide(parse_spec("scripted"), env, seed=0)
    opts = SessionOptions(learning=learner, plots=False)
    return LearningSession(_config(run_dir, cfg.steps, cfg.h), guide, opts, env=env)


def _timed(play: Callable[[], None], pids: list[int], steps: int) -> dict[str, float]:
    cpu0 = time.process_time() + sum(cpu_seconds(p) for p in pids)
    t0 = time.perf_counter()
    play()
    wall = time.perf_counter() - t0
    cpu = time.process_time() + sum(cpu_seconds(p) for p in pids) - cpu0
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "steps_per_s": steps / wall,
        "steps_per_cpu_s": steps / cpu,
    }


def one_process(cfg: ScaleBench, learner: bool, tmp: Path) -> dict[str, Any]:
    """The ``--workers 1`` path: every episode in this process."""
    from learner.trainer import play_here

    session = _session(cfg, tmp / f"one-{learner}", learner)
    session.start()
    try:
        return {
            "workers": 0,
            "learner": learner,
            **_timed(lambda: play_here(session), [], cfg.steps),
        }
    finally:
        session.close()


def on_workers(cfg: ScaleBench, n: int, learner: bool, tmp: Path) -> dict[str, Any]:
    """The ``--workers n`` path: ``n`` Ray actors play, the session commits."""
    import functools

    from guides.registry import make_guide, parse_spec
    from learner.ray_runs import play_session
    from learner.ray_workers import WorkerPool, WorkerSpec
    from learner.session_parts import build_explorer

    session = _session(cfg, tmp / f"ray{n}-{learner}", learner)
    t0 = time.perf_counter()
    build_guide = functools.partial(make_guide, parse_spec("scripted"), seed=0)
    spec = WorkerSpec(build_guide, functools.partial(build_explorer, session.cfg), 0)
    pool = WorkerPool(n, spec, log_to_driver=False)
    pids = pool.pids()  # waits for every actor's set-up
    start_s = time.perf_counter() - t0
    daemons = ray_daemon_pids()
    ray0 = sum(cpu_seconds(p) for p in daemons)
    last = session.counters.episodes + cfg.steps // 200
    try:
        row = _timed(lambda: play_session(session, pool, lambda k: k < last), pids, cfg.steps)
        ray_cpu = sum(cpu_seconds(p) for p in daemons) - ray0
    finally:
        pool.close()
        session.close()
    return {
        "workers": n,
        "learner": learner,
        **row,
        "start_s": start_s,
        "ray_daemons_cpu_s": ray_cpu,
    }


def main(cfg: ScaleBench) -> int:
    """Measure every case, write the JSON, print the table."""
    import ray

    load_before = os.getloadavg()
    ray.init(num_cpus=max(max(cfg.workers), os.cpu_count() or 1), include_dashboard=False,
             log_to_driver=False)  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for learner in cfg.learner:
            rows.append(one_process(cfg, learner, Path(tmp)))
            rows += [on_workers(cfg, n, learner, Path(tmp)) for n in cfg.workers]
    ray.shutdown()
    for row in rows:
        base = next(r for r in rows if r["workers"] == 0 and r["learner"] == row["learner"])
        n = max(1, row["workers"])
        row["speedup"] = row["steps_per_s"] / base["steps_per_s"]
        row["efficiency"] = row["speedup"] / n
        row["cpu_efficiency"] = row["steps_per_cpu_s"] / base["steps_per_cpu_s"]
    results = {
        "bench": "scale",
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
        "cores": os.cpu_count(),
        "load_avg_before_after": [load_before, os.getloadavg()],
        "python": platform.python_version(),
        "target_efficiency": TARGET_EFFICIENCY,
        "rows": rows,
    }
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    cfg.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(rows))
    print(f"\nresults: {cfg.out}")
    return 0


def table(rows: list[dict[str, Any]]) -> str:
    """One line per case."""
    head = f"{'case':<22}{'steps/s':>10}{'steps/CPU-s':>13}{'speedup':>9}{'efficiency':>12}"
    lines = [head]
    for r in rows:
        who = "one process" if r["workers"] == 0 else f"{r['workers']} Ray workers"
        case = f"{who}, learner {'on' if r['learner'] else 'off'}"
        lines.append(f"{case:<22}{r['steps_per_s']:>10.0f}{r['steps_per_cpu_s']:>13.0f}"
                     f"{r['speedup']:>8.2f}x{r['efficiency']:>12.2f}")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main(tyro.cli(ScaleBench)))
