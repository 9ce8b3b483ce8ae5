"""The scene camera: a framing that keeps the hand and the swinging door in view.

The mouse moves it: drag on the view to orbit, wheel to zoom, V to go back to the framing.
"""

from __future__ import annotations

import mujoco
import pygame

from sim.render import CameraView

SCENE_VIEW = CameraView(lookat=(0.03, -0.03, 0.27), distance=1.45, azimuth=130.0, elevation=-38.0)
"""Default framing: the table, the hand and the door, open or shut."""

ORBIT_DEG_PER_PX = 0.35
"""Degrees of azimuth / elevation per pixel of mouse drag."""
ZOOM_PER_NOTCH = 0.92
"""Distance factor per mouse-wheel notch (up zooms in)."""


class OrbitCamera:
    """Mouse control of a free ``MjvCamera`` over a view rectangle.

    Args:
        camera: The camera to move (``DoorRenderer.camera``).
        rect: The view's rectangle in the window (drags must start inside it).
        home: The framing ``V`` goes back to.

    """

    def __init__(
        self, camera: mujoco.MjvCamera, rect: pygame.Rect, home: CameraView = SCENE_VIEW
    ) -> None:
        self.camera, self.rect, self.home = camera, rect, home
        self._dragging = False
        self.reset()

    def reset(self) -> None:
        """Back to the home framing."""
        c, v = self.camera, self.home
        c.lookat[:] = v.lookat
        c.distance, c.azimuth, c.elevation = v.distance, v.azimuth, v.elevation

    def handle_event(self, event: pygame.event.Event) -> bool:
        """Apply a mouse event (or V); True when the camera moved (re-render the view)."""
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self._dragging = self.rect.collidepoint(event.pos)
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            self._dragging = False
        elif event.type == pygame.MOUSEMOTION and self._dragging:
            dx, dy = event.rel
            self.camera.azimuth = (self.camera.azimuth - ORBIT_DEG_PER_PX * dx) % 360.0
            elevation = self.camera.elevation - ORBIT_DEG_PER_PX * dy
            self.camera.elevation = max(-89.0, min(-5.0, elevation))
            return dx != 0 or dy != 0
        elif event.type == pygame.MOUSEWHEEL and self.rect.collidepoint(pygame.mouse.get_pos()):
            self.camera.distance = max(
                0.4, min(4.0, self.camera.distance * ZOOM_PER_NOTCH**event.y)
            )
            return event.y != 0
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_v:
            self.reset()
            return True
        return False
