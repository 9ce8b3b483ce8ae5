"""Human effort benchmark: K keyboard demos -> imitation guide -> JSRL explorer.

How much driving does a person have to do? For each K (5, 10, 25 by default):

1. the **virtual human** (``bench.virtual_human``: real pygame key events into the real
   keyboard device and mapper, with a person's reaction delay, key-change rate and hold
   lengths) records K demonstrations to ``RUNS/demos/door-vhumanK-v0`` (``Actor.HUMAN`` steps);
2. the **imitation guide** is trained on them (``imitation:DATASET``, cached in the dataset)
   and evaluated alone on seeded episodes;
3. ``python launch.py train --guide imitation:DATASET --offline-data DATASET`` (the headless
   JSRL trainer, one process and one torch thread per run; the demos are also RLPD's offline
   data) trains an explorer for each seed; its own evaluations of the
   explorer alone (h = 0, deterministic, fixed seeds) are read from ``metrics/evals.csv`` at
   each step budget (100k and 200k by default).

The goal: K = 10 (about 2 minutes of driving at the app's pace) gives an explorer with >= 90 %
success. Results go to ``bench/results/human_effort.json``, a PNG and a printed table (with the
README table rows). Runs live in ``--runs-dir``; running again resumes unfinished runs and
extends finished ones when the budgets grow. Ctrl-C stops the runs cleanly and still reports.

    python -m bench.human_effort --ks 5 10 25 --seeds 0 1 --budgets 100000 200000 --workers 2
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tyro

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.learning import evaluation_at  # noqa: E402
from bench.parallel import TrainJob, run_jobs  # noqa: E402
from bench.virtual_human import DEMO_SEED, VirtualHumanConfig  # noqa: E402

TARGET_K = 10
"""The issue's goal: this many demos ..."""
TARGET_SUCCESS = 0.90
"""... give an explorer with at least this success rate (explorer alone, h = 0)."""


@dataclass(frozen=True)
class HumanEffortBench:
    """Virtual-human demos -> imitation guide -> JSRL explorer, for several demo counts K."""

    ks: tuple[int, ...] = (5, 10, 25)
    """Numbers of virtual-human demonstrations to try."""
    seeds: tuple[int, ...] = (0, 1)
    """Training seeds per K."""
    budgets: tuple[int, ...] = (100_000, 200_000)
    """Env-step budgets at which the explorer's success is reported (the runs train to the
    largest)."""
    strategy: str = "curriculum"
    """JSRL strategy of the runs (curriculum, random)."""
    eval_every: int = 10_000
    """The runs evaluate the explorer alone every this many env steps (budgets should be
    multiples of it)."""
    eval_episodes: int = 10
    """Episodes per explorer evaluation."""
    guide_episodes: int = 20
    """Guide-only episodes each run records first (H1 and offline data)."""
    guide_eval_episodes: int = 20
    """Episodes of the imitation guide's own evaluation."""
    demo_seed: int = DEMO_SEED
    """Seed of the first demonstration (the demos of K and K' > K share their first K)."""
    human: VirtualHumanConfig = field(default_factory=VirtualHumanConfig)
    """The virtual person: reaction delay, key-change rate, hold length, keyboard rates."""
    workers: int = 2
    """Runs trained at the same time (one process and one torch thread each)."""
    runs_dir: Path = Path("runs/bench-human-effort")
    """Where the demos and runs live (kept, so the benchmark can be resumed and extended)."""
    out: Path = Path("bench/results/human_effort.json")
    """JSON results."""
    png: Path = Path("bench/results/human_effort.png")
    """Plot: imitation-guide and explorer success against K."""
    train_args: str = ""
    """Extra train arguments for every run, one string: --train-args="--sac.hidden 64"."""
    report_only: bool = False
    """Do not record or train: only report what exists."""


def main(cfg: HumanEffortBench) -> int:
    """Record, train what is missing, then report."""
    cfg.runs_dir.mkdir(parents=True, exist_ok=True)
    demos = {k: _demos(cfg, k) for k in cfg.ks}
    guides = {k: _imitation(cfg, k) for k in cfg.ks}
    if not cfg.report_only:
        _train_all(cfg)
    runs = [_collect(cfg, k, s) for k in cfg.ks for s in cfg.seeds]
    results = _results(cfg, demos, guides, runs)
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    cfg.out.write_text(json.dumps(results, indent=2) + "\n")
    _plot(cfg, results)
    print(_table(results))
    print(f"\nwrote {cfg.out} and {cfg.png}")
    return 0


# -- 1. demos --------------------------------------------------------------------------------


def _dataset(cfg: HumanEffortBench, k: int) -> Path:
    return (cfg.runs_dir / "demos" / f"door-vhuman{k}-v0").resolve()


def _demos(cfg: HumanEffortBench, k: int) -> dict[str, Any]:
    from bench.virtual_human import record_virtual_human_demos
    from recordings.reader import summarize

    dataset = _dataset(cfg, k)
    if not (dataset / "data").is_dir():
        if cfg.report_only:
            return {"episodes": 0}
        t0 = time.perf_counter()
        record_virtual_human_demos(dataset, k, cfg.demo_seed, config=cfg.human, progress=True)
        print(f"K={k}: recorded {k} virtual-human demos in {time.perf_counter() - t0:.1f} s")
    summary = summarize(dataset)
    if summary.episodes != k:
        raise SystemExit(f"{dataset} holds {summary.episodes} episodes, expected {k}: delete it")
    return {
        "dataset": str(dataset),
        "episodes": summary.episodes,
        "successes": summary.successes,
        "success_rate": summary.success_rate,
        "steps": summary.steps,
        "driving_minutes": summary.steps * cfg.human.step_seconds / 60.0,
    }


# -- 2. imitation guide ----------------------------------------------------------------------


def _imitation(cfg: HumanEffortBench, k: int) -> dict[str, Any]:
    from episode.guide import GuideError
    from guides.imitation import ImitationConfig, describe, load_imitation_guide

    dataset = _dataset(cfg, k)
    if not (dataset / "data").is_dir():
        return {}
    try:
        guide = load_imitation_guide(
            dataset, ImitationConfig(eval_episodes=cfg.guide_eval_episodes), progress=True
        )
    except GuideError as e:
        print(f"K={k}: {e}")
        return {"error": str(e)}
    print(f"K={k}: {describe(guide)}")
    ev = guide.evaluation
    return {
        "samples": guide.info.samples,
        "episodes_used": guide.info.episodes,
        "train_seconds": guide.info.train_seconds,
        "success_rate": None if ev is None else ev.success_rate,
        "eval_episodes": None if ev is None else ev.episodes,
        "notes": list(guide.info.notes),
    }


# -- 3. JSRL runs ------------------------------------------------------------------------------


def _run_dir(cfg: HumanEffortBench, k: int, seed: int) -> Path:
    return cfg.runs_dir / f"k{k}-seed{seed}"


def _train_args(cfg: HumanEffortBench, k: int, seed: int) -> list[str] | None:
    """The run's train arguments, or None when it already reached the largest budget."""
    run_dir = _run_dir(cfg, k, seed)
    steps = max(cfg.budgets)
    done = _steps_done(run_dir)
    if done is not None and done >= steps:
        return None
    args = [
        "train",
        "--run-dir", str(run_dir),
        "--guide", f"imitation:{_dataset(cfg, k)}",
        "--offline-data", str(_dataset(cfg, k)),  # the human demos are RLPD's prior data too
        "--steps", str(steps),
        "--seed", str(seed),
        "--strategy", cfg.strategy,
        "--eval-every", str(cfg.eval_every),
        "--eval-episodes", str(cfg.eval_episodes),
        "--guide-episodes", str(cfg.guide_episodes),
        "--no-progress",
        *shlex.split(cfg.train_args),
    ]  # fmt: skip
    if done is not None:
        args.append("--resume")
    return args


def _steps_done(run_dir: Path) -> int | None:
    """Env steps of the run's newest checkpoint (None: no checkpoint yet)."""
    ckpts = sorted((run_dir / "checkpoints").glob("step_*.pt"))
    return int(ckpts[-1].stem.split("_")[1]) if ckpts else None


def _train_all(cfg: HumanEffortBench) -> None:
    """Train every (K, seed) run that is short of the largest budget, ``workers`` at a time."""
    jobs = [
        TrainJob(f"K={k} seed={s}", args, cfg.runs_dir / f"k{k}-seed{s}.log")
        for k in cfg.ks
        for s in cfg.seeds
        if (args := _train_args(cfg, k, s)) is not None
    ]
    if failed := run_jobs(jobs, cfg.workers):
        print(f"failed runs (see their .log in {cfg.runs_dir}): {', '.join(failed)}")


def _collect(cfg: HumanEffortBench, k: int, seed: int) -> dict[str, Any]:
    """The run's explorer evaluations, and its success at each budget."""
    rows = _read_csv(_run_dir(cfg, k, seed) / "metrics" / "evals.csv")
    curve = [
        {"env_steps": int(float(r["env_steps"])), "success_rate": float(r["success_rate"])}
        for r in rows
    ]
    at = {str(b): evaluation_at(curve, b, "success_rate") for b in cfg.budgets}
    return {"k": k, "seed": seed, "curve": curve, "success_at": at}


def _read_csv(path: Path) -> list[dict[str, str]]:
    import csv

    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


# -- report ------------------------------------------------------------------------------------


def _results(
    cfg: HumanEffortBench,
    demos: dict[int, dict[str, Any]],
    guides: dict[int, dict[str, Any]],
    runs: list[dict[str, Any]],
) -> dict[str, Any]:
    per_k = []
    for k in cfg.ks:
        mine = [r for r in runs if r["k"] == k]
        explorer = {}
        for b in cfg.budgets:
            values = [r["success_at"][str(b)] for r in mine if r["success_at"][str(b)] is not None]
            explorer[str(b)] = {
                "mean": float(np.mean(values)) if values else None,
                "min": float(np.min(values)) if values else None,
                "seeds": len(values),
            }
        per_k.append({"k": k, "demos": demos[k], "imitation": guides[k], "explorer": explorer})
    target = next((p for p in per_k if p["k"] == TARGET_K), None)
    last = str(max(cfg.budgets))
    met = None
    if target is not None and target["explorer"][last]["mean"] is not None:
        met = target["explorer"][last]["mean"] >= TARGET_SUCCESS
    return {
        "benchmark": "human_effort",
        "config": json.loads(json.dumps(asdict(cfg), default=str)),
        "goal": {"k": TARGET_K, "success": TARGET_SUCCESS, "budget": int(last), "met": met},
        "per_k": per_k,
        "runs": runs,
        "command": "python -m bench.human_effort " + shlex.join(sys.argv[1:]),
    }


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f} %"


def _table(results: dict[str, Any]) -> str:
    budgets = [int(b) for b in results["config"]["budgets"]]
    head = ["K", "driving", "demos open", "imitation guide"] + [
        f"explorer @{b // 1000}k" for b in budgets
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for p in results["per_k"]:
        d, g = p["demos"], p["imitation"]
        cells = [
            str(p["k"]),
            f"{d.get('driving_minutes', 0):.1f} min",
            f"{d.get('successes', 0)}/{d.get('episodes', 0)}",
            _fmt(g.get("success_rate")),
        ]
        for b in budgets:
            e = p["explorer"][str(b)]
            cells.append(f"{_fmt(e['mean'])} ({e['seeds']} seeds)" if e["seeds"] else "-")
        lines.append("| " + " | ".join(cells) + " |")
    goal = results["goal"]
    lines.append(
        f"\ngoal: K = {goal['k']} -> explorer >= {_fmt(goal['success'])} at "
        f"{goal['budget'] // 1000}k steps: "
        + {True: "met", False: "NOT met", None: "not measured"}[goal["met"]]
    )
    return "\n".join(lines)


def _plot(cfg: HumanEffortBench, results: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [p["k"] for p in results["per_k"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    guide = [p["imitation"].get("success_rate") for p in results["per_k"]]
    ax.plot(ks, [np.nan if g is None else g for g in guide], "o--", label="imitation guide")
    for b in cfg.budgets:
        ys = [p["explorer"][str(b)]["mean"] for p in results["per_k"]]
        ax.plot(ks, [np.nan if y is None else y for y in ys], "o-", label=f"explorer @{b // 1000}k")
    ax.axhline(TARGET_SUCCESS, color="gray", lw=0.8, ls=":")
    ax.set_xlabel("virtual-human demonstrations K")
    ax.set_ylabel("success rate (alone, h = 0)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(ks)
    ax.legend(loc="lower right")
    ax.set_title("human effort -> imitation guide -> JSRL explorer")
    fig.tight_layout()
    cfg.png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(cfg.png, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main(tyro.cli(HumanEffortBench)))
