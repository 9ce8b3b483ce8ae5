"""Ctrl-C and SIGTERM as stop requests: the loops stop between steps, whole, and exit 130."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from learner.interrupts import no_interrupts, stop_requests
from recordings.reader import iter_episodes, summarize
from sim.errors import UserError
from tests.conftest import ROOT


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_first_signal_asks_the_second_interrupts_and_the_handlers_come_back(signum):
    before = signal.getsignal(signum)
    with stop_requests() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signum)
        time.sleep(0.01)  # the handler runs at the next bytecode of the main thread
        assert stop.requested and stop.signal == signum  # no exception: the loop decides
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signum)
            time.sleep(0.01)
    assert signal.getsignal(signum) is before


def test_no_interrupts_ignores_both_signals_inside_a_stop_request():
    with stop_requests() as stop:
        with no_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)
        assert not stop.requested  # ignored, not queued for later


def test_collect_stopped_by_sigterm_keeps_whole_episodes_and_exits_130(tmp_path):
    out = tmp_path / "door-demos-v0"
    cmd = [sys.executable, "launch.py", "collect", "--guide", "scripted", "--episodes", "500",
           "--out", str(out), "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
        try:  # read beside the writer: a file caught mid-commit is read again
            if summarize(out).episodes >= 2:
                break
        except (OSError, UserError):
            pass
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr.decode()
    assert b"stopping after this step" in stderr and b"Traceback" not in stderr
    assert b"interrupted: the episode in progress was discarded" in stdout
    episodes = list(iter_episodes(out))
    assert 2 <= len(episodes) < 500
    assert all(len(e.rewards) == 200 for e in episodes)  # the door's episodes: whole ones only


def test_the_app_stopped_by_sigterm_ends_its_frame_closes_and_saves(tmp_path):
    """SIGTERM (a session manager closing the app) beside a learner thread: the frame loop
    ends, the learner stops and a checkpoint is saved; the app exits 0."""
    import pygame

    from app.layout import window_size
    from tests.test_app import VIEW, make_app

    pygame.display.init()
    pygame.font.init()
    try:
        run_dir = tmp_path / "run"
        app = make_app(pygame.display.set_mode(window_size(VIEW)), run_dir, guide="scripted",
                       h=20, learner=True, warmup_steps=100, fixed_steps_per_frame=50)  # fmt: skip
        app.start()
        while app.episodes.learning.env_steps < 300:  # the learner is running
            app.frame()
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
        timer.start()
        assert app.run(max_frames=app.frames + 100_000) == 0
        timer.join()
        assert app.frames < 100_000  # the signal ended the loop, not the frame budget
        assert list((run_dir / "checkpoints").glob("step_*.pt"))
        assert not app.episodes.learning.parts.thread.is_alive()
    finally:
        pygame.display.quit()
