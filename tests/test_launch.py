"""The command line contract: help, and one clear line with exit code 2 for bad arguments."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _launch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "launch.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_help_lists_every_subcommand():
    proc = _launch("--help")
    assert proc.returncode == 0
    for name in ("app", "collect", "train", "eval", "replay", "recordings"):
        assert name in proc.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["bogus"], "bogus"),
        (["collect", "--episodes", "x", "--out", "d-v0"], "--episodes"),
        (["collect"], "--out"),
        (["train", "--run-dir", "r", "--strategy", "sometimes"], "sometimes"),
        # the subcommand's own help, and the bad option named first (not a missing --run-dir)
        (["app", "--episdoes", "3"], "launch.py app has no option --episdoes"),
        (["train", "--bogus", "1"], "launch.py train has no option --bogus"),
        (["train", "--run-dir", "r", "--sac.hiden", "3"], "did you mean --sac.hidden?"),
        (["replay", "--bogus", "X"], "see 'launch.py replay --help'"),
        (["recordings", "info", "--bogus", "X"], "launch.py recordings info has no option"),
        (["app", "--h", "abc"], "--h needs an integer, got 'abc' (see 'launch.py app --help')"),
        (["app", "--inset-every", "0"], "--inset-every must be in [1, 60], got 0"),
        (["eval", "--checkpoint", "README.md"], "torch cannot load it as plain weights"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args, needle):
    proc = _launch(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in proc.stderr
