"""Jump-Start Teleop command line: one typed config per subcommand, wiring only.

Each package owns its configs (``*/config.py``, cheap to import so ``--help`` is instant) and
the function that runs them (``*/cli.py``, imported only for the chosen subcommand). A
:class:`sim.errors.UserError` from any of them becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any, Union

import tyro

from app.config import AppConfig, ReplayConfig
from learner.config import EvalConfig, TrainConfig
from recordings.config import CollectConfig, RecordingsConfig
from sim.errors import UserError

# subcommand name -> (config type, "module:function" that runs it and returns an exit code)
COMMANDS: dict[str, tuple[type, str]] = {
    "app": (AppConfig, "app.cli:run_app"),
    "collect": (CollectConfig, "recordings.cli:run_collect"),
    "train": (TrainConfig, "learner.cli:run_train"),
    "eval": (EvalConfig, "learner.cli:run_eval"),
    "replay": (ReplayConfig, "app.cli:run_replay"),
    "recordings": (RecordingsConfig, "recordings.cli:run_recordings"),
}


def parse(argv: list[str]) -> Any:
    """Parse ``argv`` into one subcommand's config (exits 2 on a bad argument)."""
    if not argv:
        argv = list(DEFAULT_ARGV)
    union = Union[  # noqa: UP007  (tyro needs a runtime Union of annotated members)
        tuple(Annotated[cls, tyro.conf.subcommand(name)] for name, (cls, _) in COMMANDS.items())
    ]
    return tyro.cli(union, args=argv, prog="launch.py", description=__doc__.splitlines()[0])


DEFAULT_ARGV: tuple[str, ...] = ("--help",)
"""What ``python launch.py`` with no arguments does."""


def main(argv: list[str] | None = None) -> int:
    """Run the chosen subcommand and return its exit code."""
    config = parse(sys.argv[1:] if argv is None else argv)
    target = next(t for cls, t in COMMANDS.values() if isinstance(config, cls))
    module_name, func_name = target.split(":")
    try:
        run = getattr(importlib.import_module(module_name), func_name)
        return int(run(config) or 0)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
