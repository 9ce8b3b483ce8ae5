"""The MuJoCo view as a pygame surface: re-rendered when the sim moved, paced, off-thread.

Rendering goes to a child process (:mod:`app.render_worker`) when asked and available, else it
happens in-process. Either way the view is re-rendered only when the sim moved (or the camera),
at most ``render_hz`` times a second; in between, the last frame is shown again.
"""

from __future__ import annotations

import logging
import time

import mujoco
import numpy as np
import pygame

from app.camera import SCENE_VIEW
from app.layout import frame_to_surface
from app.render_worker import RenderProcess, SceneState
from sim.render import DoorRenderer

log = logging.getLogger(__name__)


class SceneView:
    """The view of one door env.

    Args:
        env: The door env (its ``unwrapped.model`` / ``data`` are read, never stepped).
        size: View size in pixels (square).
        render_hz: Most renders per second.
        antialias: MSAA samples.
        use_process: Render in a child process (falls back to in-process if it fails).
        render_nice: Niceness of the render process (CPU priority below the learner's).

    """

    def __init__(
        self,
        env: object,
        size: int,
        render_hz: float = 30.0,
        antialias: int = 0,
        use_process: bool = True,
        render_nice: int = 10,
    ) -> None:
        base = env.unwrapped  # type: ignore[attr-defined]
        self.model: mujoco.MjModel = base.model
        self.data: mujoco.MjData = base.data
        self.model.vis.quality.offsamples = antialias  # MSAA costs 2x with software GL
        self.size, self.render_hz, self.antialias = size, render_hz, antialias
        self.camera = mujoco.MjvCamera()
        """The camera the mouse moves (copied to whichever renderer draws)."""
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self._door = self.model.body("frame").id
        self._local: DoorRenderer | None = None
        self.process: RenderProcess | None = None
        self.notice = ""
        """Set once when the render process failed and rendering moved in-process."""
        if use_process:
            self.process = RenderProcess(size, size, antialias, nice=render_nice)
            if not self.process.ok:
                self._fallback()
        self._surface: pygame.Surface | None = None
        self._dirty = True
        self._last = 0.0
        self.rendered = False
        """A new frame arrived since the last :meth:`take_rendered`."""

    @property
    def mode(self) -> str:
        """``process`` or ``in-process``."""
        return "process" if self.process is not None else "in-process"

    def mark_dirty(self) -> None:
        """The sim (or the camera) moved: render again when allowed."""
        self._dirty = True

    def take_rendered(self) -> bool:
        """Whether a new frame arrived since the last call."""
        rendered, self.rendered = self.rendered, False
        return rendered

    def surface(self, force: bool = False) -> pygame.Surface:
        """The newest frame; asks for a new one when the sim moved and ``render_hz`` allows.

        Args:
            force: Render the current state now and wait for it (screenshots).

        """
        now = time.perf_counter()
        due = force or now - self._last >= 1.0 / self.render_hz
        if self.process is not None:
            self._from_process(now, due, force)
        if self.process is None and (self._surface is None or (self._dirty and due)):
            self._show(self._local_renderer().render(self.data), now)
        assert self._surface is not None
        return self._surface

    def _from_process(self, now: float, due: bool, force: bool) -> None:
        proc = self.process
        assert proc is not None
        frame = proc.poll()
        if frame is not None:
            self._show(frame, None)
        if force or self._surface is None:
            frame = proc.render_now(self._state())
            if frame is not None:
                self._show(frame, now)
        elif self._dirty and due and proc.submit(self._state()):
            self._dirty, self._last = False, now
        if not proc.ok:
            self._fallback()

    def _show(self, frame: np.ndarray, now: float | None) -> None:
        self._surface = frame_to_surface(frame)
        self.rendered = True
        if now is not None:
            self._dirty, self._last = False, now

    def _state(self) -> SceneState:
        c = self.camera
        camera = (*(float(v) for v in c.lookat), float(c.distance), float(c.azimuth),
                  float(c.elevation))  # fmt: skip
        return SceneState(
            qpos=self.data.qpos.copy(),
            door_pos=self.model.body_pos[self._door].copy(),
            camera=camera,  # type: ignore[arg-type]
        )

    def _local_renderer(self) -> DoorRenderer:
        if self._local is None:
            self._local = DoorRenderer(self.model, self.size, self.size, view=SCENE_VIEW)
        self._local.camera.lookat[:] = self.camera.lookat
        self._local.camera.distance = self.camera.distance
        self._local.camera.azimuth = self.camera.azimuth
        self._local.camera.elevation = self.camera.elevation
        return self._local

    def _fallback(self) -> None:
        proc, self.process = self.process, None
        why = proc.error if proc is not None else "not started"
        self.notice = f"render process failed ({why}); rendering in the window's thread"
        log.warning("%s", self.notice)
        if proc is not None:
            proc.close()
        self._dirty = True

    def close(self) -> None:
        """Stop the render process and free the GL context; safe to call more than once."""
        if self.process is not None:
            self.process.close()
            self.process = None
        if self._local is not None:
            self._local.close()
            self._local = None
