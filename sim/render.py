"""Offscreen rendering of the door scene: RGB arrays from a fixed camera, shadows off.

The caller owns physics: :meth:`DoorRenderer.render` reads a ``MjData`` and never steps it.
Software GL on this class of machine is 3x faster with shadows off, so they are off by default.
"""

from __future__ import annotations

import atexit
import weakref
from dataclasses import dataclass

import mujoco
import numpy as np


@dataclass(frozen=True)
class CameraView:
    """A free camera aimed at the hand and the door."""

    lookat: tuple[float, float, float] = (0.0, -0.05, 0.3)
    """World point the camera looks at (m)."""
    distance: float = 1.05
    """Distance from the look-at point (m)."""
    azimuth: float = 135.0
    """Horizontal angle (deg)."""
    elevation: float = -25.0
    """Vertical angle (deg); negative looks down."""

    def apply(self, camera: mujoco.MjvCamera) -> None:
        """Place a free ``MjvCamera`` at this view."""
        camera.lookat[:] = self.lookat
        camera.distance, camera.azimuth, camera.elevation = (
            self.distance,
            self.azimuth,
            self.elevation,
        )


class DoorRenderer:
    """Renders RGB frames of a door model; close it (or let it close at exit) exactly once.

    Args:
        model: The ``MjModel`` to render.
        width: Frame width in pixels.
        height: Frame height in pixels.
        shadows: Render shadows (about 3x slower with software GL).
        view: The camera placement.

    """

    def __init__(
        self,
        model: mujoco.MjModel,
        width: int = 480,
        height: int = 480,
        shadows: bool = False,
        view: CameraView | None = None,
    ) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        # The offscreen buffer caps the size; grow it when asked for more.
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, height)
        self.width, self.height, self.shadows = width, height, shadows
        self._renderer: mujoco.Renderer | None = mujoco.Renderer(model, height, width)
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        (view or CameraView()).apply(self.camera)
        # Close before the interpreter tears GL down, or EGL/OSMesa raise at exit.
        self._finalizer = weakref.finalize(self, _close_renderer, self._renderer)
        atexit.register(self._finalizer)

    def render(self, data: mujoco.MjData) -> np.ndarray:
        """Return an ``(height, width, 3)`` uint8 frame of ``data`` (read only)."""
        if self._renderer is None:
            raise RuntimeError("DoorRenderer.render() called after close()")
        self._renderer.update_scene(data, camera=self.camera)
        self._renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = int(self.shadows)
        return self._renderer.render()

    def close(self) -> None:
        """Free the GL context; safe to call more than once."""
        self._finalizer()
        self._renderer = None

    def __enter__(self) -> DoorRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close_renderer(renderer: mujoco.Renderer) -> None:
    renderer.close()
