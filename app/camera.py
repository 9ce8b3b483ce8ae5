"""The scene cameras: a three-quarter framing of the hand and the door, and a view from above.

The main view looks from behind the hand's right shoulder, low enough that the gap between the
palm and the handle shows beside the handle rather than behind it (a camera straight behind the
hand flattens that depth). The mouse moves it: drag on the view to orbit, wheel to zoom, V to go
back to the framing. The inset looks straight down: the door at the top, the hand below it, so
the palm's distance to the handle and the door's swing read as on a map (+x right, +y up).
"""

from __future__ import annotations

import mujoco
import pygame

from sim.render import CameraView

SCENE_VIEW = CameraView(lookat=(0.06, -0.03, 0.22), distance=1.55, azimuth=35.0, elevation=-28.0)
"""Default framing: a three-quarter view of the table, the hand and the door, open or shut."""
INSET_VIEW = CameraView(lookat=(0.02, -0.06, 0.2), distance=1.3, azimuth=90.0, elevation=-89.0)
"""The inset's camera: straight down on the hand, the handle and the door's swing."""
INSET_MAX_WIDTH = 160
"""The inset's width at the default 480 px view (a third of the view at smaller sizes)."""

ORBIT_DEG_PER_PX = 0.35
"""Degrees of azimuth / elevation per pixel of mouse drag."""
ZOOM_PER_NOTCH = 0.92
"""Distance factor per mouse-wheel notch (up zooms in)."""


def inset_size(view_size: int) -> tuple[int, int]:
    """Width and height (4:3) of the inset in a view of ``view_size`` pixels."""
    width = min(INSET_MAX_WIDTH, view_size // 3)
    return width, width * 3 // 4


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
        self.home.apply(self.camera)

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
