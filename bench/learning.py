"""Learning benchmark: JSRL-Curriculum vs JSRL-Random vs no-JSRL vs the guide alone.

Every run is ``python launch.py train`` in its own process (one torch thread each), with the
same guide (the scripted guide at medium skill) on the binary-reward door. Every strategy gets
the same guide data as offline data (``--guide-episodes``; for no-JSRL that is its only
contact with the guide, and h = 0). Each run evaluates the explorer alone (h = 0,
deterministic) every ``--eval-every`` env steps on the same fixed seeds; this script collects
those evaluations from the runs' ``metrics/evals.csv``, adds the guide alone on the same seeds,
and writes ``bench/results/learning.json``, a learning-curve PNG and a table.

Runs live in ``--runs-dir``; running the script again resumes unfinished runs (``--resume`` of
each) and extends finished ones when ``--steps`` grows, so a long benchmark can be done in
pieces. Ctrl-C stops every run cleanly (each saves a checkpoint) and still writes the results.

    python -m bench.learning --steps 200000 --seeds 0 1 --workers 2
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tyro

from bench.parallel import TrainJob, run_jobs

ROOT = Path(__file__).resolve().parents[1]
TARGET_SUCCESS = 0.95
"""The issue's goal: explorer success rate at ``TARGET_STEPS``."""
TARGET_SCORE = 80.0
"""The issue's goal: explorer normalized score at ``TARGET_STEPS``."""
TARGET_STEPS = 200_000
"""Env steps by which the goal should be met."""


@dataclass(frozen=True)
class LearningBench:
    """Train each strategy with 2+ seeds, evaluate the explorer alone, compare with the guide."""

    strategies: tuple[str, ...] = ("curriculum", "random", "none")
    """Strategies to train (curriculum, random, none)."""
    seeds: tuple[int, ...] = (0, 1)
    """Seeds per strategy."""
    steps: int = TARGET_STEPS
    """Env steps per run."""
    eval_every: int = 10_000
    """Evaluate the explorer alone every this many env steps."""
    eval_episodes: int = 10
    """Episodes per evaluation."""
    guide: str = "scripted:0.5"
    """The guide (medium skill: it opens the door in about 30-60 % of episodes)."""
    guide_episodes: int = 20
    """Guide-only episodes per run (H1, and the offline data of every strategy)."""
    guide_eval_episodes: int = 50
    """Episodes of the guide alone (on the evaluation seeds) for the baseline row."""
    workers: int = 2
    """Runs trained at the same time (one process and one torch thread each)."""
    runs_dir: Path = Path("runs/bench-learning")
    """Where the runs live (kept, so the benchmark can be resumed and extended)."""
    out: Path = Path("bench/results/learning.json")
    """JSON results."""
    png: Path = Path("bench/results/learning.png")
    """Learning curves (success and normalized score of the explorer alone vs env steps)."""
    train_args: str = ""
    """Extra train arguments for every run, one string: --train-args="--learner.utd-ratio 2"."""
    report_only: bool = False
    """Do not train: only collect what the runs have so far."""


def main(cfg: LearningBench) -> int:
    """Train what is missing, then report."""
    cfg.runs_dir.mkdir(parents=True, exist_ok=True)
    if not cfg.report_only:
        _train_all(cfg)
    guide = _guide_alone(cfg)
    runs = [_collect(cfg, s, seed) for s in cfg.strategies for seed in cfg.seeds]
    results = _results(cfg, guide, runs)
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    cfg.out.write_text(json.dumps(results, indent=2) + "\n")
    _plot(cfg, guide, runs)
    print(_table(results))
    print(f"\nresults: {cfg.out}  curves: {cfg.png}")
    return 0


# --------------------------------------------------------------------------------------------
# Training (one process per run)
# --------------------------------------------------------------------------------------------
def _run_dir(cfg: LearningBench, strategy: str, seed: int) -> Path:
    return cfg.runs_dir / f"{strategy}-s{seed}"


def _train_args(cfg: LearningBench, strategy: str, seed: int) -> list[str] | None:
    """``launch.py`` arguments for one run, or None when it already has ``--steps``."""
    run_dir = _run_dir(cfg, strategy, seed)
    args = [
        "train",
        "--run-dir",
        str(run_dir),
        "--guide",
        cfg.guide,
        "--strategy",
        strategy,
        "--seed",
        str(seed),
        "--steps",
        str(cfg.steps),
        "--eval-every",
        str(cfg.eval_every),
        "--eval-episodes",
        str(cfg.eval_episodes),
        "--guide-episodes",
        str(cfg.guide_episodes),
        "--no-progress",
        "--learner.torch-threads",
        "1",
        *shlex.split(cfg.train_args),
    ]
    if not (run_dir / "config.json").exists():
        return args
    done = _steps_done(run_dir)
    if done is None:  # stopped before its first checkpoint: keep it aside, start over
        aside = run_dir.with_name(f"{run_dir.name}.stale-{int(time.time())}")
        run_dir.rename(aside)
        print(f"{run_dir} had no checkpoint; moved to {aside}")
        return args
    return None if done >= cfg.steps else [*args, "--resume"]


def _steps_done(run_dir: Path) -> int | None:
    """Env steps of the run's newest checkpoint (None: it has none)."""
    ckpts = sorted((run_dir / "checkpoints").glob("step_*.pt"))
    return int(ckpts[-1].stem.split("_")[1]) if ckpts else None


def _train_all(cfg: LearningBench) -> None:
    jobs = [
        TrainJob(f"{s}-s{seed}", args, cfg.runs_dir / f"{s}-s{seed}.log")
        for s in cfg.strategies
        for seed in cfg.seeds
        if (args := _train_args(cfg, s, seed)) is not None
    ]
    if failed := run_jobs(jobs, cfg.workers):
        print(f"failed runs (see their .log in {cfg.runs_dir}): {', '.join(failed)}")


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
def _guide_alone(cfg: LearningBench) -> dict[str, Any]:
    """The guide alone on the evaluation seeds (cached in the runs dir)."""
    cache = (
        cfg.runs_dir / f"guide-alone-{cfg.guide.replace(':', '_')}-{cfg.guide_eval_episodes}.json"
    )
    if cache.exists():
        return json.loads(cache.read_text())
    import sim
    from guides.registry import make_guide
    from learner.evaluate import evaluate

    env = sim.make_door()
    summary, _ = evaluate(
        env,
        None,
        make_guide(cfg.guide, env, seed=0),
        episodes=cfg.guide_eval_episodes,
        horizon=sim.EPISODE_STEPS,
        progress=True,
        desc="guide alone",
    )
    out = {"guide": cfg.guide, **summary.as_dict()}
    cache.write_text(json.dumps(out, indent=2))
    return out


def _collect(cfg: LearningBench, strategy: str, seed: int) -> dict[str, Any]:
    run_dir = _run_dir(cfg, strategy, seed)
    evals = _read_csv(run_dir / "metrics" / "evals.csv")
    episodes = _read_csv(run_dir / "metrics" / "episodes.csv")
    curve = [
        {
            "env_steps": int(r["env_steps"]),
            "success_rate": float(r["success_rate"]),
            "normalized_score": float(r["normalized_score"]),
            "updates": int(r["updates"]),
        }
        for r in evals
    ]
    return {
        "strategy": strategy,
        "seed": seed,
        "run_dir": str(run_dir),
        "env_steps": int(episodes[-1]["env_steps"]) if episodes else 0,
        "final_h": int(episodes[-1]["h"]) if episodes else None,
        "final_stage": int(episodes[-1]["stage"]) if episodes else None,
        "wall_s": float(episodes[-1]["wall_s"]) if episodes else 0.0,
        "evals": curve,
    }


def _at(curve: list[dict[str, Any]], step: int, key: str) -> float | None:
    """The last evaluation at or before ``step`` (None if the run has not got there)."""
    if not curve or curve[-1]["env_steps"] < step:
        return None
    before = [c for c in curve if c["env_steps"] <= step]
    return before[-1][key] if before else None


def _report_points(cfg: LearningBench) -> list[int]:
    points = sorted(
        {p for p in (cfg.steps // 4, cfg.steps // 2, cfg.steps, TARGET_STEPS) if 0 < p <= cfg.steps}
    )
    return points


def _results(cfg: LearningBench, guide: dict[str, Any], runs: list[dict[str, Any]]) -> dict:
    summary: dict[str, Any] = {}
    for strategy in cfg.strategies:
        mine = [r for r in runs if r["strategy"] == strategy]
        per_point = {}
        for p in _report_points(cfg):
            succ = [v for r in mine if (v := _at(r["evals"], p, "success_rate")) is not None]
            score = [v for r in mine if (v := _at(r["evals"], p, "normalized_score")) is not None]
            per_point[str(p)] = {
                "runs": len(succ),
                "success_mean": float(np.mean(succ)) if succ else None,
                "success_min": float(np.min(succ)) if succ else None,
                "score_mean": float(np.mean(score)) if score else None,
            }
        summary[strategy] = per_point
    goal = str(TARGET_STEPS)
    met = {
        s: (p.get(goal, {}).get("success_mean") or 0) >= TARGET_SUCCESS
        and (p.get(goal, {}).get("score_mean") or 0) >= TARGET_SCORE
        for s, p in summary.items()
    }
    return {
        "benchmark": "learning",
        "command": "python -m bench.learning " + shlex.join(sys.argv[1:]),
        "config": json.loads(json.dumps(asdict(cfg), default=str)),
        "machine": {"cpus": os.cpu_count()},
        "target": {
            "success_rate": TARGET_SUCCESS,
            "normalized_score": TARGET_SCORE,
            "by_env_steps": TARGET_STEPS,
        },
        "target_met": met,
        "guide_alone": guide,
        "summary": summary,
        "runs": runs,
    }


def _table(results: dict[str, Any]) -> str:
    points = list(next(iter(results["summary"].values()), {}).keys())
    head = ["strategy"] + [f"@{int(p) / 1000:g}k succ / score" for p in points]
    rows = [head]
    for strategy, per in results["summary"].items():
        cells = [strategy]
        for p in points:
            v = per[p]
            cells.append(
                "-"
                if v["success_mean"] is None
                else f"{v['success_mean']:.0%} / {v['score_mean']:.1f} (n={v['runs']})"
            )
        rows.append(cells)
    g = results["guide_alone"]
    rows.append(
        ["guide alone"] + [f"{g['success_rate']:.0%} / {g['normalized_score']:.1f}"] * len(points)
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        "(explorer alone, h = 0, deterministic, mean over seeds; target "
        f"{TARGET_SUCCESS:.0%} / {TARGET_SCORE:.0f} by {TARGET_STEPS // 1000}k steps)"
    )
    return "\n".join(lines)


def _plot(cfg: LearningBench, guide: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    from learner.plots import draw_curves, new_figure, write_png

    fig = new_figure(1, 2, size=(13, 4.5))
    for ax, key, label, level, target, top in (
        (fig.axes[0], "success_rate", "success rate", guide["success_rate"], TARGET_SUCCESS, 1.05),
        (
            fig.axes[1],
            "normalized_score",
            "normalized score",
            guide["normalized_score"],
            TARGET_SCORE,
            105.0,
        ),
    ):
        series = {
            s: [
                (
                    np.array([c["env_steps"] for c in r["evals"]]),
                    np.array([c[key] for c in r["evals"]]),
                )
                for r in runs
                if r["strategy"] == s
            ]
            for s in cfg.strategies
        }
        draw_curves(
            ax,
            series,
            ylabel=label,
            title=f"explorer alone: {label}",
            hlines={f"guide alone ({cfg.guide})": level},
        )
        ax.axhline(target, color="green", linestyle=":", label="target")
        ax.set_ylim(-0.05 * top, top)
        ax.legend(loc="best", fontsize=8)
    write_png(fig, cfg.png)


def _read_csv(path: Path) -> list[dict[str, str]]:
    from learner.metrics import read_csv

    return read_csv(path)


if __name__ == "__main__":
    sys.exit(main(tyro.cli(LearningBench)))
