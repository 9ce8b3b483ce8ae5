"""The old home of guide building, kept so existing imports work: use :mod:`guides.registry`.

``make_guide``, ``valid_forms`` and ``register`` are the registry's; ``mapper_for`` is
:func:`guides.mapping.mapper_for`. Importing this module registers nothing.
"""

from __future__ import annotations

from guides.mapping import mapper_for
from guides.registry import (
    FILE_KIND,
    MODULE_KIND,
    REGISTRY,
    Builder,
    GuideSpec,
    make_guide,
    parse_spec,
    register,
    valid_forms,
)

PY_FILE_KEY = FILE_KIND
"""The old name of the ``FILE.py:CALLABLE`` kind."""
MODULE_KEY = MODULE_KIND
"""The old name of the ``package.module:CALLABLE`` kind."""

__all__ = [
    "MODULE_KEY",
    "PY_FILE_KEY",
    "REGISTRY",
    "Builder",
    "GuideSpec",
    "make_guide",
    "mapper_for",
    "parse_spec",
    "register",
    "valid_forms",
]
