"""The guide registry: a spec on the command line -> a guide, through lazy string entry points.

As Gymnasium's ``register(id, entry_point="module:attr")``: each kind of guide is registered
with the *name* of its builder, and the module that holds it is imported only when a guide of
that kind is built. Importing this module imports no guide, no torch and no user code, and no
module registers anything by being imported: the built-in kinds are listed, by name, in
:func:`builtin_registry`.

A spec is parsed once, by :meth:`GuideSpec.parse`, into ``GuideSpec(kind, argument)``::

    scripted              -> GuideSpec("scripted", None)
    scripted:0.5          -> GuideSpec("scripted", "0.5")
    imitation:DATASET     -> GuideSpec("imitation", "DATASET")
    policy:CKPT           -> GuideSpec("policy", "CKPT")
    my_guide.py:make      -> GuideSpec("file", "my_guide.py:make")     (the user's whole spec)
    package.module:make   -> GuideSpec("module", "package.module:make")
    human                 -> GuideSpec("human", None)

A builder is called as ``build(argument, env, seed, **context)`` and returns a
:class:`~episode.guide.Guide`. ``context`` carries what only some callers have: the app passes
``device=`` (its keyboard / gamepad hub); a kind that ``needs`` a context key it was not given
(``human`` without a device) fails with its own one-line :class:`GuideError` before anything is
imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from episode.guide import Guide, GuideError

if TYPE_CHECKING:
    import gymnasium

Builder = Callable[..., Guide]
"""``build(argument: str | None, env, seed: int, **context) -> Guide``."""

FILE_KIND = "file"
"""The kind of ``FILE.py:CALLABLE`` specs (a prefix ending in ``.py`` or holding a ``/``)."""
MODULE_KIND = "module"
"""The kind of ``package.module:CALLABLE`` specs (a dotted name that no other kind claims)."""
WHOLE_SPEC_KINDS = frozenset({FILE_KIND, MODULE_KIND})
"""Kinds whose argument is the whole spec as the user wrote it."""


@dataclass(frozen=True)
class GuideSpec:
    """A parsed guide spec: which kind of guide, and the text after its ``:``."""

    kind: str
    """The registered kind (``scripted``, ``imitation``, ``policy``, ``file``, ...)."""
    argument: str | None = None
    """The text after the first ``:`` (None without one); the whole spec for file/module."""

    @property
    def text(self) -> str:
        """The spec as written on the command line."""
        if self.kind in WHOLE_SPEC_KINDS and self.argument is not None:
            return self.argument
        return self.kind if self.argument is None else f"{self.kind}:{self.argument}"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, spec: str | GuideSpec, registry: GuideRegistry | None = None) -> GuideSpec:
        """Parse ``spec`` (a :class:`GuideSpec` is returned as it is).

        Raises:
            GuideError: The spec is empty or names no registered kind; the message lists the
                valid forms.

        """
        return (registry or REGISTRY).parse(spec)


@dataclass(frozen=True)
class GuideEntry:
    """One registered kind of guide."""

    kind: str
    """The spec prefix (``imitation``) or :data:`FILE_KIND` / :data:`MODULE_KIND`."""
    entry_point: str | Builder
    """``"module:attr"`` of the builder (imported when first built), or the builder itself."""
    usage: str
    """How the form is written, for error messages and ``--help``."""
    needs: tuple[str, ...] = ()
    """Context keys the builder needs (``("device",)`` for ``human``)."""
    unavailable: str = ""
    """The one-line message when a needed context key is missing."""

    def load(self) -> Builder:
        """The builder (its module imported now, if it is a string entry point).

        Raises:
            GuideError: The entry point cannot be imported or names nothing callable.

        """
        if not isinstance(self.entry_point, str):
            return self.entry_point
        module_name, sep, attr = self.entry_point.partition(":")
        if not sep or not module_name or not attr:
            raise GuideError(f"guide {self.kind!r}: entry point {self.entry_point!r} is not "
                             "module:attr")  # fmt: skip
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as e:
            raise GuideError(
                f"guide {self.kind!r}: cannot load {self.entry_point!r} ({type(e).__name__}: {e})"
            ) from e
        if not callable(obj):
            raise GuideError(f"guide {self.kind!r}: {self.entry_point!r} is not callable")
        builder: Builder = obj
        return builder


class GuideRegistry:
    """Kinds of guides by name; see the module docstring."""

    def __init__(self) -> None:
        self._entries: dict[str, GuideEntry] = {}

    def register(
        self,
        kind: str,
        entry_point: str | Builder,
        usage: str,
        *,
        needs: tuple[str, ...] = (),
        unavailable: str = "",
    ) -> None:
        """Accept specs of ``kind`` (replacing an earlier entry of that kind).

        Args:
            kind: The text before the ``:`` (``"imitation"``), or :data:`FILE_KIND` /
                :data:`MODULE_KIND`.
            entry_point: ``"package.module:builder"`` (imported only when a guide of this kind
                is built) or the builder itself.
            usage: How the form is written, listed when a spec is not understood.
            needs: Context keys the builder needs (e.g. ``("device",)``).
            unavailable: The message when one of ``needs`` is missing.

        """
        if not kind or ":" in kind:
            raise ValueError(f"a guide kind must be a non-empty name without ':', got {kind!r}")
        self._entries[kind] = GuideEntry(kind, entry_point, usage, tuple(needs), unavailable)

    def __contains__(self, kind: object) -> bool:
        return kind in self._entries

    def __iter__(self) -> Iterator[GuideEntry]:
        return iter(self._entries.values())

    def entry(self, kind: str) -> GuideEntry:
        """The entry of ``kind``.

        Raises:
            GuideError: No such kind (the message lists the valid forms).

        """
        try:
            return self._entries[kind]
        except KeyError:
            raise GuideError(f"unknown guide kind {kind!r}; valid forms: {self.forms()}") from None

    def forms(self) -> str:
        """The accepted spec forms, comma separated (for messages and help text)."""
        return ", ".join(entry.usage for entry in self._entries.values())

    def parse(self, spec: str | GuideSpec) -> GuideSpec:
        """Parse ``spec`` into a :class:`GuideSpec` (see the module docstring).

        Raises:
            GuideError: Empty, or no registered kind claims it; the message lists valid forms.

        """
        if isinstance(spec, GuideSpec):
            return spec
        text = spec.strip() if isinstance(spec, str) else ""
        if not text:
            raise GuideError(f"empty guide spec {spec!r}; valid forms: {self.forms()}")
        prefix, sep, argument = text.partition(":")
        if sep and _is_file(prefix) and FILE_KIND in self._entries:
            return GuideSpec(FILE_KIND, text)
        if prefix in self._entries and prefix not in WHOLE_SPEC_KINDS:
            return GuideSpec(prefix, argument if sep else None)
        if sep and _is_dotted_name(prefix) and MODULE_KIND in self._entries:
            return GuideSpec(MODULE_KIND, text)
        raise GuideError(f"unknown guide {spec!r}; valid forms: {self.forms()}")

    def make(
        self, spec: str | GuideSpec, env: gymnasium.Env, *, seed: int = 0, **context: Any
    ) -> Guide:
        """Build the guide that ``spec`` names, for ``env``.

        Args:
            spec: A spec string or a parsed :class:`GuideSpec`.
            env: The door env the guide will act in (its model and ``dt`` are read).
            seed: Seed for the guide's own randomness.
            **context: What only some callers have (``device=`` in the app); a kind gets the
                keys it ``needs``, the rest are ignored.

        Raises:
            GuideError: A bad spec, a missing context key, or the builder's own error.

        """
        parsed = self.parse(spec)
        entry = self.entry(parsed.kind)
        missing = [key for key in entry.needs if context.get(key) is None]
        if missing:
            raise GuideError(
                entry.unavailable or f"guide {parsed.text!r} needs {', '.join(missing)}"
            )
        given = {key: context[key] for key in entry.needs}
        return entry.load()(parsed.argument, env, seed, **given)


def _is_file(prefix: str) -> bool:
    return prefix.endswith(".py") or "/" in prefix or "\\" in prefix


def _is_dotted_name(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))


HUMAN_UNAVAILABLE = "the human guide drives through the window: use python launch.py app"
"""Why ``human`` cannot be built without the app's devices."""


def builtin_registry() -> GuideRegistry:
    """A registry of the built-in kinds: names only, nothing is imported until one is built."""
    registry = GuideRegistry()
    registry.register(
        "scripted",
        "guides.scripted:build",
        "scripted[:SKILL] (SKILL in [0, 1], default 1 = expert)",
    )
    registry.register(
        "imitation",
        "guides.imitation.load:build",
        "imitation:DATASET (behaviour cloning on its guide/human steps)",
    )
    registry.register(
        "policy",
        "guides.policy:build",
        "policy:CKPT (a checkpoint file or a train run directory)",
    )
    registry.register(
        FILE_KIND,
        "guides.user:build",
        "FILE.py:CALLABLE (your guide factory or obs -> action)",
    )
    registry.register(MODULE_KIND, "guides.user:build", "package.module:CALLABLE")
    registry.register(
        "human",
        "guides.human:build",
        "human (the app: keyboard / gamepad)",
        needs=("device",),
        unavailable=HUMAN_UNAVAILABLE,
    )
    return registry


REGISTRY = builtin_registry()
"""The registry ``launch.py``, the app and the trainer build their guides from."""


def register(
    kind: str,
    entry_point: str | Builder,
    usage: str,
    *,
    needs: tuple[str, ...] = (),
    unavailable: str = "",
) -> None:
    """:meth:`GuideRegistry.register` on the shared :data:`REGISTRY`."""
    REGISTRY.register(kind, entry_point, usage, needs=needs, unavailable=unavailable)


def parse_spec(spec: str | GuideSpec) -> GuideSpec:
    """:meth:`GuideRegistry.parse` on the shared :data:`REGISTRY`."""
    return REGISTRY.parse(spec)


def make_guide(
    spec: str | GuideSpec, env: gymnasium.Env, *, seed: int = 0, **context: Any
) -> Guide:
    """:meth:`GuideRegistry.make` on the shared :data:`REGISTRY`."""
    return REGISTRY.make(spec, env, seed=seed, **context)


def valid_forms() -> str:
    """The accepted spec forms of the shared :data:`REGISTRY`, comma separated."""
    return REGISTRY.forms()
