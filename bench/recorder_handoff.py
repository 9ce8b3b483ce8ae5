"""Main-thread cost of handing steps to the recorder, with its writer thread running.

Times every ``DatasetWriter.add_step`` (and ``end_episode``) call with ``perf_counter_ns`` in
two loops, each over ``--steps`` steps of 200-step episodes written to a temporary dataset:

* ``paced``: the real loop, ``env.step`` on the door between calls (the writer thread writes
  while the main thread steps the physics, as in the app and the trainer);
* ``tight``: ``add_step`` back to back with pre-made arrays (worst case: the writer thread
  competes for the GIL all the time).

Target: p99 of ``add_step`` <= 50 us in the paced loop. Writes bench/results/recorder_handoff.json.

    python bench/recorder_handoff.py [--steps 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from episode.types import Actor  # noqa: E402
from recordings.writer import DatasetWriter  # noqa: E402

TARGET_P99_US = 50.0
RESULTS = ROOT / "bench" / "results" / "recorder_handoff.json"


def _stats(ns: list[int]) -> dict[str, float]:
    us = np.asarray(ns, dtype=np.float64) / 1e3
    return {
        "n": len(us),
        "p50_us": float(np.percentile(us, 50)),
        "p99_us": float(np.percentile(us, 99)),
        "p999_us": float(np.percentile(us, 99.9)),
        "max_us": float(us.max()),
        "mean_us": float(us.mean()),
    }


def run(steps: int, paced: bool, root: Path) -> dict[str, object]:
    """Record ``steps`` steps; return the add_step / end_episode timing statistics."""
    env = sim.make_door()
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (sim.EPISODE_STEPS, sim.ACT_DIM)).astype(np.float32)
    add_ns: list[int] = []
    end_ns: list[int] = []
    t0 = time.perf_counter()
    writer = DatasetWriter(root / f"handoff-{'paced' if paced else 'tight'}-v0")
    episodes = 0
    while len(add_ns) < steps:
        obs, _ = env.reset(seed=episodes)
        writer.begin_episode(obs, seed=episodes, h=50, guide_kind="bench")
        for t in range(sim.EPISODE_STEPS):
            a = actions[t]
            if paced:
                nxt, r, te, tr, info = env.step(a)
                success = info["success"]
            else:
                nxt, r, te, tr, success = obs, -1.0, False, t == sim.EPISODE_STEPS - 1, False
            actor = Actor.GUIDE if t < 50 else Actor.EXPLORER
            s = time.perf_counter_ns()
            writer.add_step(a, r, nxt, te, tr, actor=actor, h=50, success=success)
            add_ns.append(time.perf_counter_ns() - s)
        s = time.perf_counter_ns()
        writer.end_episode()
        end_ns.append(time.perf_counter_ns() - s)
        episodes += 1
    loop_s = time.perf_counter() - t0
    s = time.perf_counter()
    writer.close()
    env.close()
    return {
        "episodes": episodes,
        "episodes_written": writer.episodes_written,
        "loop_s": loop_s,
        "close_s": time.perf_counter() - s,
        "add_step": _stats(add_ns),
        "end_episode": _stats(end_ns),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="steps per loop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {mode: run(args.steps, mode == "paced", Path(tmp)) for mode in ("paced", "tight")}
    p99 = results["paced"]["add_step"]["p99_us"]
    out = {
        "benchmark": "recorder_handoff",
        "command": f"python bench/recorder_handoff.py --steps {args.steps}",
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "target_p99_us": TARGET_P99_US,
        "p99_us": p99,
        "meets_target": p99 <= TARGET_P99_US,
        **results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1))
    print(
        f"{'loop':<7} {'call':<12} {'n':>6} {'p50 us':>8} {'p99 us':>8} {'p99.9':>8} {'max us':>9}"
    )
    for mode, r in results.items():
        for call in ("add_step", "end_episode"):
            st = r[call]
            print(
                f"{mode:<7} {call:<12} {st['n']:>6} {st['p50_us']:>8.2f} {st['p99_us']:>8.2f} "
                f"{st['p999_us']:>8.1f} {st['max_us']:>9.1f}"
            )
    verdict = "meets" if out["meets_target"] else "MISSES"
    print(f"paced add_step p99 {p99:.2f} us {verdict} the target <= {TARGET_P99_US:.0f} us")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
