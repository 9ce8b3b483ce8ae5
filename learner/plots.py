"""PNG plots of a run (matplotlib's Agg canvas: no display, no pyplot global state).

Fixed margins rather than a layout engine: a plot set takes ~0.3 s, so runs can refresh them.

:func:`plot_run` reads ``DIR/metrics/*.csv`` and writes ``DIR/plots/``: ``success.png`` and
``score.png`` (training episodes and explorer-alone evaluations vs env steps), ``horizon.png``
(the guide horizon ``h`` and the curriculum stage vs env steps: the shrinking horizon) and
``losses.png`` (the learner's losses, temperature and Q values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from learner.atomic import atomic_write
from learner.metrics import column, read_csv

SMOOTH_EPISODES = 20
"""Training curves are moving averages over this many episodes."""


def plot_run(run_dir: Path) -> list[Path]:
    """Write the run's PNG plots from its metrics CSVs; return the files written."""
    run_dir = Path(run_dir)
    episodes = read_csv(run_dir / "metrics" / "episodes.csv")
    evals = read_csv(run_dir / "metrics" / "evals.csv")
    out = run_dir / "plots"
    out.mkdir(parents=True, exist_ok=True)
    written = [
        _save(_rate_figure(episodes, evals, "success", "success_rate", "success rate"), out),
        _save(_rate_figure(episodes, evals, "normalized_score", "normalized_score", "score"), out),
        _save(_horizon_figure(episodes), out),
        _save(_losses_figure(episodes), out),
    ]
    return written


def plot_curves(
    series: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]],
    path: Path,
    *,
    ylabel: str,
    title: str,
    hlines: Mapping[str, float] | None = None,
) -> Path:
    """Learning curves: per label, the mean over runs with a min-max band; optional levels.

    Args:
        series: label -> one ``(env_steps, values)`` pair per run (seed).
        path: PNG file to write.
        ylabel: Y axis label.
        title: Figure title.
        hlines: label -> constant level drawn dashed (e.g. the guide alone).

    """
    fig, ax = _figure()
    draw_curves(ax, series, ylabel=ylabel, title=title, hlines=hlines)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write(fig, path)


def draw_curves(
    ax: Axes,
    series: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]],
    *,
    ylabel: str,
    title: str,
    hlines: Mapping[str, float] | None = None,
) -> None:
    """Draw :func:`plot_curves`' content on an existing axes (for multi-panel figures)."""
    for label, runs in series.items():
        runs = [(np.asarray(x, float), np.asarray(y, float)) for x, y in runs if len(x)]
        if not runs:
            continue
        grid = np.unique(np.concatenate([x for x, _ in runs]))
        ys = np.array([np.interp(grid, x, y, right=np.nan) for x, y in runs])
        mean = np.nanmean(ys, axis=0)
        (line,) = ax.plot(grid, mean, label=f"{label} ({len(runs)} runs)")
        if len(runs) > 1:
            lo, hi = np.nanmin(ys, axis=0), np.nanmax(ys, axis=0)
            ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.2)
    for label, level in (hlines or {}).items():
        ax.axhline(level, linestyle="--", color="gray", label=label)
    ax.set(xlabel="env steps", ylabel=ylabel, title=title)
    _finish(ax)


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over up to ``window`` values (the first points average fewer)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return values
    c = np.cumsum(np.insert(values, 0, 0.0))
    n = np.minimum(np.arange(1, values.size + 1), window)
    return (c[1:] - c[np.arange(1, values.size + 1) - n]) / n


def _rate_figure(
    episodes: list[dict[str, str]], evals: list[dict[str, str]], key: str, eval_key: str, what: str
) -> tuple[str, Figure]:
    fig, ax = _figure()
    if episodes:
        x = column(episodes, "env_steps")
        y = moving_average(column(episodes, key), SMOOTH_EPISODES)
        ax.plot(x, y, label=f"training episodes (guide + explorer, {SMOOTH_EPISODES}-ep avg)")
    if evals:
        ax.plot(
            column(evals, "env_steps"),
            column(evals, eval_key),
            marker="o",
            label="evaluation: explorer alone (h = 0, deterministic)",
        )
    ax.set(xlabel="env steps", ylabel=what, title=f"{what} vs env steps")
    if key == "success":
        ax.set_ylim(-0.05, 1.05)
    else:
        ax.set_ylim(-5, 105)
    _finish(ax)
    return ("success" if key == "success" else "score"), fig


def _horizon_figure(episodes: list[dict[str, str]]) -> tuple[str, Figure]:
    fig, ax = _figure()
    if episodes:
        x = column(episodes, "env_steps")
        ax.step(x, column(episodes, "h"), where="post", label="guide horizon h")
        stage_ax = ax.twinx()
        stage_ax.step(x, column(episodes, "stage"), where="post", color="tab:orange", alpha=0.6)
        stage_ax.set_ylabel("curriculum stage", color="tab:orange")
        stage_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0, top=max(1.0, float(np.nanmax(column(episodes, "h")))) * 1.05)
    ax.set(xlabel="env steps", ylabel="h (guide steps)", title="guide horizon vs env steps")
    _finish(ax)
    return "horizon", fig


def _losses_figure(episodes: list[dict[str, str]]) -> tuple[str, Figure]:
    fig = Figure(figsize=(10, 6))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.08, right=0.97, bottom=0.09, top=0.9, hspace=0.45, wspace=0.25)
    keys = ("critic_loss", "actor_loss", "alpha", "q_mean")
    for i, key in enumerate(keys):
        ax = fig.add_subplot(2, 2, i + 1)
        if episodes:
            y = column(episodes, key)
            ok = np.isfinite(y)
            ax.plot(column(episodes, "env_steps")[ok], y[ok])
        ax.set(xlabel="env steps", title=key)
        ax.grid(alpha=0.3)
    fig.suptitle("learner")
    return "losses", fig


def _figure() -> tuple[Figure, Axes]:
    fig = Figure(figsize=(8, 4.5))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.1, right=0.9, bottom=0.12, top=0.9)
    return fig, fig.add_subplot(1, 1, 1)


def _finish(ax: Axes) -> None:
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8)


def _save(named: tuple[str, Figure], out: Path) -> Path:
    name, fig = named
    return _write(fig, out / f"{name}.png")


def new_figure(rows: int = 1, cols: int = 1, size: tuple[float, float] = (8, 4.5)) -> Figure:
    """An Agg-backed figure (no pyplot) with ``rows`` x ``cols`` axes added."""
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.07, right=0.97, bottom=0.12, top=0.9, wspace=0.2)
    for i in range(rows * cols):
        fig.add_subplot(rows, cols, i + 1)
    return fig


def write_png(fig: Figure, path: Path) -> Path:
    """Write ``fig`` to ``path`` atomically (creating the directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write(fig, path)


def _write(fig: Figure, path: Path) -> Path:
    """Write atomically, so a viewer never sees half a PNG."""
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
