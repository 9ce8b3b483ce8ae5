"""Gradient updates per second: our SAC learner against stable-baselines3's SAC, same run.

Both learners get the same problem: obs 39-D, action 28-D (the door's), two hidden layers of
256, batch 256, one critic update + one actor update + one alpha update + one Polyak step per
gradient update, sampling from a replay buffer of random transitions included. SB3 is timed
through ``model.train(gradient_steps=N, batch_size=256)``; ours through ``sample_mixed`` (half
offline, half online, as the learner thread does) + ``SACAgent.update``.

The rounds interleave the learners so that load from other processes hits them alike; the
reported ratio is the median over rounds of (ours / SB3) measured back to back.

Run: ``python bench/learner_speed.py [--threads 2] [--rounds 7] [--updates 200]``
Writes ``bench/results/learner_speed.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from learner.explorer import Explorer
from learner.replay import ReplayBuffer, sample_mixed
from learner.sac import SACAgent, SACConfig, bf16_matmul_supported

OBS_DIM, ACT_DIM, HIDDEN, BATCH = 39, 28, 256, 256
RESULTS = Path(__file__).resolve().parent / "results" / "learner_speed.json"


class BoxEnv(gym.Env):
    """A do-nothing env with the door's spaces, only so that SB3 can build its SAC."""

    observation_space = gym.spaces.Box(-10.0, 10.0, (OBS_DIM,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (ACT_DIM,), np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple:
        """Return a zero observation."""
        super().reset(seed=seed)
        return np.zeros(OBS_DIM, np.float32), {}

    def step(self, action: np.ndarray) -> tuple:
        """Return a zero observation, no reward, never done."""
        return np.zeros(OBS_DIM, np.float32), 0.0, False, False, {}


def random_transitions(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random transitions (sparse -1/0 rewards, a few terminations), like the door's."""
    return {
        "obs": rng.standard_normal((n, OBS_DIM)).astype(np.float32),
        "actions": rng.uniform(-1, 1, (n, ACT_DIM)).astype(np.float32),
        "rewards": (rng.random(n) < 0.05).astype(np.float32) - 1.0,
        "next_obs": rng.standard_normal((n, OBS_DIM)).astype(np.float32),
        "terminations": rng.random(n) < 0.01,
    }


def make_sb3(data: dict[str, np.ndarray]) -> Callable[[int], None]:
    """Build SB3's SAC with a filled replay buffer; return ``steps -> model.train(steps)``."""
    from stable_baselines3 import SAC
    from stable_baselines3.common.logger import configure

    n = len(data["obs"])
    model = SAC(
        "MlpPolicy",
        BoxEnv(),
        policy_kwargs={"net_arch": [HIDDEN, HIDDEN]},
        batch_size=BATCH,
        buffer_size=n,
        learning_starts=0,
        device="cpu",
        verbose=0,
        seed=0,
    )
    model.set_logger(configure(folder=None, format_strings=[]))
    rb = model.replay_buffer
    rb.observations[:n, 0] = data["obs"]
    rb.next_observations[:n, 0] = data["next_obs"]
    rb.actions[:n, 0] = data["actions"]
    rb.rewards[:n, 0] = data["rewards"]
    rb.dones[:n, 0] = data["terminations"]
    rb.pos, rb.full = 0, True

    def run(steps: int) -> None:
        model.train(gradient_steps=steps, batch_size=BATCH)

    return run


def make_ours(data: dict[str, np.ndarray], config: SACConfig) -> Callable[[int], None]:
    """Build our agent with half the data offline, half online; return ``steps -> updates``."""
    n = len(data["obs"])
    online, offline = ReplayBuffer(n, OBS_DIM, ACT_DIM), ReplayBuffer(n, OBS_DIM, ACT_DIM)
    half = n // 2
    offline.add_arrays(*(v[:half] for v in data.values()))
    online.add_arrays(*(v[half:] for v in data.values()))
    agent = SACAgent(OBS_DIM, ACT_DIM, config, seed=0)
    rng = np.random.default_rng(0)

    def run(steps: int) -> None:
        for _ in range(steps):
            agent.update(sample_mixed(online, offline, config.batch_size, rng))

    return run


def act_microseconds(n: int = 3000) -> dict[str, float]:
    """Median-of-5 microseconds per single-observation action: our numpy explorer vs torch."""
    explorer = Explorer(OBS_DIM, ACT_DIM, SACConfig(), seed=0)
    obs = np.random.default_rng(0).standard_normal(OBS_DIM)

    def torch_act(o: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            mean, log_std = explorer.actor(torch.as_tensor(o, dtype=torch.float32))
            return torch.tanh(mean + log_std.exp() * torch.randn_like(mean)).numpy()

    variants = {
        "explorer.act (numpy)": explorer.act,
        "explorer.act deterministic": lambda o: explorer.act(o, deterministic=True),
        "torch inference_mode, same actor": torch_act,
    }
    out = {}
    for name, act in variants.items():
        for _ in range(200):
            act(obs)
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                act(obs)
            runs.append((time.perf_counter() - t0) / n * 1e6)
        out[name] = statistics.median(runs)
    return out


@dataclass
class Row:
    """One learner's figures."""

    name: str
    median_updates_per_s: float
    best_updates_per_s: float
    ratio_vs_sb3: float | None


def timed(run: Callable[[int], None], steps: int) -> float:
    """Updates per second of ``run(steps)``."""
    t0 = time.perf_counter()
    run(steps)
    return steps / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (all)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds")
    parser.add_argument("--updates", type=int, default=200, help="gradient updates per round")
    parser.add_argument("--buffer", type=int, default=50_000, help="transitions in the buffers")
    parser.add_argument(
        "--ensemble",
        action="store_true",
        help="also time RLPD's 10-critic ensemble (target min of 2)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON output (default: bench/results/learner_speed.json, or "
        "learner_speed_threadsN.json when --threads is not 2)",
    )
    args = parser.parse_args()
    if args.out is None:
        name = (
            "learner_speed.json"
            if args.threads == 2
            else f"learner_speed_threads{args.threads}.json"
        )
        args.out = RESULTS.parent / name

    torch.set_num_threads(args.threads)
    data = random_transitions(args.buffer, np.random.default_rng(0))
    learners: dict[str, Callable[[int], None]] = {
        "sb3 SAC (no LayerNorm)": make_sb3(data),
        "ours, LayerNorm critics (default)": make_ours(data, SACConfig()),
        "ours, no LayerNorm (SB3's nets)": make_ours(data, SACConfig(layer_norm=False)),
    }
    if bf16_matmul_supported():
        learners["ours, LayerNorm, bf16 matmuls (opt-in)"] = make_ours(
            data, SACConfig(bf16_matmul=True)
        )
    if args.ensemble:
        learners["ours, 10 critics, target 2 (RLPD)"] = make_ours(
            data, SACConfig(n_critics=10, target_critics=2, actor_q="mean")
        )
    for run in learners.values():  # warm-up: allocator, oneDNN primitives, SB3's first train
        timed(run, 30)

    rates: dict[str, list[float]] = {name: [] for name in learners}
    for _ in range(args.rounds):
        for name, run in learners.items():
            rates[name].append(timed(run, args.updates))

    sb3 = rates["sb3 SAC (no LayerNorm)"]
    rows = []
    for name, r in rates.items():
        ratio = (
            None
            if name.startswith("sb3")
            else statistics.median(a / b for a, b in zip(r, sb3, strict=True))
        )
        rows.append(Row(name, statistics.median(r), max(r), ratio))

    act_us = act_microseconds()
    result = {
        "benchmark": "learner_speed",
        "command": "python bench/learner_speed.py "
        + " ".join(
            f"--{k} {v}"
            for k, v in (
                ("threads", args.threads),
                ("rounds", args.rounds),
                ("updates", args.updates),
            )
        ),
        "torch_threads": args.threads,
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "load_avg_1min": os.getloadavg()[0],
        "dims": {"obs": OBS_DIM, "act": ACT_DIM, "hidden": HIDDEN, "batch": BATCH},
        "rounds": args.rounds,
        "updates_per_round": args.updates,
        "rows": [asdict(r) for r in rows],
        "per_round_updates_per_s": rates,
        "ratio_default_vs_sb3": rows[1].ratio_vs_sb3,
        "target_ratio": 1.5,
        "act_microseconds": act_us,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(args.out)

    print(
        f"learner updates/s, batch {BATCH}, {HIDDEN}x{HIDDEN}, obs {OBS_DIM} / act {ACT_DIM}, "
        f"torch threads {args.threads}, {args.rounds} rounds x {args.updates} updates"
    )
    print(f"{'learner':38s} {'median/s':>9s} {'best/s':>8s} {'x SB3':>6s}")
    for r in rows:
        ratio = "" if r.ratio_vs_sb3 is None else f"{r.ratio_vs_sb3:.2f}"
        print(f"{r.name:38s} {r.median_updates_per_s:9.1f} {r.best_updates_per_s:8.1f} {ratio:>6s}")
    print(f"\n{'explorer act(), one observation':38s} {'us/act':>9s}")
    for name, us in act_us.items():
        print(f"{name:38s} {us:9.1f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
