"""The episode layer: the bottom of the product, standing on :mod:`sim` only.

``Actor``, the transition and episode-result types, the ``Guide`` and ``Policy`` protocols,
the action sanitizer and :class:`EpisodeRunner`, the one implementation of an episode that the
trainer, ``collect``, ``eval``, the app and the workers all run.
"""

from episode.guide import Guide, GuideError
from episode.runner import EpisodeRunner
from episode.sanitize import ActionSanitizer
from episode.types import Actor, EpisodeResult, Policy, Recorder, Replay, Transition

__all__ = [
    "ActionSanitizer",
    "Actor",
    "EpisodeResult",
    "EpisodeRunner",
    "Guide",
    "GuideError",
    "Policy",
    "Recorder",
    "Replay",
    "Transition",
]
