"""Guides: anything that acts for the first ``h`` steps of an episode.

Build one from its command-line spec with :func:`guides.factory.make_guide`.
"""

from guides.base import Guide, GuideError
from guides.sanitize import ActionSanitizer
from guides.scripted import ScriptedConfig, ScriptedGuide

__all__ = ["ActionSanitizer", "Guide", "GuideError", "ScriptedConfig", "ScriptedGuide"]
