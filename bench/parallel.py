"""Run ``launch.py train`` jobs as parallel processes, a few at a time (for the benchmarks).

Each job is one process with one torch thread; its output goes to its own log. Ctrl-C sends
SIGINT to every running job (each saves a checkpoint and exits), so a benchmark can be stopped
and resumed.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class TrainJob:
    """One ``python launch.py ARGS`` run."""

    name: str
    """Short name for progress lines, e.g. ``curriculum-s0``."""
    args: list[str]
    """Arguments of ``launch.py`` (``train --run-dir ...``)."""
    log: Path
    """File that receives the run's stdout and stderr (appended)."""


def run_jobs(jobs: list[TrainJob], workers: int) -> list[str]:
    """Run ``jobs``, at most ``workers`` at once; return the names of those that failed."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    todo, running, failed = list(jobs), {}, []
    try:
        while todo or running:
            while todo and len(running) < workers:
                job = todo.pop(0)
                print(f"start {job.name}: python launch.py {shlex.join(job.args)}", flush=True)
                running[job.name] = (_start(job, env), time.monotonic())
            time.sleep(2.0)
            for name, (proc, t0) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[name]
                minutes = (time.monotonic() - t0) / 60
                print(f"done  {name}: exit {proc.returncode} after {minutes:.1f} min", flush=True)
                if proc.returncode != 0:
                    failed.append(name)
    except KeyboardInterrupt:
        print("interrupted: stopping the runs (each saves a checkpoint)", flush=True)
        for proc, _ in running.values():
            proc.send_signal(signal.SIGINT)
        for proc, _ in running.values():
            proc.wait()
    return failed


def _start(job: TrainJob, env: dict[str, str]) -> subprocess.Popen[bytes]:
    job.log.parent.mkdir(parents=True, exist_ok=True)
    with job.log.open("ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "launch.py", *job.args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
