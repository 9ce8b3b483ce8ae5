"""Build a guide from its command-line spec: ``scripted``, ``scripted:0.5``, ...

Each spec is ``PREFIX`` or ``PREFIX:ARGUMENT``; :data:`BUILDERS` maps a prefix to a function
``(argument, env, seed) -> Guide``. Other modules add their own forms with :func:`register`,
e.g. ``register("imitation", build_imitation, "imitation:DATASET")``. A spec whose prefix ends
in ``.py`` is looked up under the ``"FILE.py"`` key and its builder gets the whole spec as the
argument, so a user's ``my_guide.py:make`` is served by one builder registered as ``"FILE.py"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium

from episode.guide import Guide, GuideError
from guides.scripted import ScriptedConfig, ScriptedGuide
from teleop.mapper import CommandMapper, MapperConfig

Builder = Callable[[str | None, gymnasium.Env, int], Guide]
"""Builds a guide from the spec's argument (None when the spec has no ``:``), env and seed."""


@dataclass(frozen=True)
class GuideForm:
    """One accepted spec form."""

    build: Builder
    """The function that builds the guide."""
    usage: str
    """How the form is written, for error messages and ``--help`` (e.g. ``scripted[:SKILL]``)."""


BUILDERS: dict[str, GuideForm] = {}
"""Spec prefix -> form. The extension point: add entries with :func:`register`."""

PY_FILE_KEY = "FILE.py"
"""The key under which a ``FILE.py:CALLABLE`` builder is registered (it gets the whole spec)."""

MODULE_KEY = "MODULE"
"""The key of the ``package.module:CALLABLE`` builder (it gets the whole spec); used when a
spec's prefix is a dotted Python name that no other form claims."""


def register(prefix: str, build: Builder, usage: str) -> None:
    """Accept specs starting with ``prefix`` (replacing an earlier builder of that prefix).

    Args:
        prefix: The text before the ``:`` (``"imitation"``), or :data:`PY_FILE_KEY`.
        build: Called as ``build(argument, env, seed)``; raises :class:`GuideError` on bad input.
        usage: How the form is written, listed when a spec is not understood.

    """
    BUILDERS[prefix] = GuideForm(build, usage)


def valid_forms() -> str:
    """The accepted spec forms, comma separated (for messages and help text)."""
    return ", ".join(form.usage for form in BUILDERS.values())


def make_guide(spec: str, env: gymnasium.Env, *, seed: int = 0) -> Guide:
    """Build the guide that ``spec`` names, for ``env``.

    Args:
        spec: ``scripted``, ``scripted:SKILL`` (SKILL in [0, 1]) or a registered form.
        env: The door env the guide will act in (its model and ``dt`` are read).
        seed: Seed for the guide's own randomness.

    Raises:
        GuideError: ``spec`` is empty, unknown or malformed; the message lists valid forms.

    """
    text = spec.strip() if isinstance(spec, str) else ""
    if not text:
        raise GuideError(f"empty guide spec {spec!r}; valid forms: {valid_forms()}")
    prefix, sep, argument = text.partition(":")
    if prefix.endswith(".py"):
        prefix, argument, sep = PY_FILE_KEY, text, ":"
    elif prefix not in BUILDERS and sep and _is_dotted_name(prefix):
        prefix, argument = MODULE_KEY, text  # package.module:CALLABLE
    form = BUILDERS.get(prefix)
    if form is None:
        raise GuideError(f"unknown guide {spec!r}; valid forms: {valid_forms()}")
    return form.build(argument if sep else None, env, seed)


def _is_dotted_name(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))


def mapper_for(env: gymnasium.Env) -> CommandMapper:
    """A :class:`CommandMapper` for ``env`` (its model, its control period)."""
    unwrapped = env.unwrapped
    return CommandMapper(unwrapped.model, MapperConfig(dt=float(unwrapped.dt)))


def _build_scripted(argument: str | None, env: gymnasium.Env, seed: int) -> Guide:
    skill = 1.0 if argument is None else _parse_skill(argument)
    config = ScriptedConfig(skill=skill, seed=seed, dt=float(env.unwrapped.dt))
    return ScriptedGuide(mapper_for(env), config)


def _parse_skill(argument: str) -> float:
    try:
        skill = float(argument)
    except ValueError:
        skill = float("nan")
    if not 0.0 <= skill <= 1.0:  # also rejects NaN
        raise GuideError(
            f"scripted guide skill must be a number in [0, 1] (scripted:0.5), got {argument!r}; "
            f"valid forms: {valid_forms()}"
        )
    return skill


register("scripted", _build_scripted, "scripted[:SKILL] (SKILL in [0, 1], default 1 = expert)")


# The other built-in forms register themselves when imported; they import torch and user code
# only when a guide of theirs is built, so this stays cheap.
from guides import imitation, policy, user  # noqa: E402, F401
