"""How a checkpoint's explorer lets go of the door, and why its failed episodes stay shut.

The door is opened by a fling: the hand pulls the handle, lets go, and the door coasts on
past 1.35 rad. For each evaluation episode (explorer alone, deterministic, the evaluation's
seeds) this records:

* the step the hand lets go (the Command's grasp falls below one half after it was closed),
  the hinge angle and rate there, the largest hinge angle reached;
* in how many of the ``COAST_STEPS`` steps after letting go (while the door coasts) the hand
  (any finger, the thumb or the palm) still touches the door or its lever (MuJoCo contacts),
  and which hand bodies do;
* with a critic in the checkpoint (the IBRL reference's chooser): its value of the action at
  the release, beside the return the episode then really got from there (discounted by
  ``SACConfig.gamma``, as the learner's returns-to-go). On a
  failed episode a value far above the return is a critic blind to the failure.

    python -m bench.release --checkpoint RUN_DIR --episodes 50

prints a table and the success and failure means, and writes ``--out`` (JSON). A Command-space
checkpoint is needed (its Command tells when the hand lets go).
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import tyro
from tqdm import tqdm

from learner.config import SACConfig
from learner.returns import returns_to_go

GRASP_CLOSED = 0.5
"""Grasp level (0 open, 1 closed) above which the hand holds, below which it has let go."""
COAST_STEPS = 15
"""Steps after letting go in which contacts count: the door coasts from ~0.8 to 1.35 rad in
about 12 (the hand may touch the door again once it is open; that is no brake)."""
DOOR_BODIES = ("frame", "door", "latch")
"""Name parts of the door's bodies (the frame, the door leaf, the latch and its lever)."""


@dataclass(frozen=True)
class ReleaseBench:
    """Trace the release of a checkpoint's explorer on the evaluation seeds."""

    checkpoint: Path
    """Checkpoint file or run directory (its newest checkpoint)."""
    episodes: int = 50
    """Evaluation episodes (seeds from the evaluation's first seed on)."""
    out: Path | None = None
    """JSON results (None: print only)."""


def door_bodies(model: mujoco.MjModel) -> set[int]:
    """Ids of the door's bodies."""
    names = (
        mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, i) or "" for i in range(model.nbody)
    )
    return {i for i, name in enumerate(names) if any(part in name for part in DOOR_BODIES)}


def hand_touching_door(model: mujoco.MjModel, data: mujoco.MjData, door: set[int]) -> set[str]:
    """Names of the bodies (of the hand) in contact with the door now."""
    out = set()
    for contact in data.contact[: data.ncon]:
        a, b = model.geom_bodyid[contact.geom1], model.geom_bodyid[contact.geom2]
        if (a in door) != (b in door):
            other = b if a in door else a
            out.add(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, other) or str(other))
    return out


def trace_episode(runner: Any, seed: int, door: set[int]) -> dict[str, Any]:
    """One explorer-alone episode through the evaluation's runner: its release and contacts."""
    from sim.door import OBS_HINGE

    env = runner.env.unwrapped
    runner.reset(seed, 0)
    hinge, grasp, touching, rewards = [], [], [], []
    values: list[float | None] = []
    policy = getattr(runner.explorer, "policy", None)
    while not runner.done:
        tr = runner.step()
        value = getattr(policy, "last_value", None)
        values.append(None if value is None else float(np.ravel(value)[0]))
        rewards.append(tr.reward)
        hinge.append(float(tr.next_obs[OBS_HINGE]))
        grasp.append(0.5 * (float(tr.command[5]) + 1.0))
        touching.append(hand_touching_door(env.model, env.data, door))
    h, g, dt = np.array(hinge), np.array(grasp), float(env.dt)
    closed = np.flatnonzero(g > GRASP_CLOSED)
    opened = np.flatnonzero(
        (g < GRASP_CLOSED) & (np.arange(len(g)) > (closed[0] if len(closed) else 0))
    )
    release = int(opened[0]) if len(closed) and len(opened) else None
    after = touching[release : release + COAST_STEPS] if release is not None else []
    return {
        "seed": seed,
        "success": runner.result().success,
        "release_step": release,
        "hinge_at_release": None if release is None else float(h[release]),
        "hinge_rate_at_release": None if not release else float(h[release] - h[release - 1]) / dt,
        "max_hinge": float(h.max()),
        "touch_steps_coasting": sum(bool(t) for t in after),
        "value_at_release": None if release is None else values[release],
        "return_at_release": None
        if release is None
        else float(returns_to_go(np.array(rewards), SACConfig.gamma)[release]),
        "touching_bodies": sorted(set().union(*after)) if after else [],
    }


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over the successful and over the failed episodes."""
    keys = ("release_step", "hinge_at_release", "hinge_rate_at_release", "max_hinge")
    keys += ("touch_steps_coasting", "value_at_release", "return_at_release")
    out: dict[str, Any] = {}
    for label, keep in (("success", True), ("failure", False)):
        group = [r for r in rows if r["success"] == keep and r["release_step"] is not None]
        out[label] = {"episodes": sum(r["success"] == keep for r in rows)}
        for key in keys:
            have = [r[key] for r in group if r.get(key) is not None]
            out[label][key] = round(statistics.fmean(have), 3) if have else None
    return out


def main(argv: list[str] | None = None) -> int:
    """Trace the episodes, print the table, write the JSON."""
    cfg = tyro.cli(ReleaseBench, args=argv, description=__doc__)
    import sim
    from episode.runner import EpisodeRunner
    from learner.checkpoint import load_explorer, resolve_checkpoint
    from learner.evaluate import EVAL_SEED, UnusedGuide
    from sim.errors import UserError

    if cfg.episodes < 1:
        print(f"error: --episodes must be >= 1, got {cfg.episodes}", file=sys.stderr)
        return 2
    try:
        path = resolve_checkpoint(cfg.checkpoint)
        env = sim.make_door()
        explorer = load_explorer(path, obs_dim=sim.OBS_DIM, act_dim=sim.ACT_DIM)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not hasattr(explorer, "command_vector"):
        print(
            f"error: {path} is a joint-space explorer: its release has no Command", file=sys.stderr
        )
        return 2
    door = door_bodies(env.unwrapped.model)
    runner = EpisodeRunner(env, UnusedGuide(), explorer, explorer_deterministic=True)
    rows = [
        trace_episode(runner, EVAL_SEED + k, door)
        for k in tqdm(range(cfg.episodes), desc="episodes", leave=False)
    ]
    print(
        f"seed   ok  release  hinge  rate  max    Q  return  touching in {COAST_STEPS} steps "
        "after (bodies)"
    )
    for r in rows:
        rel = "-" if r["release_step"] is None else r["release_step"]
        at = "-" if r["hinge_at_release"] is None else f"{r['hinge_at_release']:.2f}"
        rate = "-" if r["hinge_rate_at_release"] is None else f"{r['hinge_rate_at_release']:.1f}"
        bodies = ", ".join(r["touching_bodies"])
        q, ret = r.get("value_at_release"), r.get("return_at_release")
        q_s = "-" if q is None else f"{q:.0f}"
        ret_s = "-" if ret is None else f"{ret:.0f}"
        print(
            f"{r['seed']}  {int(r['success'])}  {rel!s:>7}  {at:>5}  {rate:>4}  "
            f"{r['max_hinge']:.2f}  {q_s:>4}  {ret_s:>6}  {r['touch_steps_coasting']}: {bodies}"
        )
    summary = summarize(rows)
    print(json.dumps(summary, indent=1))
    if cfg.out is not None:
        result = {"benchmark": "release", "config": asdict(cfg) | {"checkpoint": str(path)}}
        cfg.out.write_text(
            json.dumps(result | {"summary": summary, "episodes": rows}, indent=1, default=str)
        )
        print(f"results: {cfg.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
