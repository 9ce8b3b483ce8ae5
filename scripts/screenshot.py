"""Write docs/screenshot.png: the app mid-episode, with a real render, the HUD and h history.

A real session in a throw-away run directory: the scripted guide, the learner thread on, the
chosen strategy. It runs ``--episodes`` episodes fast (many env steps per frame), then one more
at one step per frame; in it a person (posted Tab key events, as a keyboard gives them) takes
over for ``--takeover`` steps after the handover and hands back. The window is saved at step
``--at``. Without a display, SDL's dummy driver is used (nothing is shown).

Run: ``python scripts/screenshot.py [--episodes 12] [--at 150] [--out docs/screenshot.png]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> int:
    """Run the session and save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=12, help="episodes before the shot")
    parser.add_argument("--at", type=int, default=150, help="step of the episode to capture")
    parser.add_argument("--takeover", type=int, default=15, help="human steps after h")
    parser.add_argument(
        "--strategy",
        default="random",
        choices=("curriculum", "random"),
        help="random (JSRL-Random) gives a varied h history in a short session",
    )
    parser.add_argument("--view", type=int, default=480, help="view size (pixels)")
    parser.add_argument("--seed", type=int, default=0, help="seed")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    args = parser.parse_args()

    from app.window import configure_graphics, open_window

    if not os.environ.get("DISPLAY") and not os.environ.get("SDL_VIDEODRIVER"):
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    setup = configure_graphics()
    import pygame

    from app.config import AppConfig
    from app.layout import window_size
    from app.main import App
    from episode.types import Actor

    with tempfile.TemporaryDirectory(prefix="screenshot_") as tmp:
        surface = open_window(window_size(args.view), "Jump-Start Teleop", setup)
        cfg = AppConfig(
            guide="scripted",
            run_dir=Path(tmp) / "run",
            strategy=args.strategy,
            seed=args.seed,
            view_size=args.view,
            learner=True,
            warmup_steps=400,
            episode_pause_s=0.0,
            fixed_steps_per_frame=25,
            fps_limit=1000,
            hold_to_run=False,
        )  # fmt: skip  (the takeover below holds no key)
        app = App(cfg, surface)
        app.start()
        while len(app.episodes.plot.hs) < args.episodes:
            app.frame()
        app.session.pacing.fixed_steps_per_frame = 1
        while app.episodes.runner.t > 0:  # to the next episode's first step
            app.frame()
        app.session.pacing.fixed_steps_per_frame = 0  # from here on: the app's real pacing
        app.fps_limit = AppConfig.fps_limit  # the app's default frame cap
        handover = app.episodes.runner.h
        took_over = handed_back = False
        while app.episodes.runner.t < args.at and not app.episodes.runner.done:
            if not took_over and app.episodes.runner.t >= handover + 10:
                _key(pygame, pygame.K_TAB)
                took_over = True
            elif (
                took_over
                and not handed_back
                and app.episodes.track.counts()[Actor.HUMAN] >= args.takeover
            ):
                _key(pygame, pygame.K_TAB)
                handed_back = True
            app.frame()
        app.session.message = ""
        app.draw(force_render=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(args.out)
        status = app.episodes.learning.curriculum.status()
        runner, hs = app.episodes.runner, app.episodes.plot.hs
        print(f"wrote {args.out}: step {runner.t}, h {runner.h}, "
              f"{len(hs)} episodes, h history {hs}, {status.reason}")  # fmt: skip
        code = app.run(max_frames=app.frames)
        pygame.quit()
    return code


def _key(pygame: object, key: int) -> None:
    pg = pygame
    pg.event.post(pg.event.Event(pg.KEYDOWN, key=key))  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
