"""Guides: anything that acts for the first ``h`` steps of an episode.

The ``Guide`` protocol lives in the episode layer (:mod:`episode.guide`); build a guide from
its command-line spec with :func:`guides.factory.make_guide`.
"""

from guides.scripted import ScriptedConfig, ScriptedGuide

__all__ = ["ScriptedConfig", "ScriptedGuide"]
