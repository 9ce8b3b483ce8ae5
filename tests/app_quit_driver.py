"""Run the app headless until the imitation trainer trains, then close it with a QUIT event.

Used by ``tests/test_app_exit.py`` in a subprocess, so that the interpreter's own exit runs:
``python tests/app_quit_driver.py RUN_DIR``. The person is stand-in key events: Return starts
each episode; the human guide's steps (nothing pressed, hold-to-run off) are the demos. Once
the imitation trainer's first round is under way (or the frame budget is spent) a
``pygame.QUIT`` event, as closing the window sends, ends the session through the app's event
loop; the threads still alive after the app closed are printed.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    """Run the session; the app's exit code."""
    from app.window import configure_graphics, open_window

    setup = configure_graphics()
    import pygame

    from app.config import AppConfig
    from app.layout import window_size
    from app.main import App
    from app.session import Phase

    cfg = AppConfig(guide="human", run_dir=Path(sys.argv[1]), view_size=240, h=25,
                    hold_to_run=False, fixed_steps_per_frame=25, episode_pause_s=0.0,
                    warmup_steps=50, imitate_after=1, imitate_steps=3000)  # fmt: skip
    surface = open_window(window_size(cfg.view_size), "app_quit_driver", setup)
    try:
        app = App(cfg, surface)
        app.start()
        for _ in range(2000):
            if app.session.phase is Phase.WAITING_FOR_START:
                for kind in (pygame.KEYDOWN, pygame.KEYUP):
                    pygame.event.post(pygame.event.Event(kind, key=pygame.K_RETURN))
            app.frame()
            if app.episodes.assist.status().training:
                break
        print(f"training at quit: {app.episodes.assist.status().training}", flush=True)
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        code = app.run()
    finally:
        pygame.quit()
    alive = sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())
    print(f"threads alive after the app closed: {alive}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
