"""A person can open the door: the virtual human at the app's default settings.

The virtual human (:mod:`bench.virtual_human`: a person's reaction time, key-change rate and
hold times, pressing real pygame keys into the real keyboard device, the assist and the
mapper) guides each episode for the default human horizon (``HUMAN_H1`` steps, the app's
``h`` for a person); after it the hand is let alone (a zero Command: it holds still). An
episode counts as a success by D4RL's rule (the door open for at least 25 of the 200 steps),
so the person must open it within ``h``.

    python -m bench.human_teleop --episodes 50

writes ``bench/results/human_teleop.json`` (``success_rate``, per-episode steps to open, keys
pressed, the person's wall time per episode at the hold-to-run pace). Target: >= 80 %.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tyro
from tqdm import tqdm

from bench.virtual_human import VirtualHuman, VirtualHumanConfig
from episode.runner import EpisodeRunner
from guides.mapping import mapper_for
from learner.session_setup import HUMAN_H1
from sim.door import EPISODE_STEPS, make_door
from teleop.command import Command

TARGET_SUCCESS = 0.8
"""Goal: success rate of the person model within the default h."""


@dataclass(frozen=True)
class HumanTeleopBench:
    """Run the virtual human at the app's defaults; count the episodes it opens the door in."""

    episodes: int = 50
    """Seeded episodes (seeds ``seed``, ``seed + 1``, ...)."""
    seed: int = 0
    """Seed of the first episode."""
    h: int = HUMAN_H1
    """Steps the person guides (the app's default h for a human guide)."""
    human: VirtualHumanConfig = field(default_factory=VirtualHumanConfig)
    """The person model (the keyboard at its default rates)."""
    out: Path = Path("bench/results/human_teleop.json")
    """JSON results."""


class StillHand:
    """After ``h`` the person lets go of the keys: a zero Command through the mapper."""

    def __init__(self, env: Any) -> None:
        self.mapper = mapper_for(env)
        self._started = False

    def take_over(self, obs: np.ndarray, previous: object) -> None:
        """Hold the pose the hand has at the handover."""
        del previous
        self.mapper.reset(obs)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The hand holds still."""
        return self.mapper(Command(), obs)


def run(cfg: HumanTeleopBench) -> dict[str, Any]:
    """The episodes and their summary."""
    env = make_door()
    person = VirtualHuman(env, cfg.human)
    runner = EpisodeRunner(env, person, StillHand(env))
    rows = []
    try:
        for i in tqdm(range(cfg.episodes), desc="virtual human", unit="ep"):
            keys_before = person.script.changes
            result = runner.run_episode(cfg.seed + i, cfg.h)
            rows.append({
                "seed": cfg.seed + i,
                "success": bool(result.success),
                "ever_opened": result.first_success_step is not None,
                "first_open_step": result.first_success_step,
                "key_changes": person.script.changes - keys_before,
            })  # fmt: skip
    finally:
        person.close()
        env.close()
    opened = [r["first_open_step"] for r in rows if r["first_open_step"] is not None]
    success = float(np.mean([r["success"] for r in rows])) if rows else float("nan")
    return {
        "benchmark": "human_teleop",
        "config": asdict(cfg) | {"out": str(cfg.out)},
        "success_rate": success,
        "ever_opened_rate": float(np.mean([r["ever_opened"] for r in rows])) if rows else None,
        "median_first_open_step": float(np.median(opened)) if opened else None,
        "key_changes_per_episode": float(np.mean([r["key_changes"] for r in rows])),
        "wall_s_per_episode": cfg.h * cfg.human.step_seconds,
        "target": {"success": TARGET_SUCCESS, "met": success >= TARGET_SUCCESS},
        "episodes": rows,
        "episode_steps": EPISODE_STEPS,
    }


def main(cfg: HumanTeleopBench) -> int:
    """Run, write the JSON, print the summary; 0 when the target is met."""
    results = run(cfg)
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    cfg.out.write_text(json.dumps(results, indent=2, default=str))
    print(
        f"virtual human, h={cfg.h}: success {results['success_rate']:.0%} of {cfg.episodes} "
        f"(ever opened {results['ever_opened_rate']:.0%}, median first open at step "
        f"{results['median_first_open_step']}), {results['key_changes_per_episode']:.0f} key "
        f"changes and {results['wall_s_per_episode']:.0f} s of driving per episode; target "
        f">= {TARGET_SUCCESS:.0%}: {'met' if results['target']['met'] else 'NOT met'}"
    )
    print(f"results: {cfg.out}")
    return 0 if results["target"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main(tyro.cli(HumanTeleopBench)))
