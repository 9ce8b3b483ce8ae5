"""Recordings into replay buffers, episode by episode, in the agent's action space.

A recording stores the 28-D env action of every step and, since Command vectors were added,
``infos/command``. A Command-space agent learns from the Command vectors: recorded ones where
the dataset has them, otherwise the Command that best explains each 28-D step
(:class:`teleop.command_space.CommandLabeler`). Whole episodes enter the buffer, so the n-step
targets and returns-to-go are those of the recorded episodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np

from episode.types import Actor, CommandLabeler
from learner.replay import DEMO_ACTORS, ReplayBuffer, add_demo_steps
from sim.door import episode_success
from teleop.command_space import PERSON, CommandScale, from_person


def agent_actions(
    episode: object,
    space: Literal["command", "joint"],
    labeler: CommandLabeler | None,
    command_scale: CommandScale = PERSON,
) -> np.ndarray:
    """An episode's actions in the agent's space: 28-D as recorded, or Command vectors.

    Command vectors (recorded or labelled, both in a person's units) come back in the agent's
    ``command_scale``, clipped to [-1, 1].

    Raises:
        ValueError: Command space, the episode has no recorded Commands and no labeler.

    """
    actions = np.asarray(episode.actions, np.float32)  # type: ignore[attr-defined]
    if space == "joint":
        return actions
    commands = episode.commands  # type: ignore[attr-defined]
    if commands is None:
        if labeler is None:
            raise ValueError("episode has no recorded Commands: a labeler is needed")
        obs = episode.observations  # type: ignore[attr-defined]
        commands = [
            labeler(obs[t], actions[t], obs[t + 1], actions[t - 1] if t else None)
            for t in range(len(actions))
        ]
    return from_person(np.asarray(commands, np.float32), command_scale)


def load_episodes(
    datasets: Iterable[Path],
    buffer: ReplayBuffer,
    *,
    space: Literal["command", "joint"],
    labeler: CommandLabeler | None = None,
    demos: ReplayBuffer | None = None,
    demo_actors: frozenset[Actor] = DEMO_ACTORS,
    command_scale: CommandScale = PERSON,
) -> int:
    """Add every episode of ``datasets`` to ``buffer`` (and the demo steps to ``demos``).

    Args:
        datasets: Recording directories (missing ones are skipped).
        buffer: Receives whole episodes.
        space: The agent's action space.
        labeler: Labels 28-D steps when a dataset has no recorded Commands.
        demos: Receives the guide and human steps of successful episodes (behaviour cloning).
        demo_actors: Whose steps of a successful episode ``demos`` receives.
        command_scale: The agent's Command units (:func:`agent_actions`).

    Returns:
        Transitions added to ``buffer``.

    """
    from recordings.reader import iter_episodes

    added = 0
    for dataset in datasets:
        if not Path(dataset).exists():
            continue
        for ep in iter_episodes(dataset):
            if len(ep) == 0:
                continue
            actions = agent_actions(ep, space, labeler, command_scale)
            obs = np.asarray(ep.observations, np.float32)
            open_steps = np.asarray(ep.step_success, bool)
            buffer.add_episode(
                obs[:-1],
                actions,
                ep.rewards,
                obs[1:],
                terminated=bool(ep.terminations[-1]),
                open_at_end=bool(open_steps[-1]),
            )
            added += len(ep)
            if demos is not None and episode_success(int(open_steps.sum())):
                add_demo_steps(demos, obs[:-1], actions, np.asarray(ep.actor), demo_actors)
    return added


def recorded_steps(datasets: Iterable[Path]) -> int:
    """Total steps in ``datasets`` (each checked: a missing or bad one is a :class:`UserError`)."""
    from recordings.reader import summarize

    return sum(summarize(Path(d)).steps for d in datasets)


__all__ = ["agent_actions", "load_episodes", "recorded_steps"]
