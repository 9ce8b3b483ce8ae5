"""The MuJoCo view as a pygame surface: re-rendered when the sim moved, paced, off-thread.

Rendering goes to a child process (:mod:`app.render_worker`) when asked and available, else it
happens in-process. Either way the view is re-rendered only when the sim moved (or the camera),
at most ``render_hz`` times a second; in between, the last frame is shown again. The inset (a
small view from above, :data:`app.camera.INSET_VIEW`) is rendered with every ``inset_every``-th
scene frame, by the same renderer process.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import mujoco
import numpy as np
import pygame

from app.camera import INSET_VIEW, SCENE_VIEW
from app.layout import frame_to_surface
from app.render_worker import RenderProcess, SceneState
from sim.render import DoorRenderer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InsetOptions:
    """The small view from above in a corner of the scene view."""

    size: tuple[int, int] | None = None
    """Width and height in pixels; None: no inset."""
    every: int = 1
    """Render it with every k-th scene frame (1: with each)."""


class SceneView:
    """The view of one door env.

    Args:
        env: The door env (its ``unwrapped.model`` / ``data`` are read, never stepped).
        size: View size in pixels (square).
        render_hz: Most renders per second.
        antialias: MSAA samples.
        use_process: Render in a child process (falls back to in-process if it fails).
        render_nice: Niceness of the render process (CPU priority below the learner's).
        inset: The view from above (off by default).

    """

    def __init__(
        self,
        env: object,
        size: int,
        render_hz: float = 30.0,
        antialias: int = 0,
        use_process: bool = True,
        render_nice: int = 10,
        inset: InsetOptions | None = None,
    ) -> None:
        base = env.unwrapped  # type: ignore[attr-defined]
        self.model: mujoco.MjModel = base.model
        self.data: mujoco.MjData = base.data
        self.model.vis.quality.offsamples = antialias  # MSAA costs 2x with software GL
        self.size, self.render_hz, self.antialias = size, render_hz, antialias
        self.inset_options = inset or InsetOptions()
        self.camera = mujoco.MjvCamera()
        """The camera the mouse moves (copied to whichever renderer draws)."""
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        SCENE_VIEW.apply(self.camera)
        self._door = self.model.body("frame").id
        self._local: DoorRenderer | None = None
        self._local_inset: DoorRenderer | None = None
        self.process: RenderProcess | None = None
        self.notice = ""
        """Set once when the render process failed and rendering moved in-process."""
        if use_process:
            self.process = RenderProcess(size, size, antialias, nice=render_nice,
                                         inset=self.inset_options.size)  # fmt: skip
            if not self.process.ok:
                self._fallback()
        self._surface: pygame.Surface | None = None
        self._inset: pygame.Surface | None = None
        self._dirty = True
        self._last = 0.0
        self._renders = 0
        self._pending_qpos: np.ndarray | None = None
        self.shown_qpos: np.ndarray | None = None
        """The joint positions of the frame on screen (the state it was rendered from)."""
        self.rendered = False
        """A new frame arrived since the last :meth:`take_rendered`."""
        self.inset_renders = 0
        """Inset frames received so far."""

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
            force: Render the current state now and wait for it (screenshots, a new episode).

        """
        now = time.perf_counter()
        due = force or now - self._last >= 1.0 / self.render_hz
        if self.process is not None:
            self._from_process(now, due, force)
        if self.process is None and (self._surface is None or force or (self._dirty and due)):
            self._render_local(now, force)
        assert self._surface is not None
        return self._surface

    def inset_surface(self) -> pygame.Surface | None:
        """The newest frame of the view from above (None: off, or none rendered yet)."""
        return self._inset

    def _inset_due(self, force: bool) -> bool:
        opts = self.inset_options
        if opts.size is None:
            return False
        return force or self._inset is None or self._renders % opts.every == 0

    def _from_process(self, now: float, due: bool, force: bool) -> None:
        proc = self.process
        assert proc is not None
        frame = proc.poll()
        if frame is not None:
            self._show(frame, None)
        if force or self._surface is None:
            state = self._state(self._inset_due(True))
            frame = proc.render_now(state)
            if frame is not None:
                self._pending_qpos = state.qpos
                self._show(frame, now)
        elif self._dirty and due:
            state = self._state(self._inset_due(False))
            if proc.submit(state):
                self._pending_qpos = state.qpos
                self._dirty, self._last = False, now
        if not proc.ok:
            self._fallback()

    def _render_local(self, now: float, force: bool) -> None:
        qpos = self.data.qpos.copy()
        if self._inset_due(force or self._surface is None):
            self._set_inset(self._local_inset_renderer().render(self.data))
        self._pending_qpos = qpos
        self._show(self._local_renderer().render(self.data), now)

    def _show(self, frame: np.ndarray, now: float | None) -> None:
        self._surface = frame_to_surface(frame)
        self.shown_qpos = self._pending_qpos
        self._renders += 1
        proc = self.process
        if proc is not None and proc.inset is not None:
            self._set_inset(proc.inset)
            proc.inset = None
        self.rendered = True
        if now is not None:
            self._dirty, self._last = False, now

    def _set_inset(self, frame: np.ndarray) -> None:
        self._inset = frame_to_surface(frame)
        self.inset_renders += 1

    def _state(self, inset: bool) -> SceneState:
        c = self.camera
        camera = (*(float(v) for v in c.lookat), float(c.distance), float(c.azimuth),
                  float(c.elevation))  # fmt: skip
        return SceneState(
            qpos=self.data.qpos.copy(),
            door_pos=self.model.body_pos[self._door].copy(),
            camera=camera,  # type: ignore[arg-type]
            inset=inset,
        )

    def _local_renderer(self) -> DoorRenderer:
        if self._local is None:
            self._local = DoorRenderer(self.model, self.size, self.size, view=SCENE_VIEW)
        self._local.camera.lookat[:] = self.camera.lookat
        self._local.camera.distance = self.camera.distance
        self._local.camera.azimuth = self.camera.azimuth
        self._local.camera.elevation = self.camera.elevation
        return self._local

    def _local_inset_renderer(self) -> DoorRenderer:
        if self._local_inset is None:
            size = self.inset_options.size
            assert size is not None
            self._local_inset = DoorRenderer(self.model, *size, view=INSET_VIEW)
        return self._local_inset

    def _fallback(self) -> None:
        proc, self.process = self.process, None
        why = proc.error if proc is not None else "not started"
        self.notice = f"render process failed ({why}); rendering in the window's thread"
        log.warning("%s", self.notice)
        if proc is not None:
            proc.close()
        self._dirty = True

    def close(self) -> None:
        """Stop the render process and free the GL contexts; safe to call more than once."""
        if self.process is not None:
            self.process.close()
            self.process = None
        for renderer in (self._local, self._local_inset):
            if renderer is not None:
                renderer.close()
        self._local = self._local_inset = None
