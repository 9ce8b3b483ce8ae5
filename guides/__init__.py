"""Guides: anything that acts for the first ``h`` steps of an episode."""

from guides.base import Guide, GuideError
from guides.sanitize import ActionSanitizer

__all__ = ["ActionSanitizer", "Guide", "GuideError"]
