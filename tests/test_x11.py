"""Real X key events (Xvfb + xdotool, XTEST input) into the real app window open the door."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench.x11_teleop import tools_present
from tests.conftest import ROOT


@pytest.mark.skipif(not tools_present(), reason="needs Xvfb and xdotool (make test installs them)")
def test_real_x_key_presses_into_the_app_window_open_the_door(tmp_path):
    out, shot = tmp_path / "x11.json", tmp_path / "gauges.png"
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "DISPLAY")}
    done = subprocess.run(
        [sys.executable, "-m", "bench.x11_teleop", "--episodes", "2", "--display", ":97",
         "--out", str(out), "--screenshot", str(shot)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    results = json.loads(out.read_text())
    assert results["successes"] >= 1 and results["keys_sent"] > 20
    assert all(e["steps"] == 200 for e in results["episodes"])
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the gauges mid-episode
