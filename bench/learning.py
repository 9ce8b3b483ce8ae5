"""Learning benchmark: JSRL-Curriculum vs JSRL-Random vs no-JSRL vs the guide alone.

Every run is ``python launch.py train`` in its own process (one torch thread each) on the
binary-reward door, for each guide (the scripted guide at medium skill, and a 28-D guide given
as a user's callable, ``bench/joint_guide.py:make``), strategy and seed. Every strategy gets the
same guide data as offline data (``--guide-episodes``; for no-JSRL that is its only contact
with the guide, and h = 0). Each run evaluates the explorer alone (h = 0, deterministic, 50
episodes on the same fixed seeds) every ``--eval-every`` env steps; this script collects those
evaluations from the runs' ``metrics/evals.csv``, adds the guide alone on the same seeds, and
writes ``bench/results/learning.json``, a learning-curve PNG (mean and spread over seeds) and a
table with every seed.

Runs live in ``--runs-dir``; running the script again resumes unfinished runs (``--resume`` of
each) and extends finished ones when ``--steps`` grows, so a long benchmark can be done in
pieces. Ctrl-C stops every run cleanly (each saves a checkpoint) and still writes the results.

    python -m bench.learning --steps 200000 --seeds 0 1 --workers 2
    python -m bench.learning --ray-address auto     # the same sweep as Ray tasks on a cluster
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
from sim.registration import EPISODE_STEPS

ROOT = Path(__file__).resolve().parents[1]
TARGET_SUCCESS = 0.95
"""Goal: explorer-alone success rate by ``TARGET_SUCCESS_STEPS`` (JSRL-Curriculum), h at 0."""
TARGET_SUCCESS_STEPS = 50_000
"""Env steps by which the success goal should be met."""
TARGET_SCORE = 60.0
"""Goal: explorer-alone normalized score by ``TARGET_SCORE_STEPS`` (the expert guide: 54)."""
TARGET_SCORE_STEPS = 100_000
"""Env steps by which the score goal should be met."""
REPORT_POINTS = (10_000, 25_000, 50_000, 100_000)
"""Env steps at which the table reports the explorer alone."""
JOINT_GUIDE = "bench/joint_guide.py:make"
"""A 28-D user guide (not the project's scripted guide) given as ``FILE.py:CALLABLE``."""


@dataclass(frozen=True)
class LearningBench:
    """Train each strategy with 2+ seeds, evaluate the explorer alone, compare with the guide."""

    strategies: tuple[str, ...] = ("curriculum", "random", "none")
    """Strategies to train (curriculum, random, none)."""
    seeds: tuple[int, ...] = (0, 1, 2)
    """Seeds per strategy and guide."""
    steps: int = TARGET_SCORE_STEPS
    """Env steps per run."""
    eval_every: int = 5_000
    """Evaluate the explorer alone every this many env steps."""
    eval_episodes: int = 50
    """Episodes per evaluation (fixed seeds, the same for every run)."""
    guides: tuple[str, ...] = ("scripted:0.5", JOINT_GUIDE)
    """The guides: the scripted one at medium skill (it opens the door in about 30-60 % of
    episodes) and a 28-D user callable."""
    guide_episodes: int = 20
    """Guide-only episodes per run (H1, and the offline data of every strategy)."""
    guide_eval_episodes: int = 50
    """Episodes of the guide alone (on the evaluation seeds) for the baseline row."""
    workers: int = 2
    """Runs trained at the same time (one process and one torch thread each)."""
    ray: bool = False
    """Run the runs as Ray tasks (``bench/ray_jobs.py``) on a local cluster of ``workers``
    CPUs instead of ``bench/parallel.py``'s processes (``pip install -e .[ray]``)."""
    ray_address: str | None = None
    """Run them as Ray tasks on this running cluster (implies ``--ray``; ``workers`` ignored)."""
    runs_dir: Path = Path("runs/bench-learning")
    """Where the runs live (kept, so the benchmark can be resumed and extended)."""
    out: Path = Path("bench/results/learning.json")
    """JSON results."""
    png: Path = Path("bench/results/learning.png")
    """Learning curves (success and normalized score of the explorer alone vs env steps)."""
    train_args: str = ""
    """Extra train arguments for every run, one string: --train-args="--learner.utd-ratio 1"."""
    report_only: bool = False
    """Do not train: only collect what the runs have so far."""


def main(cfg: LearningBench) -> int:
    """Train what is missing, then report."""
    cfg.runs_dir.mkdir(parents=True, exist_ok=True)
    if not cfg.report_only:
        _train_all(cfg)
    guides = {g: _guide_alone(cfg, g) for g in cfg.guides}
    runs = [_collect(cfg, g, s, seed) for g, s, seed in _grid(cfg)]
    results = _results(cfg, guides, runs)
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    cfg.out.write_text(json.dumps(results, indent=2) + "\n")
    _plot(cfg, guides, runs)
    print(_table(results))
    print(f"\nresults: {cfg.out}  curves: {cfg.png}")
    return 0


def _grid(cfg: LearningBench) -> list[tuple[str, str, int]]:
    """Every (guide, strategy, seed), the first seed of each first (so partial runs compare)."""
    return [(g, s, seed) for seed in cfg.seeds for g in cfg.guides for s in cfg.strategies]


def _tag(guide: str) -> str:
    """A file-name tag for a guide spec: ``scripted_0.5``, ``joint_guide``."""
    return Path(guide.split(":")[0]).stem if ".py" in guide else guide.replace(":", "_")


# --------------------------------------------------------------------------------------------
# Training (one process per run)
# --------------------------------------------------------------------------------------------
def h_zero_at(episodes: list[dict[str, str]]) -> int | None:
    """Env steps of the episode from which ``h`` stays 0 (None: a later episode had h > 0).

    An explorer-alone episode (``--curriculum.alone-every``) in mid-curriculum has h = 0 too;
    ``h`` has reached 0 only when no guide step follows.
    """
    last_guided = max((i for i, e in enumerate(episodes) if int(e["h"]) > 0), default=-1)
    if last_guided + 1 >= len(episodes):
        return None
    return int(episodes[last_guided + 1]["env_steps"])


def _run_dir(cfg: LearningBench, guide: str, strategy: str, seed: int) -> Path:
    return cfg.runs_dir / f"{_tag(guide)}-{strategy}-s{seed}"


def _train_args(cfg: LearningBench, guide: str, strategy: str, seed: int) -> list[str] | None:
    """``launch.py`` arguments for one run, or None when it already has ``--steps``."""
    run_dir = _run_dir(cfg, guide, strategy, seed)
    args = [
        "train",
        "--run-dir",
        str(run_dir),
        "--guide",
        guide,
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
        TrainJob(name, args, cfg.runs_dir / f"{name}.log")
        for g, s, seed in _grid(cfg)
        if (args := _train_args(cfg, g, s, seed)) is not None
        and (name := _run_dir(cfg, g, s, seed).name)
    ]
    if cfg.ray or cfg.ray_address:
        from bench.ray_jobs import run_jobs_on_ray

        failed = run_jobs_on_ray(jobs, cfg.workers, cfg.ray_address)
    else:
        failed = run_jobs(jobs, cfg.workers)
    if failed:
        print(f"failed runs (see their .log in {cfg.runs_dir}): {', '.join(failed)}")


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
def _guide_alone(cfg: LearningBench, guide: str) -> dict[str, Any]:
    """The guide alone on the evaluation seeds (cached in the runs dir)."""
    cache = cfg.runs_dir / f"guide-alone-{_tag(guide)}-{cfg.guide_eval_episodes}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    import sim
    from guides.registry import make_guide
    from learner.evaluate import evaluate

    env = sim.make_door()
    summary, _ = evaluate(
        env,
        None,
        make_guide(guide, env, seed=0),
        episodes=cfg.guide_eval_episodes,
        horizon=sim.EPISODE_STEPS,
        progress=True,
        desc="guide alone",
    )
    out = {"guide": guide, **summary.as_dict()}
    cache.write_text(json.dumps(out, indent=2))
    return out


def _collect(cfg: LearningBench, guide: str, strategy: str, seed: int) -> dict[str, Any]:
    run_dir = _run_dir(cfg, guide, strategy, seed)
    evals = _read_csv(run_dir / "metrics" / "evals.csv")
    episodes = _read_csv(run_dir / "metrics" / "episodes.csv")
    curve = [
        {
            "env_steps": int(r["env_steps"]),
            "success_rate": float(r["success_rate"]),
            "normalized_score": float(r["normalized_score"]),
            "updates": int(r["updates"]),
            "failed_at": r.get("failed_at") or "",  # "swing=1 open=7": where failures stopped
        }
        for r in evals
    ]
    return {
        "guide": guide,
        "strategy": strategy,
        "seed": seed,
        "run_dir": str(run_dir),
        "env_steps": int(episodes[-1]["env_steps"]) if episodes else 0,
        "final_h": int(episodes[-1]["h"]) if episodes else None,
        "h_zero_at": h_zero_at(episodes),
        "final_stage": int(episodes[-1]["stage"]) if episodes else None,
        "wall_s": float(episodes[-1]["wall_s"]) if episodes else 0.0,
        "cpu_min_per_100k": cpu_minutes_per_100k(episodes),
        "evals": curve,
    }


def cpu_minutes_per_100k(episodes: list[dict[str, str]]) -> float | None:
    """CPU minutes per 100k env steps over the episode rows that log ``cpu_s`` (None: too few).

    ``cpu_s`` counts every thread of the run's process, evaluations included: about the wall
    time of the run alone on one core. A run begun before the column was logged counts from
    its first resume on (the slope over the rows that have it).
    """
    rows = [(float(r["env_steps"]), float(r["cpu_s"])) for r in episodes if r.get("cpu_s")]
    if len(rows) < 2 or rows[-1][0] <= rows[0][0]:
        return None
    (s0, c0), (s1, c1) = rows[0], rows[-1]
    return (c1 - c0) / (s1 - s0) * 100_000 / 60


def evaluation_at(curve: list[dict[str, Any]], step: int, key: str) -> float | None:
    """The run's evaluation for ``step`` (None if the run has not got there).

    An evaluation falls due at the first episode end at or after its step: exactly on it when
    every episode has 200 steps, up to 199 steps later when some are shorter (a roll-in, a
    retry). That one is taken; a run without it gives its last evaluation before ``step``.
    """
    if not curve or curve[-1]["env_steps"] < step:
        return None
    due = [c for c in curve if step <= c["env_steps"] < step + EPISODE_STEPS]
    if due:
        return due[0][key]
    before = [c for c in curve if c["env_steps"] <= step]
    return before[-1][key] if before else None


def _results(cfg: LearningBench, guides: dict[str, Any], runs: list[dict[str, Any]]) -> dict:
    summary: dict[str, Any] = {}
    for guide in cfg.guides:
        for strategy in cfg.strategies:
            mine = [r for r in runs if r["strategy"] == strategy and r["guide"] == guide]
            summary[f"{guide} / {strategy}"] = {
                str(p): _point(mine, p) for p in REPORT_POINTS if p <= cfg.steps
            }
    return {
        "benchmark": "learning",
        "command": "python -m bench.learning " + shlex.join(sys.argv[1:]),
        "config": json.loads(json.dumps(asdict(cfg), default=str)),
        "machine": {"cpus": os.cpu_count()},
        "target": {
            "success_rate": TARGET_SUCCESS,
            "success_by_env_steps": TARGET_SUCCESS_STEPS,
            "normalized_score": TARGET_SCORE,
            "score_by_env_steps": TARGET_SCORE_STEPS,
            "h_reaches": 0,
        },
        "target_met": {
            f"{g} / curriculum": _target_met(
                [r for r in runs if r["guide"] == g and r["strategy"] == "curriculum"], cfg
            )
            for g in cfg.guides
            if "curriculum" in cfg.strategies
        },
        "guide_alone": guides,
        "summary": summary,
        "runs": runs,
    }


def _point(runs: list[dict[str, Any]], step: int) -> dict[str, Any]:
    """Per-seed success and score at ``step`` (None for a seed that has not got there)."""
    succ = [evaluation_at(r["evals"], step, "success_rate") for r in runs]
    score = [evaluation_at(r["evals"], step, "normalized_score") for r in runs]
    have = [v for v in succ if v is not None]
    return {
        "runs": len(have),
        "success_per_seed": succ,
        "score_per_seed": score,
        "success_mean": float(np.mean(have)) if have else None,
        "success_min": float(np.min(have)) if have else None,
        "score_mean": float(np.mean([v for v in score if v is not None])) if have else None,
    }


def _target_met(runs: list[dict[str, Any]], cfg: LearningBench) -> dict[str, Any]:
    """Each target, per seed: met only when every seed the benchmark names met it."""
    per_seed = {}
    for seed in cfg.seeds:
        run = next((r for r in runs if r["seed"] == seed), None)
        evals = [] if run is None else run["evals"]  # no run: no evaluation, None below
        succ = evaluation_at(evals, TARGET_SUCCESS_STEPS, "success_rate")
        score = evaluation_at(evals, TARGET_SCORE_STEPS, "normalized_score")
        per_seed[str(seed)] = {
            "success": succ,
            "h_reached_0": None if run is None else run["h_zero_at"] is not None,
            "score": score,
        }
    seeds = per_seed.values()
    return {
        "per_seed": per_seed,
        "success": all(v["success"] is not None and v["success"] >= TARGET_SUCCESS for v in seeds),
        "h_reaches_0": all(bool(v["h_reached_0"]) for v in seeds),
        "score": all(v["score"] is not None and v["score"] >= TARGET_SCORE for v in seeds),
    }


def _table(results: dict[str, Any]) -> str:
    points = list(next(iter(results["summary"].values()), {}).keys())
    head = ["guide / strategy"] + [f"@{int(p) / 1000:g}k success (seeds) / score" for p in points]
    rows = [head]
    for name, per in results["summary"].items():
        cells = [name]
        for p in points:
            v = per[p]
            seeds = " ".join("-" if x is None else f"{x:.0%}" for x in v["success_per_seed"])
            cells.append(
                "-" if v["success_mean"] is None
                else f"{v['success_mean']:.0%} ({seeds}) / {v['score_mean']:.1f}"
            )  # fmt: skip
        rows.append(cells)
    for g, alone in results["guide_alone"].items():
        rows.append(
            [f"{g} alone"]
            + [f"{alone['success_rate']:.0%} / {alone['normalized_score']:.1f}"] * len(points)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(
        "(explorer alone, h = 0, deterministic, mean over seeds; targets: "
        f"{TARGET_SUCCESS:.0%} by {TARGET_SUCCESS_STEPS // 1000}k with the curriculum and h at 0, "
        f"score {TARGET_SCORE:.0f} by {TARGET_SCORE_STEPS // 1000}k)"
    )
    cpu = [r for r in results["runs"] if r.get("cpu_min_per_100k") is not None]
    if cpu:
        lines.append(
            "CPU time per 100k env steps (every thread of a run, evaluations included; about one "
            "run alone on one core): "
            + ", ".join(
                f"{r['guide']} / {r['strategy']} seed {r['seed']}: {r['cpu_min_per_100k']:.0f} min"
                for r in cpu
            )
        )
    for name, met in results["target_met"].items():
        lines.append(
            f"{name}: success target {'met' if met['success'] else 'NOT met'}, h -> 0 "
            f"{'met' if met['h_reaches_0'] else 'NOT met'}, score target "
            f"{'met' if met['score'] else 'NOT met'} (per seed: {met['per_seed']})"
        )
    return "\n".join(lines)


def _plot(cfg: LearningBench, guides: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    """Success and score of the explorer alone vs env steps: one row of panels per guide."""
    from learner.plots import draw_curves, new_figure, write_png

    fig = new_figure(len(cfg.guides), 2, size=(13, 4.5 * len(cfg.guides)))
    for row, guide in enumerate(cfg.guides):
        for col, key, label, target, top in (
            (0, "success_rate", "success rate", TARGET_SUCCESS, 1.05),
            (1, "normalized_score", "normalized score", TARGET_SCORE, 105.0),
        ):
            ax = fig.axes[2 * row + col]
            series = {
                s: [
                    (
                        np.array([c["env_steps"] for c in r["evals"]]),
                        np.array([c[key] for c in r["evals"]]),
                    )
                    for r in runs
                    if r["strategy"] == s and r["guide"] == guide and r["evals"]
                ]
                for s in cfg.strategies
            }
            draw_curves(
                ax,
                series,
                ylabel=label,
                title=f"{guide}: explorer alone, {label}",
                hlines={"guide alone": guides[guide][key]},
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
