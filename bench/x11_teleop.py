"""Real X key events into the real app window: a scripted person opens the door under Xvfb.

An Xvfb server is started (``:99`` unless ``--display``), the app window opens on it with
SDL's X11 driver (``SDL_FRAMEBUFFER_ACCELERATION=0``), and every key is a real X event sent
with ``xdotool keydown`` / ``keyup`` to that window: X server -> SDL -> pygame's event queue
-> the app's one event loop -> the keyboard device -> the assist -> the mapper. The keys
follow the virtual human's strategy (:class:`~bench.person_strategies.AssistedPerson`), read
from the app's own observation each frame; the app runs at its defaults (a human guide,
hold-to-run, h = 180). Mid-episode (when the latch is free) a screenshot with the gauges is
saved.

    python -m bench.x11_teleop --episodes 3 --screenshot docs/x11_gauges.png

writes ``bench/results/x11_teleop.json`` and exits 0 when the door opened (D4RL's rule) in
at least one episode. Needs ``Xvfb`` and ``xdotool`` (``make test`` installs them when it can).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tyro

X_KEYS: dict[str, str] = {
    "w": "w", "a": "a", "s": "s", "d": "d", "q": "q", "e": "e", "f": "f",
    "right": "Right", "left": "Left", "up": "Up", "down": "Down",
    "space": "space", "left shift": "Shift_L", "return": "Return",
}  # fmt: skip
"""pygame key names -> X keysyms for xdotool."""


@dataclass(frozen=True)
class X11Teleop:
    """Drive the real app window with real X key events under Xvfb."""

    episodes: int = 3
    """Episodes to drive (seeds of the app's run: 0, 1, ...)."""
    display: str = ":99"
    """The Xvfb display to start."""
    screenshot: Path | None = Path("docs/x11_gauges.png")
    """Where the mid-episode screenshot goes (None: no screenshot)."""
    out: Path = Path("bench/results/x11_teleop.json")
    """JSON results."""
    max_seconds: float = 120.0
    """Give an episode up after this long."""


def tools_present() -> bool:
    """Whether Xvfb and xdotool are installed."""
    return shutil.which("Xvfb") is not None and shutil.which("xdotool") is not None


class XServer:
    """An Xvfb server for the session (stopped on exit)."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.proc = subprocess.Popen(
            ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{display.lstrip(':')}").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb did not start on {display}")
            time.sleep(0.05)

    def close(self) -> None:
        """Stop the server."""
        self.proc.terminate()
        self.proc.wait(timeout=10)


class XKeyboard:
    """Real X key events (XTEST, as from a keyboard) to the focused window, via ``xdotool``."""

    def __init__(self, window: str) -> None:
        self.window = window
        self.held: set[str] = set()
        self.sent = 0

    def set_held(self, keys: set[str]) -> None:
        """Press the keys newly wanted, release the others (releases first, as a person)."""
        for key in sorted(self.held - keys):
            self._send("keyup", key)
        for key in sorted(keys - self.held):
            self._send("keydown", key)
        self.held = set(keys)

    def tap(self, key: str) -> None:
        """Press and release one key."""
        self._send("keydown", key)
        self._send("keyup", key)

    def _send(self, what: str, key: str) -> None:
        # XTEST input to the focused window: what a keyboard's own presses look like to X
        subprocess.run(["xdotool", what, X_KEYS[key]], check=True, timeout=10)
        self.sent += 1


def focus_window() -> str:
    """Give the app window the keyboard focus; its X id (from SDL's window-manager info)."""
    import pygame

    window = str(pygame.display.get_wm_info()["window"])
    subprocess.run(["xdotool", "windowfocus", "--sync", window], check=True, timeout=10)
    return window


def drive(cfg: X11Teleop, run_dir: Path) -> dict[str, Any]:
    """Open the app on the X display and drive ``cfg.episodes`` episodes with X key events."""
    import numpy as np
    import pygame

    from app.config import AppConfig
    from app.layout import window_size
    from app.main import App
    from app.session import Phase
    from bench.person_strategies import AssistedPerson
    from guides.scripted import UNLATCHED, DoorView

    pygame.display.init()
    pygame.font.init()
    surface = pygame.display.set_mode(window_size(480))
    pygame.display.set_caption("Jump-Start Teleop")
    app = App(AppConfig(run_dir=run_dir, learner=False, render_process=False), surface)
    results: list[dict[str, Any]] = []
    try:
        app.start()
        app.frame()
        keys = XKeyboard(focus_window())
        person = AssistedPerson(rng=np.random.default_rng(0))
        for _ in range(cfg.episodes):
            results.append(_episode(cfg, app, keys, person, Phase, DoorView, UNLATCHED))
    finally:
        app.shutdown()
        pygame.quit()  # every X connection closed before the server goes
    return {"episodes": results, "keys_sent": keys.sent}


def _episode(cfg: X11Teleop, app: Any, keys: XKeyboard, person: Any, Phase: Any,
             DoorView: Any, UNLATCHED: float) -> dict[str, Any]:  # fmt: skip
    """One episode: Return, then the person's keys each frame until the episode is over."""
    while app.session.phase is not Phase.WAITING_FOR_START:
        app.frame()
    runner = app.episodes.runner
    person.reset(runner.obs)
    keys.tap("return")
    t0, shot, handed_off = time.monotonic(), False, False
    seen_t, want, closed = -1, frozenset(), False
    while app.session.phase is not Phase.EPISODE_DONE:
        app.frame()
        guide = app.human
        if runner.t != seen_t or not want:  # a person decides once per step they see
            seen_t = runner.t
            want, closed = person.want(runner.obs, guide.last_command.grasp)
        names = {_name(k) for k in want}
        if closed != guide.device.keyboard.grasp_closed and "space" not in keys.held:
            names.add("space")  # a tap toggles: down now, up on the next frame
        keys.set_held(names)
        if person.phase.value == "release" and not want and not handed_off:
            keys.tap("return")  # done: hands off, the sim runs on to the end
            handed_off = True
        view = DoorView.from_obs(runner.obs)
        if cfg.screenshot is not None and not shot and view.latch > UNLATCHED:
            cfg.screenshot.parent.mkdir(parents=True, exist_ok=True)
            pygame_save(app, cfg.screenshot)
            shot = True
        if time.monotonic() - t0 > cfg.max_seconds:
            break
    keys.set_held(set())
    track = app.episodes.track
    return {"seed": app.episodes.seed, "steps": track.t, "opened_at": track.opened_at,
            "open_steps": track.open_steps, "verdict": track.verdict(),
            "wall_s": time.monotonic() - t0}  # fmt: skip


def _name(key: int) -> str:
    import pygame

    return str(pygame.key.name(key))


def pygame_save(app: Any, path: Path) -> None:
    """Save the window as the X server shows it (the app's surface)."""
    import pygame

    pygame.image.save(app.surface, str(path))


def main(cfg: X11Teleop) -> int:
    """Start Xvfb, drive the app, write the JSON; 0 when the door opened in some episode."""
    from sim.door import episode_success

    if not tools_present():
        print("error: needs Xvfb and xdotool (apt-get install xvfb xdotool)", file=sys.stderr)
        return 2
    server = XServer(cfg.display)
    os.environ.update(DISPLAY=cfg.display, SDL_VIDEODRIVER="x11",
                      SDL_FRAMEBUFFER_ACCELERATION="0")  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results = drive(cfg, Path(tmp) / "run")
    finally:
        server.close()
    opened = [episode_success(e["open_steps"]) for e in results["episodes"]]
    results["successes"] = int(sum(opened))
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    cfg.out.write_text(json.dumps({"config": str(cfg), **results}, indent=2, default=str))
    for e in results["episodes"]:
        print(f"seed {e['seed']}: {e['verdict']} ({e['steps']} steps, {e['wall_s']:.0f} s)")
    print(f"{results['successes']}/{len(opened)} episodes opened the door with real X key "
          f"events ({results['keys_sent']} sent); results: {cfg.out}")  # fmt: skip
    return 0 if any(opened) else 1


if __name__ == "__main__":
    sys.exit(main(tyro.cli(X11Teleop)))
