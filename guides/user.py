"""A user's own guide, named on the command line as ``FILE.py:NAME`` or ``module:NAME``.

``NAME`` may be any of:

* a factory with no required arguments that returns a :class:`~episode.guide.Guide` or a
  function ``obs -> action``;
* a function ``obs -> action`` itself (one required argument);
* a :class:`~episode.guide.Guide` instance (any object with ``reset(obs)`` and ``act(obs)``).

User code is imported only here, only when the user names it. The guide is validated before a
run starts: one full test episode on a private copy of the real door env, every action of
shape (28,) and finite. Anything wrong (missing file, import error, not callable, wrong shape,
NaN, an exception in ``act``) raises :class:`~episode.guide.GuideError`, which the command line
prints as one line and exits 2.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from episode.guide import GuideError
from sim.door import ACT_DIM, EPISODE_STEPS, make_door

USER_KIND = "user"
"""The ``kind`` every user guide reports, whatever object it wraps."""

VALIDATION_SEED = 12_345
"""Seed of the test episode a user guide must survive before a run starts."""


@dataclass(frozen=True)
class UserSpec:
    """A parsed ``FILE.py:NAME`` or ``module:NAME`` guide spec."""

    source: str
    """The file path or the dotted module name, as the user wrote it."""
    name: str
    """The attribute to look up in the module (dots allowed: ``Class.factory``)."""
    is_file: bool
    """True when ``source`` names a Python file rather than an importable module."""

    @property
    def text(self) -> str:
        """The spec as the user wrote it."""
        return f"{self.source}:{self.name}"


def parse_user_spec(spec: str) -> UserSpec:
    """Split ``spec`` at its last colon into a source (file or module) and a name.

    Raises:
        GuideError: When the spec has no colon or an empty side.

    """
    source, sep, name = spec.rpartition(":")
    if not sep or not source or not name:
        raise GuideError(
            f"user guide {spec!r} must look like path/to/file.py:NAME or package.module:NAME"
        )
    is_file = source.endswith(".py") or "/" in source or "\\" in source
    return UserSpec(source=source, name=name, is_file=is_file)


def looks_like_user_spec(spec: str) -> bool:
    """True when ``spec`` has the shape of a user guide spec (``X:NAME``, X a file or module)."""
    source, sep, name = spec.rpartition(":")
    return bool(sep and source and name and name.replace(".", "_").isidentifier())


class UserGuide:
    """Wraps a user's guide object or ``obs -> action`` function as a checked guide.

    Exceptions raised by the user's code become :class:`GuideError` with the step and the
    spec in the message; a wrong shape or a non-finite action does too, so a broken guide
    stops the run with one clear line instead of a traceback (the recording of every
    finished episode stays intact: the runner writes whole episodes).
    """

    kind = USER_KIND

    def __init__(self, target: Any, spec: str) -> None:
        """Wrap ``target`` (a Guide-like object or a callable ``obs -> action``)."""
        self._target = target
        self._spec = spec
        self._t = 0
        self.inner_kind: str | None = getattr(target, "kind", None)
        """The wrapped guide's own ``kind`` (e.g. ``scripted``), if it has one."""

    def reset(self, obs: np.ndarray) -> None:
        """Reset the user's guide (if it has a ``reset``) and the step count."""
        self._t = 0
        reset = getattr(self._target, "reset", None)
        if callable(reset):
            self._call(reset, obs, "reset")

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Return the user's action for ``obs`` as a float32 (28,) array, or raise GuideError."""
        fn = self._target.act if hasattr(self._target, "act") else self._target
        raw = self._call(fn, obs, "act")
        action = check_action(raw, f"user guide {self._spec} at step {self._t}")
        self._t += 1
        return action

    def _call(self, fn: Callable[[np.ndarray], Any], obs: np.ndarray, what: str) -> Any:
        try:
            return fn(np.array(obs, copy=True))
        except GuideError:
            raise
        except (Exception, SystemExit) as e:  # any error in user code (exit too): one line
            where = _user_frame(e)
            raise GuideError(
                f"user guide {self._spec} raised {type(e).__name__} in {what}() at step "
                f"{self._t}{where}: {e}"
            ) from e


def check_action(raw: Any, who: str) -> np.ndarray:
    """Return ``raw`` as a float32 (28,) array, or raise GuideError naming ``who``."""
    try:
        action = np.asarray(raw, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise GuideError(f"{who} returned {type(raw).__name__}, not a ({ACT_DIM},) array") from e
    if action.shape != (ACT_DIM,):
        raise GuideError(f"{who} returned shape {action.shape}, expected ({ACT_DIM},)")
    if not np.all(np.isfinite(action)):
        bad = np.flatnonzero(~np.isfinite(action)).tolist()
        raise GuideError(f"{who} returned a non-finite action (NaN/inf at indices {bad})")
    return action


def load_user_guide(spec: str, *, validate: bool = True) -> UserGuide:
    """Import the user's code named by ``spec``, build the guide and (by default) validate it.

    Args:
        spec: ``path/to/file.py:NAME`` or ``package.module:NAME``.
        validate: Run one test episode on a private door env before returning.

    Raises:
        GuideError: For every way the spec, the code or the guide can be broken.

    """
    parsed = parse_user_spec(spec)
    module = _import_file(parsed) if parsed.is_file else _import_module(parsed)
    obj = _lookup(module, parsed)
    guide = UserGuide(_build(obj, parsed), parsed.text)
    if validate:
        validate_guide(guide)
    return guide


def validate_guide(guide: UserGuide, seed: int = VALIDATION_SEED) -> int:
    """Run one full test episode with ``guide`` on a private door env; return its steps.

    Raises:
        GuideError: When any action is malformed or the user's code raises.

    """
    env = make_door()
    try:
        obs, _ = env.reset(seed=seed)
        guide.reset(obs)
        for t in range(EPISODE_STEPS):
            action = guide.act(obs)
            obs, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                return t + 1
        return EPISODE_STEPS
    finally:
        env.close()


def _import_file(spec: UserSpec) -> ModuleType:
    path = Path(spec.source).expanduser()
    if not path.is_file():
        raise GuideError(f"user guide file {str(path)!r} not found (spec {spec.text})")
    if path.suffix != ".py":
        raise GuideError(f"user guide file {str(path)!r} must be a .py file (spec {spec.text})")
    mod_name = f"_jumpstart_user_guide_{abs(hash(str(path.resolve())))}"
    module_spec = importlib.util.spec_from_file_location(mod_name, path)
    if module_spec is None or module_spec.loader is None:
        raise GuideError(f"cannot import {str(path)!r} as a Python module (spec {spec.text})")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[mod_name] = module
    parent = str(path.resolve().parent)
    added = parent not in sys.path
    if added:  # let the file import its siblings
        sys.path.insert(0, parent)
    try:
        module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:  # any error in user code (exit too): one line
        sys.modules.pop(mod_name, None)
        raise GuideError(
            f"importing {str(path)!r} failed{_user_frame(e)}: {type(e).__name__}: {e}"
        ) from e
    finally:
        if added:
            sys.path.remove(parent)
    return module


def _import_module(spec: UserSpec) -> ModuleType:
    try:
        return importlib.import_module(spec.source)
    except ModuleNotFoundError as e:
        if e.name and spec.source.startswith(e.name):
            raise GuideError(
                f"module {spec.source!r} not found (spec {spec.text}); use path/to/file.py:NAME "
                "for a file, or put the module on PYTHONPATH"
            ) from e
        raise GuideError(f"importing {spec.source!r} failed{_user_frame(e)}: {e}") from e
    except (Exception, SystemExit) as e:  # any error in user code (exit too): one line
        raise GuideError(
            f"importing {spec.source!r} failed{_user_frame(e)}: {type(e).__name__}: {e}"
        ) from e


def _lookup(module: ModuleType, spec: UserSpec) -> Any:
    obj: Any = module
    for part in spec.name.split("."):
        if not hasattr(obj, part):
            public = sorted(n for n in dir(module) if not n.startswith("_"))[:12]
            raise GuideError(
                f"{spec.source!r} has no attribute {spec.name!r} (spec {spec.text}); "
                f"it has: {', '.join(public) or 'nothing public'}"
            )
        obj = getattr(obj, part)
    return obj


def _build(obj: Any, spec: UserSpec) -> Any:
    """Turn the named object into a guide-like object or an ``obs -> action`` callable."""
    if _is_guide_like(obj):
        return obj
    if not callable(obj):
        raise GuideError(
            f"{spec.text} is a {type(obj).__name__}, not callable: name a factory returning a "
            "Guide or a function obs -> action"
        )
    n_required = _required_args(obj)
    if n_required == 1 and not inspect.isclass(obj):
        return obj  # the function obs -> action itself
    if n_required not in (0, None):
        raise GuideError(
            f"{spec.text} needs {n_required} arguments: name a factory with no required "
            "arguments, or a function obs -> action"
        )
    try:
        built = obj()
    except (Exception, SystemExit) as e:  # any error in user code (exit too): one line
        raise GuideError(
            f"calling {spec.text}() raised {type(e).__name__}{_user_frame(e)}: {e}"
        ) from e
    if _is_guide_like(built) or (callable(built) and not inspect.isclass(built)):
        return built
    raise GuideError(
        f"{spec.text}() returned {type(built).__name__}: expected a Guide (reset/act) or a "
        "function obs -> action"
    )


def _is_guide_like(obj: Any) -> bool:
    return not inspect.isclass(obj) and callable(getattr(obj, "act", None))


def _required_args(fn: Any) -> int | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(
        1
        for p in sig.parameters.values()
        if p.kind in kinds and p.default is inspect.Parameter.empty
    )


def _user_frame(e: BaseException) -> str:
    """`` (file.py:LINE)`` of the innermost frame of ``e``'s traceback, or ``""``."""
    frames = traceback.extract_tb(e.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f" ({Path(last.filename).name}:{last.lineno})"


def build(argument: str | None, env: Any, seed: int) -> UserGuide:
    """Registry builder for ``FILE.py:NAME`` and ``module:NAME`` (the argument is the spec)."""
    del env, seed  # the user's code makes its own; validation uses a private env
    if not argument:
        raise GuideError("user guide needs a spec: path/to/file.py:NAME or package.module:NAME")
    return load_user_guide(argument)
