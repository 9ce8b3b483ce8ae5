"""Closing the app mid-training exits cleanly: no worker thread is left inside torch.

A daemon thread still running torch when the interpreter exits aborts the process ("terminate
called without an active exception", exit code 134): the imitation trainer's round did, when
the app gave it 1 s. The app is run in a subprocess (the interpreter's own exit is the thing
under test), closed with a real QUIT event while the trainer trains.
"""

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_quitting_while_the_imitation_trainer_trains_exits_0_without_an_abort(tmp_path):
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "app_quit_driver.py"), str(tmp_path / "run")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert "training at quit: True" in done.stdout, done.stdout + done.stderr[-3000:]
    assert "terminate called" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    alive = done.stdout.split("threads alive after the app closed:")[1]
    assert "imitation trainer" not in alive and "learner" not in alive, alive
    assert "recorder" not in alive, alive
