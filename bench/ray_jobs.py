"""Run ``launch.py train`` jobs as Ray tasks (``bench/learning.py --ray [--ray-address A]``).

The same jobs as :func:`bench.parallel.run_jobs` (one process with one torch thread each, its
output to its own log), each started by a Ray task that asks for one CPU: on a local cluster
of ``workers`` CPUs, at most ``workers`` run at once; on a cluster (``address``) the sweep
spreads over its nodes unchanged (each node needs the project at the same path, and the runs
directory on a shared file system). Ctrl-C cancels the tasks: each run gets SIGINT, saves a
checkpoint and exits, so the sweep resumes as with ``bench/parallel.py``.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from bench.parallel import TrainJob, _start

JOB_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""One torch thread per run, as ``bench/parallel.py`` gives its jobs."""


def run_job(job: TrainJob) -> int:
    """One job in this process's node, to its end (Ctrl-C or a cancel: SIGINT to the run)."""
    proc = _start(job, {**os.environ, **JOB_ENV})
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait()


def run_jobs_on_ray(jobs: list[TrainJob], workers: int, address: str | None = None) -> list[str]:
    """Run ``jobs`` as Ray tasks; return the names of those that failed.

    Args:
        jobs: The runs.
        workers: CPUs of the local cluster started here (ignored with ``address``, or when
            this process has started Ray already).
        address: A running cluster's address (None: a local cluster).

    """
    import ray

    owns = not ray.is_initialized()
    if owns:
        ray.init(address=address, num_cpus=None if address else workers,
                 include_dashboard=False)  # fmt: skip
    task: Any = ray.remote(num_cpus=1, max_retries=0)(run_job)
    started = time.monotonic()
    running = {task.remote(job): job for job in jobs}
    failed: list[str] = []
    try:
        while running:
            ready, _ = ray.wait(list(running), num_returns=1)
            job = running.pop(ready[0])
            code = int(ray.get(ready[0]))
            minutes = (time.monotonic() - started) / 60
            print(f"done  {job.name}: exit {code} ({minutes:.1f} min into the sweep)", flush=True)
            if code != 0:
                failed.append(job.name)
    except KeyboardInterrupt:
        print("interrupted: stopping the runs (each saves a checkpoint)", flush=True)
        for ref in running:
            ray.cancel(ref)
        ray.wait(list(running), num_returns=len(running), timeout=120)
    finally:
        if owns:
            ray.shutdown()
    return failed


__all__ = ["run_job", "run_jobs_on_ray"]
