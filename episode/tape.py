"""An episode played in one place and committed in another (Ray rollout workers).

A worker's :class:`~episode.runner.EpisodeRunner` gets an :class:`EpisodeTape` as its replay:
the tape keeps the episode's transitions. The worker returns them with the episode's result as
a :class:`PlayedEpisode`; the driver hands it to :func:`play_back`, which gives its recorder and
replay the same calls, in the same order, that a runner playing the episode there would have
made (:func:`~episode.runner.record_step`, :func:`~episode.runner.end_recording`).
"""

from __future__ import annotations

from dataclasses import dataclass

from episode.runner import end_recording, record_step
from episode.types import EpisodeResult, Recorder, Replay, Transition


@dataclass(frozen=True)
class PlayedEpisode:
    """One finished episode as a worker played it."""

    result: EpisodeResult
    """The episode's result (seed, h, weight version, success, ...)."""
    transitions: tuple[Transition, ...]
    """Every step, in order (the first one's ``obs`` is the reset observation)."""


class EpisodeTape:
    """A :class:`~episode.types.Replay` that keeps the episode's transitions for the driver."""

    def __init__(self) -> None:
        self._steps: list[Transition] = []
        self._done: tuple[Transition, ...] = ()

    def add(self, transition: Transition) -> None:
        """Keep one step of the episode in progress."""
        self._steps.append(transition)

    def end_episode(self) -> None:
        """The episode ended: its steps wait for :meth:`take`."""
        self._done, self._steps = tuple(self._steps), []

    def discard_episode(self) -> None:
        """Drop the episode in progress."""
        self._steps = []

    def take(self, result: EpisodeResult) -> PlayedEpisode:
        """The ended episode with its result (the tape is empty afterwards)."""
        steps, self._done = self._done, ()
        return PlayedEpisode(result, steps)


def play_back(played: PlayedEpisode, recorder: Recorder | None, replay: Replay | None) -> None:
    """Record ``played`` and add it to ``replay`` as if it had been played here."""
    if not played.transitions:
        return
    r = played.result
    if recorder is not None:
        recorder.raise_if_failed()
        recorder.begin_episode(
            played.transitions[0].obs,
            seed=r.seed,
            h=r.h,
            guide_kind=r.guide_kind,
            weight_version=r.weight_version,
        )
    for tr in played.transitions:
        record_step(tr, recorder, replay)
    end_recording(recorder, replay)


__all__ = ["EpisodeTape", "PlayedEpisode", "play_back"]
