"""How well the Command labels of 28-D steps reproduce a guide (``CommandLabeler``).

A Command-space explorer learns from 28-D guides (a user's callable, a saved joint-space
policy) through labels: the Command that best explains each step. Two measures, on seeded
episodes of a guide:

* **label error**: for the scripted guide, which issues Commands, the mean absolute error of
  the label against the Command it really issued, per entry (units of the [-1, 1] vector);
* **replay**: each episode's labels played back open-loop through the mapper from the same
  seed (MuJoCo is deterministic): the share of the guide's successful episodes that succeed
  again, and the mean hinge-angle gap at the end. Perfect labels reproduce every episode.

    python -m bench.command_labels --episodes 50

writes ``bench/results/command_labels.json`` and prints a table.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tyro
from tqdm import tqdm

NAMES = ("vx", "vy", "vz", "twist", "wrist", "grasp")
"""The Command vector's entries."""


@dataclass(frozen=True)
class LabelBench:
    """Label error and open-loop replay of labelled guide episodes."""

    episodes: int = 50
    """Seeded episodes per guide."""
    guides: tuple[str, ...] = ("scripted", "scripted:0.5", "bench/joint_guide.py:make")
    """Guides to label (the scripted ones also give the label error)."""
    out: Path = Path("bench/results/command_labels.json")
    """JSON results."""


def run_guide(spec: str, episodes: int) -> dict[str, Any]:
    """Label every step of ``episodes`` episodes of ``spec``; replay the labels open-loop."""
    import sim
    from episode.runner import EpisodeRunner
    from guides.registry import make_guide
    from teleop.command_space import CommandController, CommandLabeler
    from teleop.mapper import CommandMapper

    env = sim.make_door()
    guide = make_guide(spec, env, seed=0)
    labeler = CommandLabeler.for_env(env)
    controller = CommandController(CommandMapper.for_env(env))
    errors, wins, replayed, gaps = [], 0, 0, []
    for k in tqdm(range(episodes), desc=spec, leave=False):
        steps: list[Any] = []
        runner = EpisodeRunner(env, guide, None, command_labeler=None)
        runner.reset(k, sim.EPISODE_STEPS)
        previous = None
        while not runner.done:
            tr = runner.step()
            steps.append((tr, labeler(tr.obs, tr.action, tr.next_obs, previous)))
            previous = tr.action
        result = runner.result()
        if steps[0][0].command is not None:
            errors.append(np.mean([np.abs(lab - tr.command) for tr, lab in steps], axis=0))
        if not result.success:
            continue
        wins += 1
        obs, _ = env.reset(seed=k)
        controller.reset(obs)
        open_steps = 0
        for _, label in steps:
            obs, _, _, _, info = env.step(controller(label, obs))
            open_steps += int(info["success"])
        replayed += int(sim.episode_success(open_steps))
        gaps.append(float(steps[-1][0].next_obs[28] - obs[28]))
    out: dict[str, Any] = {
        "guide": spec,
        "episodes": episodes,
        "guide_successes": wins,
        "replay_successes": replayed,
        "replay_rate": replayed / wins if wins else None,
        "mean_final_hinge_gap_rad": float(np.mean(gaps)) if gaps else None,
    }
    if errors:
        out["label_mae"] = dict(zip(NAMES, np.mean(errors, axis=0).round(4).tolist(), strict=True))
    return out


def main(cfg: LabelBench) -> int:
    """Run every guide, write the JSON, print the table."""
    rows = [run_guide(g, cfg.episodes) for g in cfg.guides]
    result = {"benchmark": "command_labels", "config": asdict(cfg), "guides": rows}
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    cfg.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"{'guide':<28} {'successes':>9}  {'replayed':>8}  label MAE ({' '.join(NAMES)})")
    for r in rows:
        mae = " ".join(f"{v:.3f}" for v in r["label_mae"].values()) if "label_mae" in r else "-"
        rate = "-" if r["replay_rate"] is None else f"{r['replay_rate']:.0%}"
        wins = f"{r['guide_successes']}/{r['episodes']}"
        print(f"{r['guide']:<28} {wins:>9}  {rate:>8}  {mae}")
    print(f"\nresults: {cfg.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(tyro.cli(LabelBench)))
