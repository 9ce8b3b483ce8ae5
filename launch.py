"""Jump-Start Teleop command line: one typed config per subcommand, wiring only.

Each package owns its configs (``*/config.py``, cheap to import so ``--help`` is instant) and
the function that runs them (``*/cli.py``, imported only for the chosen subcommand). A
:class:`sim.errors.UserError` from any of them becomes one line on stderr and exit code 2.

Guides are built at the edge: a ``--guide`` spec is parsed here, once, into a
:class:`guides.registry.GuideSpec` (a bad one is one line and exit 2 before anything heavy is
imported), and the subcommands in :data:`BUILDS_GUIDE` are handed a builder for it, so the
packages below ``guides`` never import it.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import importlib
import io
import json
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Union

import tyro

from app.config import AppConfig, ReplayConfig
from guides.registry import GuideSpec, parse_spec
from learner.config import (
    CollectConfig,
    EvalConfig,
    TrainConfig,
    saved_sac_settings,
    saved_train_settings,
)
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


def parse(argv: list[str]) -> Any:
    """Parse ``argv`` into one subcommand's config.

    A bad argument prints one line (what was wrong and where the help is) and exits 2.
    """
    if not argv:
        argv = list(DEFAULT_ARGV)
    argv = expand_config(argv)
    unknown = unknown_option(argv)
    if unknown is not None:
        print(f"error: {unknown}", file=sys.stderr)
        raise SystemExit(2)
    union: Any = Union[  # noqa: UP007  (tyro needs a runtime Union of annotated members)
        tuple(Annotated[cls, tyro.conf.subcommand(name)] for name, (cls, _) in COMMANDS.items())
    ]
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            return tyro.cli(union, args=argv, prog=prog_name(), description=__doc__.splitlines()[0])
    except SystemExit as e:
        if e.code not in (0, None):
            sub = argv[0] if argv[0] in COMMANDS else ""
            print(f"error: {condense_tyro_error(captured.getvalue(), sub)}", file=sys.stderr)
        else:
            sys.stderr.write(captured.getvalue())
        raise


CONFIG_SKIPPED = frozenset({"run_dir", "resume"})
"""Settings ``--config`` does not take from the file: the run directory is the new run's."""


def expand_config(argv: list[str]) -> list[str]:
    """``train --config FILE``: the file's settings as options before the ones given.

    ``FILE`` is a run's ``config.json`` (``{"train": {...}}``) or a JSON object of ``train``'s
    settings; options given on the command line win (they come after). ``--run-dir`` is never
    taken from the file.
    """
    if argv[:1] != ["train"] or "--config" not in argv:
        return argv
    i = argv.index("--config")
    if i + 1 >= len(argv):
        print("error: --config needs a JSON file (a run's config.json)", file=sys.stderr)
        raise SystemExit(2)
    path = argv[i + 1]
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        print(f"error: --config {path}: {getattr(e, 'strerror', None) or e}", file=sys.stderr)
        raise SystemExit(2) from None
    settings = data.get("train", data) if isinstance(data, dict) else None
    if not isinstance(settings, dict):
        print(f"error: --config {path} holds no train settings (a JSON object)", file=sys.stderr)
        raise SystemExit(2)
    if "train" in data:  # a run's config.json: options it predates as they behaved then
        settings = saved_train_settings(settings)
    elif isinstance(settings.get("sac"), dict):
        settings = {**settings, "sac": saved_sac_settings(settings["sac"])}
    options = _as_options({k: v for k, v in settings.items() if k not in CONFIG_SKIPPED})
    return ["train", *options, *argv[1:i], *argv[i + 2 :]]


def _as_options(settings: dict[str, Any], prefix: str = "") -> list[str]:
    """Nested settings as tyro options (``--sac.hidden 128``, ``--no-progress``, lists spread)."""
    out: list[str] = []
    for key, value in settings.items():
        name = prefix + key.replace("_", "-")
        if isinstance(value, dict):
            out += _as_options(value, f"{name}.")
        elif isinstance(value, bool):
            head, _, last = name.rpartition(".")
            out.append(f"--{name}" if value else f"--{head + '.' if head else ''}no-{last}")
        elif isinstance(value, list | tuple):
            if value:
                out += [f"--{name}", *(str(v) for v in value)]
        elif value is not None:
            out += [f"--{name}", str(value)]
    return out


def unknown_option(argv: list[str]) -> str | None:
    """One line naming the first option ``argv``'s subcommand does not have (None: all known).

    Checked before tyro parses, so ``train --bogus 1`` names ``--bogus`` (not a missing
    ``--run-dir``) and the help it points at is the subcommand's own.
    """
    if not argv or argv[0] not in COMMANDS:
        return None
    words = [argv[0]]
    parser = _parser(COMMANDS[argv[0]][0])
    if parser is None:
        return None
    for token in argv[1:]:  # a nested subcommand (recordings info): its own options
        sub = next((a for a in parser._actions if type(a).__name__ == "_SubParsersAction"), None)
        if sub is None or token not in sub.choices:
            break
        parser, words = sub.choices[token], [*words, token]
    known = set(parser._option_string_actions)
    for token in argv[len(words) :]:
        flag = token.split("=", 1)[0]
        if flag.startswith("--") and flag not in known:
            close = difflib.get_close_matches(flag, sorted(known), n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            cmd = " ".join([prog_name(), *words])
            return f"{cmd} has no option {flag} ({hint}see '{cmd} --help')"
    return None


def _parser(cls: Any) -> Any:
    """Tyro's argparse parser for a subcommand's config (None if tyro cannot give one)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # get_parser is deprecated, still exact
            return tyro.extras.get_parser(cls)
    except Exception:
        return None


_VALUE_ERROR = re.compile(
    r"Error parsing (--\S+): no type matching (\S+) could be instantiated from \[(.*?)\]"
)
_TYPE_WORDS = {"INT": "an integer", "FLOAT": "a number", "PATH": "a path", "STR": "text"}


def _plain_value_error(message: str) -> str:
    """Tyro's "no type matching {None}|INT could be instantiated from ['abc']" in words."""
    found = _VALUE_ERROR.search(message)
    if found is None:
        return message
    flag, types, value = found.groups()
    names = [t for t in types.split("|") if t != "{None}"]
    wanted = " or ".join(_TYPE_WORDS.get(t, t) for t in names) or types
    return f"{flag} needs {wanted}, got {value}"


_BOX_CHARS = "│╭╮╰╯─- "
_HELP_HINT = re.compile(r"((?:launch\.py|jumpstart)(?: \S+)* --help)")


def prog_name() -> str:
    """``jumpstart`` when run as the console script, else ``launch.py`` (for help and errors)."""
    return "jumpstart" if os.path.basename(sys.argv[0]) == "jumpstart" else "launch.py"


_NESTED = re.compile(r"Error parsing __tyro-dummy-inner__\.(\w+): ")


def condense_tyro_error(text: str, subcommand: str = "") -> str:
    """Reduce tyro's boxed error message to one line: title, message, where the help is.

    Args:
        text: What tyro printed to stderr (a box with a title, sections split by rules).
        subcommand: The subcommand the arguments were for (its help is the one to point at).
    """
    lines = [ln.strip().strip("│").rstrip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "bad arguments (see launch.py --help)"
    title = lines[0].strip(_BOX_CHARS)
    body: list[str] = []
    for ln in lines[1:]:
        if not ln.strip(_BOX_CHARS):  # a rule: the first section (the message) ended
            if body:
                break
            continue
        indent = len(ln) - len(ln.lstrip())
        if indent <= 5:  # keep the message and argument names, drop their long help text
            body.append(ln.strip())
    hints = [m for ln in lines if (m := _HELP_HINT.search(ln.strip()))]
    hint = hints[-1] if hints else None  # tyro's "For full helptext, run:" line
    message = " ".join(b for b in body if not b.startswith("For full helptext")) or title
    # a config's own check (ValueError in __post_init__): name the options, not tyro's path
    message = _NESTED.sub(lambda m: f"--{m.group(1).replace('_', '-')}.*: ", message)
    message = _plain_value_error(message)
    if hint is not None and hint.group(1).split()[1:2] == ["--help"] and subcommand:
        where = f" (see '{prog_name()} {subcommand} --help')"  # tyro pointed at the top level
    else:
        where = f" (see '{hint.group(1)}')" if hint else ""
    return f"{title}: {message}{where}" if title and title not in message else message + where


BUILDS_GUIDE = frozenset({"collect", "train", "eval"})
"""Subcommands whose runner takes ``build_guide(env) -> Guide`` for their ``--guide`` spec."""


def guide_spec(config: Any) -> GuideSpec | None:
    """The config's ``--guide`` spec, parsed (None without one, or for ``none``).

    Raises:
        guides.registry.GuideError: Not a valid spec (the message lists the valid forms).

    """
    spec = getattr(config, "guide", None)
    if not isinstance(spec, str) or spec == "none":
        return None
    return parse_spec(spec)


def guide_builder(spec: GuideSpec | None, seed: int) -> Callable[[Any], Any] | None:
    """``build_guide(env)`` for ``spec`` (None without a spec)."""
    if spec is None:
        return None
    return functools.partial(_build_guide, spec, seed=seed)


def _build_guide(spec: GuideSpec, env: Any, *, seed: int) -> Any:
    from guides.registry import make_guide

    return make_guide(spec, env, seed=seed)


DEFAULT_ARGV: tuple[str, ...] = ("app",)
"""What ``python launch.py`` with no arguments does."""


def _terminate_like_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM (a session manager, ``kill``) does what Ctrl-C does: save, flush, exit."""
    del signum, frame
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the chosen subcommand and return its exit code (2 for bad arguments)."""
    try:
        config = parse(sys.argv[1:] if argv is None else argv)
    except SystemExit as e:  # --help (0) or a bad argument (2, its line already printed)
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate_like_ctrl_c)
    name, target = next((n, t) for n, (cls, t) in COMMANDS.items() if isinstance(config, cls))
    module_name, func_name = target.split(":")
    try:
        spec = guide_spec(config)
        run = getattr(importlib.import_module(module_name), func_name)
        if name in BUILDS_GUIDE:
            return int(run(config, build_guide=guide_builder(spec, config.seed)) or 0)
        return int(run(config) or 0)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `... | head`: the reader has gone, so has the output
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:  # the edge: disk full, read-only, not a directory, no permission
        print(f"error: {os_error_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def os_error_line(e: OSError) -> str:
    """One line for an OS error: the path, what went wrong, what to do."""
    where = f"{e.filename}: " if e.filename else ""
    found = re.search(r"errno = (\d+)", str(e))  # h5py: "Unable to create file (... errno = 28"
    what = os.strerror(int(found.group(1))) if found else (e.strerror or str(e))
    what = what.strip().splitlines()[0][:200] if what.strip() else type(e).__name__
    return f"{where}{what} (choose a writable directory with free space)"


def console_main() -> None:
    """The ``jumpstart`` console script (``pip install`` puts it on the PATH)."""
    sys.exit(main())


if __name__ == "__main__":
    console_main()
