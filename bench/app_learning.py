"""The app learns: ``h`` over wall time, and the explorer alone at the end.

The app itself (SDL's dummy driver unless a display is there, real MuJoCo rendering, HUD),
with the scripted guide at medium skill (``scripted:0.5``) at the default pacing and the
learner thread on, runs for ``--minutes`` of wall time. Every few seconds the guide horizon
``h`` the curriculum gives and the env steps are sampled; at the end the app shuts down as a
user's would (checkpoint, flush) and the run directory's checkpoint is evaluated alone (h = 0,
deterministic, ``--eval-episodes`` fixed seeds) with ``launch.py eval``'s own code.

    python -m bench.app_learning --minutes 20

writes ``bench/results/app_learning.json`` (and ``.png``: h over wall time) and prints a
summary. Targets: h reaches 0, and the explorer alone opens the door in >= 90 % of episodes.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tyro

TARGET_SUCCESS = 0.9
"""Explorer-alone success after the session."""


@dataclass(frozen=True)
class AppLearningBench:
    """Run the app with the learner on; sample h; evaluate the explorer alone at the end."""

    minutes: float = 20.0
    """Wall time of the app session."""
    guide: str = "scripted:0.5"
    """The guide (the app's G key choices include it)."""
    eval_episodes: int = 50
    """Explorer-alone episodes at the end."""
    sample_every_s: float = 5.0
    """How often h and the env steps are sampled."""
    seed: int = 0
    """The session's seed."""
    out: Path = Path("bench/results/app_learning.json")
    """JSON results (a PNG of h over time beside it)."""


def run_app(cfg: AppLearningBench, run_dir: Path) -> list[dict[str, float]]:
    """The app session; returns the samples of (wall s, env steps, h, stage, learner updates)."""
    from app.config import AppConfig
    from app.layout import window_size
    from app.main import App
    from app.window import configure_graphics, open_window

    app_cfg = AppConfig(guide=cfg.guide, run_dir=run_dir, seed=cfg.seed, learner=True)
    surface = open_window(window_size(app_cfg.view_size), "app_learning", configure_graphics())
    app = App(app_cfg, surface)
    app.start()
    samples: list[dict[str, float]] = []
    t0 = time.perf_counter()
    next_sample = t0
    while (now := time.perf_counter()) - t0 < 60.0 * cfg.minutes:
        app.frame()
        if now >= next_sample:
            status = app.episodes.learning.curriculum.status()
            stats = app.episodes.learning.learner_stats()
            samples.append(
                {
                    "wall_s": now - t0,
                    "env_steps": app.episodes.learning.env_steps,
                    "h": status.h,
                    "stage": status.stage,
                    "updates": 0 if stats is None else stats.updates,
                }
            )
            next_sample = now + cfg.sample_every_s
    app.run(max_frames=app.frames)  # shut down as a user's close would: checkpoint, flush
    return samples


def evaluate_run(run_dir: Path, episodes: int) -> dict[str, Any]:
    """The checkpoint's explorer alone (``launch.py eval``'s code path)."""
    import sim
    from learner.checkpoint import load_explorer
    from learner.evaluate import evaluate

    explorer = load_explorer(run_dir, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)
    summary, _ = evaluate(sim.make_door(), explorer, None, episodes=episodes)
    return summary.as_dict()


def plot(samples: list[dict[str, float]], png: Path) -> None:
    """H (and the env steps) over wall time."""
    from learner.plots import new_figure, write_png

    fig = new_figure(1, 1, size=(8, 4))
    ax = fig.axes[0]
    ax.plot([s["wall_s"] / 60 for s in samples], [s["h"] for s in samples], label="h")
    ax.set(xlabel="wall time (min)", ylabel="guide horizon h", title="the app: h over time")
    ax.legend(loc="best")
    write_png(fig, png)


def main(cfg: AppLearningBench) -> int:
    """Run the session, evaluate, write the results."""
    with tempfile.TemporaryDirectory(prefix="app_learning_") as tmp:
        run_dir = Path(tmp) / "run"
        samples = run_app(cfg, run_dir)
        alone = evaluate_run(run_dir, cfg.eval_episodes)
    h_zero = next((s for s in samples if s["h"] == 0), None)
    when = "" if h_zero is None else f" (0 after {h_zero['wall_s'] / 60:.1f} min)"
    result = {
        "benchmark": "app_learning",
        "config": json.loads(json.dumps(asdict(cfg), default=str)),
        "samples": samples,
        "h_reached_0_at_wall_s": None if h_zero is None else h_zero["wall_s"],
        "final_h": samples[-1]["h"] if samples else None,
        "env_steps": samples[-1]["env_steps"] if samples else 0,
        "explorer_alone": alone,
        "target": {"h": 0, "success_rate": TARGET_SUCCESS},
        "target_met": h_zero is not None and alone["success_rate"] >= TARGET_SUCCESS,
    }
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    cfg.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(samples, cfg.out.with_suffix(".png"))
    print(
        f"{cfg.minutes:g} min of the app ({result['env_steps']} env steps): h "
        f"{samples[0]['h'] if samples else '-'} -> {result['final_h']}"
        f"{when}; explorer "
        f"alone {alone['success_rate']:.0%} over {cfg.eval_episodes} episodes (target: h = 0 "
        f"and {TARGET_SUCCESS:.0%}: {'met' if result['target_met'] else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(tyro.cli(AppLearningBench)))
