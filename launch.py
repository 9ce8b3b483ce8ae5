"""Jump-Start Teleop command line: one typed config per subcommand, wiring only.

Each package owns its configs (``*/config.py``, cheap to import so ``--help`` is instant) and
the function that runs them (``*/cli.py``, imported only for the chosen subcommand). A
:class:`sim.errors.UserError` from any of them becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import sys
from typing import Annotated, Any, Union

import tyro

from app.config import AppConfig, ReplayConfig
from learner.config import CollectConfig, EvalConfig, TrainConfig
from recordings.config import RecordingsConfig
from sim.errors import UserError

# subcommand name -> (config type, "module:function" that runs it and returns an exit code)
COMMANDS: dict[str, tuple[type, str]] = {
    "app": (AppConfig, "app.cli:run_app"),
    "collect": (CollectConfig, "learner.collect:run_collect"),
    "train": (TrainConfig, "learner.cli:run_train"),
    "eval": (EvalConfig, "learner.cli:run_eval"),
    "replay": (ReplayConfig, "app.cli:run_replay"),
    "recordings": (RecordingsConfig, "recordings.cli:run_recordings"),
}


GUIDE_BUILDER = "guides.factory:make_guide"
"""Guides are built at the edge: these commands' runners get this builder (``spec, env, seed``),
so ``learner/`` never imports ``guides/``."""
GUIDED = frozenset({"collect", "train", "eval"})
"""Subcommands whose runner takes the guide builder as its second argument."""


def parse(argv: list[str]) -> Any:
    """Parse ``argv`` into one subcommand's config.

    A bad argument prints one line (what was wrong and where the help is) and exits 2.
    """
    if not argv:
        argv = list(DEFAULT_ARGV)
    union = Union[  # noqa: UP007  (tyro needs a runtime Union of annotated members)
        tuple(Annotated[cls, tyro.conf.subcommand(name)] for name, (cls, _) in COMMANDS.items())
    ]
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            return tyro.cli(union, args=argv, prog="launch.py", description=__doc__.splitlines()[0])
    except SystemExit as e:
        if e.code not in (0, None):
            print(f"error: {condense_tyro_error(captured.getvalue())}", file=sys.stderr)
        else:
            sys.stderr.write(captured.getvalue())
        raise


_BOX_CHARS = "│╭╮╰╯─ "
_HELP_HINT = re.compile(r"(launch\.py(?: \S+)* --help)")


def condense_tyro_error(text: str) -> str:
    """Reduce tyro's boxed error message to one line: title, message, where the help is.

    Args:
        text: What tyro printed to stderr (a box with a title, sections split by rules).
    """
    lines = [ln.strip().strip("│").rstrip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "bad arguments (see launch.py --help)"
    title = lines[0].strip(_BOX_CHARS)
    body: list[str] = []
    for ln in lines[1:]:
        if not ln.strip(_BOX_CHARS):  # a rule: the first section (the message) ended
            break
        indent = len(ln) - len(ln.lstrip())
        if indent <= 5:  # keep the message and argument names, drop their long help text
            body.append(ln.strip())
    hint = _HELP_HINT.search(" ".join(lines))
    message = " ".join(body) or title
    where = f" (see '{hint.group(1)}')" if hint else ""
    return f"{title}: {message}{where}" if title and title not in message else message + where


DEFAULT_ARGV: tuple[str, ...] = ("app",)
"""What ``python launch.py`` with no arguments does."""


def main(argv: list[str] | None = None) -> int:
    """Run the chosen subcommand and return its exit code."""
    config = parse(sys.argv[1:] if argv is None else argv)
    name = next(n for n, (cls, _) in COMMANDS.items() if isinstance(config, cls))
    try:
        run = _load(COMMANDS[name][1])
        args = (_load(GUIDE_BUILDER),) if name in GUIDED else ()
        return int(run(config, *args) or 0)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _load(target: str) -> Any:
    """The attribute a ``module:attr`` string names (imported now)."""
    module_name, attr = target.split(":")
    return getattr(importlib.import_module(module_name), attr)


if __name__ == "__main__":
    sys.exit(main())
