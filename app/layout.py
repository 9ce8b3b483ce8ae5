"""Window layout shared by the app and the replay viewer: view left, timeline below, panel right."""

from __future__ import annotations

import numpy as np
import pygame

PANEL_WIDTH = 400
"""Width of the side panel (pixels)."""
TIMELINE_HEIGHT = 72
"""Height of the timeline under the view (pixels)."""
MIN_HEIGHT = 552
"""The panel's content needs this much height (a 480 view plus the timeline)."""


def window_size(view: int) -> tuple[int, int]:
    """Window size for a square view of ``view`` pixels."""
    return view + PANEL_WIDTH, max(MIN_HEIGHT, view + TIMELINE_HEIGHT)


def view_rect(view: int) -> pygame.Rect:
    """Where the MuJoCo view goes."""
    return pygame.Rect(0, 0, view, view)


def timeline_rect(view: int) -> pygame.Rect:
    """Where the timeline goes (under the view)."""
    return pygame.Rect(0, view, view, TIMELINE_HEIGHT)


def panel_rect(view: int) -> pygame.Rect:
    """Where the side panel goes."""
    w, h = window_size(view)
    return pygame.Rect(view, 0, w - view, h)


def frame_to_surface(frame: np.ndarray) -> pygame.Surface:
    """An RGB ``(h, w, 3)`` uint8 frame as a pygame surface in the display's pixel format.

    Converting once here makes the per-frame blit of a cached view a plain copy.
    """
    surface = pygame.image.frombuffer(frame.tobytes(), frame.shape[1::-1], "RGB")
    return surface.convert() if pygame.display.get_surface() is not None else surface
