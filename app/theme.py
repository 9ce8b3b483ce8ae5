"""Colours, fonts and a text cache shared by the HUD, the timeline, the plot and the help."""

from __future__ import annotations

from dataclasses import dataclass

import pygame

from episode.types import Actor

Color = tuple[int, int, int]

BACKGROUND: Color = (24, 26, 31)
"""Window background."""
PANEL: Color = (32, 35, 42)
"""Side panel and timeline background."""
CARD: Color = (40, 44, 52)
"""Background of boxed sections (plot, timeline track)."""
GRID: Color = (62, 67, 78)
"""Plot grid lines and separators."""
TEXT: Color = (222, 226, 232)
"""Main text."""
DIM: Color = (140, 147, 160)
"""Labels and secondary text."""
ERROR: Color = (240, 96, 88)
"""Errors from worker threads."""
WARN: Color = (236, 190, 90)
"""Notices (paused, unplugged)."""

ACTOR_COLORS: dict[Actor, Color] = {
    Actor.GUIDE: (74, 150, 235),
    Actor.EXPLORER: (88, 196, 110),
    Actor.HUMAN: (245, 160, 50),
}
"""Who acts: guide blue, explorer green, human orange (HUD badge, timeline)."""

PLOT_H: Color = (200, 120, 230)
"""The horizon line in the h-over-episodes plot (tests look for this colour)."""
PLOT_SUCCESS: Color = (120, 220, 150)
"""The success moving-average line in the plot."""
PLOT_H1: Color = (110, 116, 130)
"""The H1 reference line in the plot."""
DOOR_OPEN: Color = (255, 214, 70)
"""Marker where the door opened."""
CURSOR: Color = (250, 250, 250)
"""The timeline's current-step cursor."""


def dim(color: Color, factor: float = 0.35) -> Color:
    """A darker shade of ``color`` mixed towards the card background."""
    return tuple(int(c * factor + b * (1 - factor)) for c, b in zip(color, CARD, strict=True))  # type: ignore[return-value]


def _font(size: int, bold: bool = False) -> pygame.font.Font:
    for name in ("dejavusans", "liberationsans", "arial", "helvetica"):
        path = pygame.font.match_font(name, bold=bold)
        if path:
            return pygame.font.Font(path, size)
    font = pygame.font.Font(None, int(size * 1.3))
    font.set_bold(bold)
    return font


@dataclass
class Fonts:
    """The font sizes the app uses (DejaVu Sans when installed, pygame's own font otherwise)."""

    small: pygame.font.Font
    """Labels, plot ticks, help text."""
    body: pygame.font.Font
    """Values in the panel."""
    bold: pygame.font.Font
    """Section headers, keys in the help."""
    big: pygame.font.Font
    """The actor badge and the step counter."""

    @classmethod
    def load(cls, scale: float = 1.0) -> Fonts:
        """Load the fonts (pygame.font is initialised if needed)."""
        if not pygame.font.get_init():
            pygame.font.init()
        return cls(
            small=_font(round(12 * scale)),
            body=_font(round(14 * scale)),
            bold=_font(round(13 * scale), bold=True),
            big=_font(round(20 * scale), bold=True),
        )


class TextCache:
    """Renders text once per (text, font, colour); HUD strings repeat from frame to frame."""

    def __init__(self, limit: int = 2048) -> None:
        self._cache: dict[tuple[str, int, Color], pygame.Surface] = {}
        self._limit = limit

    def render(self, text: str, font: pygame.font.Font, color: Color) -> pygame.Surface:
        """The anti-aliased surface of ``text``."""
        key = (text, id(font), color)
        surf = self._cache.get(key)
        if surf is None:
            if len(self._cache) >= self._limit:
                self._cache.clear()
            surf = font.render(text, True, color)
            self._cache[key] = surf
        return surf

    def blit(
        self,
        target: pygame.Surface,
        text: str,
        font: pygame.font.Font,
        color: Color,
        pos: tuple[int, int],
        anchor: str = "topleft",
    ) -> pygame.Rect:
        """Draw ``text`` with its ``anchor`` point (a ``pygame.Rect`` attribute) at ``pos``."""
        surf = self.render(text, font, color)
        rect = surf.get_rect(**{anchor: pos})
        target.blit(surf, rect)
        return rect

    def fit(self, text: str, font: pygame.font.Font, width: int) -> str:
        """``text`` shortened with an ellipsis to fit ``width`` pixels."""
        if font.size(text)[0] <= width:
            return text
        while text and font.size(text + "…")[0] > width:
            text = text[:-1]
        return text + "…"
