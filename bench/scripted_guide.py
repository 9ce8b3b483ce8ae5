"""Benchmark the scripted guide: success, steps to open and score per setting, 100 seeds each.

Settings: the expert (skill 1), a medium guide (skill 0.5), and the same expert strategy
through keyboard-quantized Commands at the keyboard's default key speeds and at fast keys.
Each setting runs episodes with env seeds 0..N-1. Writes ``bench/results/scripted_guide.json``
and prints a table. Also measures the guide's cost: env steps per second with the guide
acting, as a ratio against random actions measured in the same run.

    python bench/scripted_guide.py [--episodes 100] [--out bench/results/scripted_guide.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sim
from guides.mapping import mapper_for
from guides.scripted import ScriptedConfig, ScriptedGuide

SETTINGS: dict[str, dict[str, object]] = {
    "expert (skill 1.0)": {"skill": 1.0},
    "medium (skill 0.5)": {"skill": 0.5},
    "quantized, keyboard default keys (0.75 m/s, 6 rad/s)": {
        "quantized": True,
        "key_palm_speed": 0.75,
        "key_twist_speed": 6.0,
    },
    "quantized, fast keys (1.0 m/s, 6 rad/s)": {
        "quantized": True,
        "key_palm_speed": 1.0,
        "key_twist_speed": 6.0,
    },
}
"""Setting name -> ScriptedConfig overrides."""

TARGETS = {
    "expert (skill 1.0)": "success >= 0.90 and median steps to open <= 130",
    "medium (skill 0.5)": "0.30 <= success <= 0.60",
}
"""What each setting should reach (settings without a target are reported only)."""


def run_episode(env: object, guide: ScriptedGuide, seed: int) -> tuple[int | None, float]:
    """One episode; returns (first step with the door open or None, normalized score)."""
    obs, _ = env.reset(seed=seed)
    guide.reset(obs)
    first, episode_return = None, 0.0
    for t in range(sim.EPISODE_STEPS):
        obs, reward, terminated, truncated, info = env.step(guide.act(obs))
        episode_return += reward
        if first is None and info["success"]:
            first = t + 1
        if terminated or truncated:
            break
    return first, sim.normalized_score(episode_return)


def run_setting(name: str, overrides: dict[str, object], episodes: int) -> dict[str, object]:
    """All episodes of one setting, summarized."""
    env = sim.make_door()
    config = ScriptedConfig(seed=0, dt=float(env.unwrapped.dt), **overrides)
    guide = ScriptedGuide(mapper_for(env), config)
    opened: list[int | None] = []
    scores: list[float] = []
    for seed in tqdm(range(episodes), desc=name, leave=False):
        first, score = run_episode(env, guide, seed)
        opened.append(first)
        scores.append(score)
    env.close()
    steps = [s for s in opened if s is not None]
    result = {
        "config": asdict(config),
        "episodes": episodes,
        "success_rate": len(steps) / episodes,
        "median_steps_to_open": float(np.median(steps)) if steps else None,
        "mean_normalized_score": float(np.mean(scores)),
        "steps_to_open": opened,
    }
    if name in TARGETS:
        result["target"] = TARGETS[name]
        result["meets_target"] = meets_target(name, result)
    return result


def meets_target(name: str, result: dict[str, object]) -> bool:
    """Whether a setting reaches its target in :data:`TARGETS`."""
    rate = float(result["success_rate"])
    if name.startswith("expert"):
        median = result["median_steps_to_open"]
        return rate >= 0.9 and median is not None and float(median) <= 130
    return 0.3 <= rate <= 0.6


def speed(steps: int = 2000) -> dict[str, float]:
    """Env steps per second with the expert guide acting vs random actions (same run)."""
    env = sim.make_door()
    guide = ScriptedGuide(mapper_for(env))
    rng = np.random.default_rng(0)

    def rate(act: object) -> float:
        obs, _ = env.reset(seed=0)
        guide.reset(obs)
        start = time.perf_counter()
        for t in range(steps):
            obs, *_ = env.step(act(obs))
            if (t + 1) % sim.EPISODE_STEPS == 0:
                obs, _ = env.reset(seed=t)
                guide.reset(obs)
        return steps / (time.perf_counter() - start)

    random_rate = rate(lambda _obs: rng.uniform(-1, 1, sim.ACT_DIM).astype(np.float32))
    guided_rate = rate(guide.act)
    env.close()
    return {
        "random_steps_per_s": random_rate,
        "guided_steps_per_s": guided_rate,
        "guided_over_random": guided_rate / random_rate,
    }


def print_table(results: dict[str, dict[str, object]], timing: dict[str, float]) -> None:
    """The summary table."""
    header = f"{'setting':<46} {'success':>8} {'median steps':>13} {'score':>7}  target"
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        median = r["median_steps_to_open"]
        median_text = f"{median:.0f}" if median is not None else "-"
        target = r.get("target", "")
        if target:
            target = f"{'ok' if r['meets_target'] else 'MISSED'}: {target}"
        print(
            f"{name:<46} {r['success_rate']:>8.0%} {median_text:>13} "
            f"{r['mean_normalized_score']:>7.1f}  {target}"
        )
    print(
        f"\nguide cost: {timing['guided_steps_per_s']:.0f} steps/s with the guide vs "
        f"{timing['random_steps_per_s']:.0f} with random actions "
        f"(ratio {timing['guided_over_random']:.2f})"
    )


def main() -> None:
    """Run every setting, write the JSON, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100, help="episodes per setting")
    parser.add_argument(
        "--out", type=Path, default=Path("bench/results/scripted_guide.json"), help="JSON file"
    )
    args = parser.parse_args()
    if args.episodes < 1:
        parser.error(f"--episodes must be >= 1, got {args.episodes}")
    results = {name: run_setting(name, o, args.episodes) for name, o in SETTINGS.items()}
    timing = speed()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "scripted_guide",
        "episodes_per_setting": args.episodes,
        "seeds": f"0..{args.episodes - 1}",
        "settings": results,
        "speed": timing,
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print_table(results, timing)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
