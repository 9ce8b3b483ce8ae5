"""Configs of the ``app`` and ``replay`` subcommands (cheap to import: no pygame here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tyro

from sim.errors import UserError


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise UserError(message)


@dataclass(frozen=True)
class AppConfig:
    """Open the window: drive the hand for h steps, then the explorer takes over."""

    guide: str = "human"
    """Guide: human, scripted, scripted:SKILL, imitation:DATASET, policy:CKPT, FILE.py:CALLABLE."""
    run_dir: Path = Path("runs/app")
    """Run directory: recordings, checkpoints and plots of this session (resumed if present)."""
    h: int | None = None
    """Pin the guide horizon h to this value (default: h follows the curriculum)."""
    h1: int | None = None
    """The curriculum's starting horizon H1 (default: measured from the guide; 180 for a human)."""
    strategy: Literal["curriculum", "random", "none"] = "curriculum"
    """How h changes: JSRL-Curriculum, JSRL-Random, or none (h = 0, the explorer alone)."""
    guide_rate: float = 20.0
    """Pace (steps per second of wall time) of the guide segment and of human control."""
    hold_to_run: bool = True
    """While you drive, the sim advances only while you move the hand (a motion key held, a
    stick pushed); let go to stop the clock and look (--no-hold-to-run: it runs on)."""
    explorer_rate: float = 60.0
    """Pace (steps per second) of the explorer segment; = / - change it while it runs."""
    palm_speed: float = 0.75
    """Palm speed (m/s of sim time) per held key / full stick (the keyboard's default). Much
    slower and the reach alone uses up the 200-step episode (2 s of simulated time)."""
    twist_speed: float = 6.0
    """Twist rate (rad/s) per held arrow key / full stick (the keyboard's default)."""
    wait_for_start: bool | None = None
    """Wait for START (Return / Start button) before each episode (default: with a human guide)."""
    episode_pause_s: float = 1.0
    """Seconds a finished episode stays on screen before the next one starts."""
    learner: bool = True
    """Train the explorer in a background thread while the window runs."""
    record: bool = True
    """Record every episode to RUN_DIR/episodes/door-app-v0 (a Minari dataset)."""
    seed: int = 0
    """Run seed: episodes, networks and the guide (the same seed scheme as ``train``)."""
    guide_episodes: int = 5
    """Guide-only episodes run headless at start to measure a non-human guide's H1."""
    warmup_steps: int = 1000
    """Env steps collected before the learner starts updating."""
    view_size: int = 480
    """Size (pixels) of the square MuJoCo view."""
    antialias: int = 0
    """MSAA samples of the view (0 = off: twice as fast with software GL; 4 or 8 look smoother)."""
    fps_limit: int = 40
    """Most frames per second (each frame costs the learner thread a little of the GIL)."""
    render_hz: float = 30.0
    """Most scene renders per second (software GL renders cost ~20 ms; HUD frames ~1 ms)."""
    inset: bool = True
    """Show a small view from above in the view's bottom-right corner (the palm's distance to
    the handle, the door's swing), rendered by the same renderer at a third of the view's width
    (160x120 at 480); --no-inset hides it."""
    inset_every: int = 2
    """Render the inset with every k-th scene frame: a 160x120 inset costs about half a 480 px
    frame with software GL (the meshes, not the pixels, dominate), so every 2nd by default."""
    render_process: bool = True
    """Render the scene in a child process (MuJoCo's renderer holds the GIL, which would stall
    the learner thread); falls back to in-process rendering if the child cannot start."""
    render_nice: int = 10
    """CPU niceness of the render process: on a busy machine the learner keeps its share and
    the view updates less often (0 = same priority as the app)."""
    imitate_after: int = 3
    """After this many episodes you guide, an imitation guide trains on them in the background
    and takes over the guide role (DAgger: your takeovers teach it); 0 = off. I toggles it."""
    imitate_steps: int = 2000
    """Behaviour-cloning steps of each imitation training round (batch 128, one thread)."""
    max_frames: int | None = None
    """Stop after this many frames (tests, benchmarks, screenshots); default: run until closed."""
    fixed_steps_per_frame: int = 0
    """When > 0, exactly this many env steps per running frame, ignoring the wall clock."""

    def check(self) -> None:
        """Raise :class:`~sim.errors.UserError` for a bad value (``run_app`` calls it)."""
        _check(self.h is None or 0 <= self.h <= 200, f"--h must be in [0, 200], got {self.h}")
        _check(self.h1 is None or 1 <= self.h1 <= 200, f"--h1 must be in [1, 200], got {self.h1}")
        _check(
            0.0 < self.palm_speed <= 2.0, f"--palm-speed must be in (0, 2], got {self.palm_speed}"
        )
        _check(
            0.0 < self.twist_speed <= 20.0,
            f"--twist-speed must be in (0, 20], got {self.twist_speed}",
        )
        for name in ("guide_rate", "explorer_rate"):
            rate = getattr(self, name)
            _check(
                1.0 <= rate <= 2000.0,
                f"--{name.replace('_', '-')} must be in [1, 2000], got {rate}",
            )
        _check(self.view_size >= 240, f"--view-size must be >= 240, got {self.view_size}")
        _check(
            0.0 <= self.episode_pause_s <= 60.0,
            f"--episode-pause-s must be in [0, 60], got {self.episode_pause_s}",
        )
        _check(
            self.antialias in (0, 2, 4, 8),
            f"--antialias must be 0, 2, 4 or 8, got {self.antialias}",
        )
        _check(
            0 <= self.render_nice <= 19, f"--render-nice must be in [0, 19], got {self.render_nice}"
        )
        _check(self.fps_limit >= 1, f"--fps-limit must be >= 1, got {self.fps_limit}")
        _check(
            1 <= self.inset_every <= 60, f"--inset-every must be in [1, 60], got {self.inset_every}"
        )
        _check(
            1.0 <= self.render_hz <= 240.0, f"--render-hz must be in [1, 240], got {self.render_hz}"
        )
        _check(
            self.guide_episodes >= 1, f"--guide-episodes must be >= 1, got {self.guide_episodes}"
        )
        _check(self.warmup_steps >= 0, f"--warmup-steps must be >= 0, got {self.warmup_steps}")
        _check(self.imitate_after >= 0, f"--imitate-after must be >= 0, got {self.imitate_after}")
        _check(
            1 <= self.imitate_steps <= 100_000,
            f"--imitate-steps must be in [1, 100000], got {self.imitate_steps}",
        )
        _check(
            self.max_frames is None or self.max_frames >= 1,
            f"--max-frames must be >= 1, got {self.max_frames}",
        )
        _check(
            self.fixed_steps_per_frame >= 0,
            f"--fixed-steps-per-frame must be >= 0, got {self.fixed_steps_per_frame}",
        )


@dataclass(frozen=True)
class ReplayConfig:
    """Play recorded episodes with the same view and timeline."""

    dataset: tyro.conf.Positional[Path]
    """Dataset directory."""
    episode: int = 0
    """Episode to start from."""
    rate: float = 50.0
    """Playback pace (steps per second); = / - change it."""
    view_size: int = 480
    """Size (pixels) of the square MuJoCo view."""
    antialias: int = 0
    """MSAA samples of the view (0 = off: twice as fast with software GL)."""
    paused: bool = False
    """Start paused (Space plays)."""
    max_frames: int | None = None
    """Stop after this many frames (tests); default: run until closed."""
    video: Path | None = None
    """Write the episode to this .mp4 file instead of opening the viewer (headless; at the
    real pace: --rate 100 steps/s unless given)."""

    def check(self) -> None:
        """Raise :class:`~sim.errors.UserError` for a bad value (``run_replay`` calls it)."""
        _check(self.episode >= 0, f"--episode must be >= 0, got {self.episode}")
        _check(0.5 <= self.rate <= 2000.0, f"--rate must be in [0.5, 2000], got {self.rate}")
        _check(self.view_size >= 240, f"--view-size must be >= 240, got {self.view_size}")
        _check(
            self.max_frames is None or self.max_frames >= 1,
            f"--max-frames must be >= 1, got {self.max_frames}",
        )
