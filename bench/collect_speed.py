"""Recording overhead: steps/s of ``env.step`` + ``DatasetWriter`` vs bare ``env.step``.

The actions are generated first by running the scripted guide once (through
``guides.registry.make_guide``; random actions if it is not available, which measures the same
recording overhead), so both loops replay exactly the same actions from the same seeds and the
guide's own cost is left out. Rounds alternate bare / recorded; each loop's best (shortest)
round counts. The recorded time includes ``close()``, i.e. until the last episode is on disk.
The process CPU time (the writer thread's included) is reported beside the wall time: on a
busy machine it is the steadier measure of what recording costs, and a lower bound of the wall
ratio on an idle one (there the writer thread runs on another core, and only its GIL-holding
part, a fraction of its CPU time, can delay the main thread).

Target: recorded / bare >= 0.85. Writes bench/results/collect_speed.json.

    python bench/collect_speed.py [--episodes 50] [--rounds 5]
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
from episode.sanitize import ActionSanitizer  # noqa: E402
from episode.types import Actor  # noqa: E402
from recordings.writer import DatasetWriter  # noqa: E402

TARGET_RATIO = 0.85
RESULTS = ROOT / "bench" / "results" / "collect_speed.json"


def make_actions(env: object, episodes: int) -> tuple[list[np.ndarray], str]:
    """Actions of ``episodes`` episodes (seeds 0..), from the scripted guide if available."""
    try:
        from guides.registry import make_guide

        guide = make_guide("scripted", env, seed=0)
    except ImportError:
        rng = np.random.default_rng(0)
        shape = (sim.EPISODE_STEPS, sim.ACT_DIM)
        acts = [rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(episodes)]
        return acts, "random (guides.registry not available)"
    sanitize = ActionSanitizer()
    out = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=ep)
        guide.reset(obs)
        sanitize.reset()
        acts, done = [], False
        while not done:
            a = sanitize(guide.act(obs))
            obs, _, te, tr, _ = env.step(a)
            acts.append(a)
            done = te or tr
        out.append(np.array(acts))
    return out, "scripted guide"


def bare(env: object, actions: list[np.ndarray]) -> tuple[float, float]:
    """Wall and process CPU seconds to replay ``actions`` with ``env.step`` alone."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    for ep, acts in enumerate(actions):
        env.reset(seed=ep)
        for a in acts:
            env.step(a)
    return time.perf_counter() - t0, time.process_time() - c0


def recorded(env: object, actions: list[np.ndarray], dataset: Path) -> tuple[float, float]:
    """Wall and CPU seconds to replay ``actions`` and record them (``close`` included)."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    writer = DatasetWriter(dataset)
    for ep, acts in enumerate(actions):
        obs, _ = env.reset(seed=ep)
        writer.begin_episode(obs, seed=ep, h=sim.EPISODE_STEPS, guide_kind="scripted")
        for a in acts:
            obs, r, te, tr, info = env.step(a)
            writer.add_step(
                a, r, obs, te, tr, actor=Actor.GUIDE, h=sim.EPISODE_STEPS, success=info["success"]
            )
        writer.end_episode()
    writer.close()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=50, help="episodes per loop")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per loop")
    args = parser.parse_args()
    env = sim.make_door()
    actions, source = make_actions(env, args.episodes)
    steps = sum(len(a) for a in actions)
    wall: dict[str, list[float]] = {"bare": [], "recorded": []}
    cpu: dict[str, list[float]] = {"bare": [], "recorded": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, (w, c) in (
                ("bare", bare(env, actions)),
                ("recorded", recorded(env, actions, Path(tmp) / f"speed-v{r}")),
            ):
                wall[name].append(w)
                cpu[name].append(c)
    rate = {k: steps / min(v) for k, v in wall.items()}
    ratio = rate["recorded"] / rate["bare"]
    cpu_ratio = min(cpu["bare"]) / min(cpu["recorded"])
    paired = float(np.median(np.array(wall["bare"]) / np.array(wall["recorded"])))
    out = {
        "benchmark": "collect_speed",
        "command": (
            f"python bench/collect_speed.py --episodes {args.episodes} --rounds {args.rounds}"
        ),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "actions": source,
        "steps_per_loop": steps,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "steps_per_s": rate,
        "ratio": ratio,
        "paired_ratio_median": paired,
        "cpu_ratio": cpu_ratio,
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "cpu_meets_target": cpu_ratio >= TARGET_RATIO,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1))
    print(f"actions: {source}; {steps} steps per loop, best of {args.rounds} rounds")
    print(f"{'loop':<10} {'steps/s':>9} {'wall s per round':>34} {'CPU s per round':>34}")
    for k in ("bare", "recorded"):
        w = " ".join(f"{t:.2f}" for t in wall[k])
        c = " ".join(f"{t:.2f}" for t in cpu[k])
        print(f"{k:<10} {rate[k]:>9.0f} {w:>34} {c:>34}")
    print(f"median of per-round wall ratios {paired:.3f}")
    print(f"CPU ratio (bare CPU / recorded CPU, writer thread included) {cpu_ratio:.3f}")
    verdict = "meets" if out["meets_target"] else "MISSES"
    print(f"ratio recorded/bare {ratio:.3f} {verdict} the target >= {TARGET_RATIO}")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
