"""``launch.py app`` and ``launch.py replay``: graphics set-up, logging, the window, the loop.

:func:`~app.window.configure_graphics` runs before any renderer is made (and re-points mujoco's
GL backend if ``launch.py`` already imported it); pygame and the heavy modules are imported
inside the functions, after it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.config import AppConfig, ReplayConfig
from app.window import configure_graphics, open_window
from sim.errors import UserError

log = logging.getLogger("app")

TITLE = "Jump-Start Teleop"
"""Window caption."""


@contextmanager
def session_logging(log_file: Path | None) -> Iterator[None]:
    """Log INFO and up to stderr and, if given, to ``log_file`` (removed again on exit)."""
    root = logging.getLogger()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    handlers: list[logging.Handler] = []
    if not any(isinstance(h, logging.StreamHandler) for h in root.handlers):
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(fmt)
        handlers.append(stream)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file = logging.FileHandler(log_file)
        file.setFormatter(fmt)
        handlers.append(file)
    old_level = root.level
    root.setLevel(logging.INFO)
    for h in handlers:
        root.addHandler(h)
    try:
        yield
    finally:
        for h in handlers:
            root.removeHandler(h)
            h.close()
        root.setLevel(old_level)


def run_app(cfg: AppConfig) -> int:
    """Open the window and run an app session; 0 on a clean exit, 1 if a worker failed.

    Raises:
        UserError: A bad option, guide or run directory, or no window can be opened.

    """
    cfg.check()
    setup = configure_graphics()
    run_dir = Path(cfg.run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"--run-dir {run_dir} exists and is not a directory")
    import pygame

    from app.layout import window_size
    from app.main import App

    surface = open_window(window_size(cfg.view_size), TITLE, setup)  # no window: no run dir
    try:
        with session_logging(run_dir / "app.log"):
            app = App(cfg, surface)
            code = app.run()
            log.info("session closed after %d frames", app.frames)
            return code
    finally:
        pygame.quit()


def run_replay(cfg: ReplayConfig) -> int:
    """Open the replay viewer on a dataset; 0 when closed.

    Raises:
        UserError: A bad option or dataset, or no window can be opened.

    """
    cfg.check()
    if cfg.video is not None:
        from app.video import export_video

        fps = cfg.rate if cfg.rate != ReplayConfig.rate else 100.0  # the real pace by default
        frames = export_video(Path(cfg.dataset), cfg.episode, cfg.video, fps, cfg.view_size)
        print(f"wrote {cfg.video}: episode {cfg.episode}, {frames} frames at {fps:g} fps")
        return 0
    setup = configure_graphics()
    import pygame

    from app.layout import window_size
    from app.replay import ReplayViewer, load_replay

    with session_logging(None):
        data = load_replay(Path(cfg.dataset), cfg.episode)
        surface = open_window(window_size(cfg.view_size), f"{TITLE} replay", setup)
        try:
            viewer = ReplayViewer(cfg, surface, data)
            return viewer.run()
        finally:
            pygame.quit()
