"""The live plot of the guide horizon h over episodes, with the success moving average.

Drawn with pygame primitives into a cached surface that is redrawn only when an episode is
added (or the size changes), so it costs one blit per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pygame

from app import theme
from app.theme import Fonts, TextCache


@dataclass
class HorizonPlot:
    """History of (h, success) per episode, and its drawing."""

    window: int = 10
    """Episodes in the success moving average."""
    max_points: int = 400
    """Most recent episodes shown (older ones scroll off the left)."""
    h1: int | None = None
    """The guide's H1, drawn as a reference line (None: not drawn)."""
    hs: list[int] = field(default_factory=list)
    """Guide horizon of each finished episode."""
    successes: list[bool] = field(default_factory=list)
    """Whether the door was open at the end of each finished episode (the curriculum's
    success; an episode that opened it and let it shut again does not count)."""
    _version: int = 0
    _cache: pygame.Surface | None = None
    _cache_key: tuple[int, int, int] = (0, 0, -1)

    def add(self, h: int, success: bool) -> None:
        """Append one finished episode."""
        self.hs.append(int(h))
        self.successes.append(bool(success))
        self._version += 1

    def set_h1(self, h1: int | None) -> None:
        """Change the reference line."""
        if h1 != self.h1:
            self.h1 = h1
            self._version += 1

    def success_average(self) -> np.ndarray:
        """Trailing moving average of success (fraction) for each episode."""
        s = np.asarray(self.successes, dtype=np.float64)
        if len(s) == 0:
            return s
        c = np.concatenate(([0.0], np.cumsum(s)))
        idx = np.arange(1, len(s) + 1)
        lo = np.maximum(0, idx - self.window)
        return (c[idx] - c[lo]) / (idx - lo)

    def draw(
        self, surface: pygame.Surface, rect: pygame.Rect, fonts: Fonts, text: TextCache
    ) -> None:
        """Blit the plot into ``rect`` (redrawn only when the data or the size changed)."""
        key = (rect.w, rect.h, self._version)
        if self._cache is None or key != self._cache_key:
            self._cache = pygame.Surface(rect.size)
            self._render(self._cache, fonts, text)
            self._cache_key = key
        surface.blit(self._cache, rect)

    # -- rendering ---------------------------------------------------------------------------
    def _render(self, surf: pygame.Surface, fonts: Fonts, text: TextCache) -> None:
        surf.fill(theme.CARD)
        w, h = surf.get_size()
        area = pygame.Rect(34, 30, w - 34 - 38, h - 30 - 22)
        hs = np.asarray(self.hs[-self.max_points :], dtype=np.float64)
        avg = self.success_average()[-self.max_points :]
        first = len(self.hs) - len(hs)
        top = _nice_top(max([*hs.tolist(), self.h1 or 0, 10]))
        self._axes(surf, area, top, first, len(hs), fonts, text)
        self._legend(surf, fonts, text)
        if len(hs) == 0:
            msg = "h per episode appears here"
            text.blit(surf, msg, fonts.small, theme.DIM, area.center, "center")
            return
        n = len(hs)

        def xy(i: int, value: float, scale: float) -> tuple[int, int]:
            x = area.x + (area.w * (i + 0.5) / n if n < 2 else area.w * i / (n - 1))
            return round(x), round(area.bottom - area.h * value / scale)

        if self.h1:
            y = xy(0, self.h1, top)[1]
            for x in range(area.x, area.right, 8):
                pygame.draw.line(surf, theme.PLOT_H1, (x, y), (min(x + 4, area.right), y), 1)
            label = f"H1 = {self.h1}"
            text.blit(surf, label, fonts.small, theme.DIM, (area.right - 4, y + 3), "topright")
        avg_pts = [xy(i, a, 1.0) for i, a in enumerate(avg)]
        h_pts = [xy(i, v, top) for i, v in enumerate(hs)]
        if n >= 2:
            pygame.draw.lines(surf, theme.PLOT_SUCCESS, False, avg_pts, 2)
            pygame.draw.lines(surf, theme.PLOT_H, False, h_pts, 3)
        if n <= 80:
            succ = self.successes[first:]
            for p, ok in zip(h_pts, succ, strict=True):
                pygame.draw.circle(surf, theme.PLOT_H, p, 4 if ok else 3, 0 if ok else 1)
        else:
            pygame.draw.circle(surf, theme.PLOT_H, h_pts[-1], 4)

    def _axes(
        self,
        surf: pygame.Surface,
        area: pygame.Rect,
        top: int,
        first: int,
        n: int,
        fonts: Fonts,
        text: TextCache,
    ) -> None:
        for k in range(5):
            y = round(area.bottom - area.h * k / 4)
            pygame.draw.line(surf, theme.GRID, (area.x, y), (area.right, y), 1)
            text.blit(
                surf, f"{top * k // 4}", fonts.small, theme.PLOT_H, (area.x - 5, y), "midright"
            )
            pct = f"{25 * k}%"
            text.blit(surf, pct, fonts.small, theme.PLOT_SUCCESS, (area.right + 5, y), "midleft")
        lo, hi = first + 1, first + max(n, 1)
        y = area.bottom + 4
        text.blit(surf, f"episode {lo}", fonts.small, theme.DIM, (area.x, y))
        if hi > lo:
            text.blit(surf, f"{hi}", fonts.small, theme.DIM, (area.right, y), "topright")

    def _legend(self, surf: pygame.Surface, fonts: Fonts, text: TextCache) -> None:
        x, y = 10, 6
        pygame.draw.line(surf, theme.PLOT_H, (x, y + 7), (x + 16, y + 7), 3)
        r = text.blit(surf, "guide horizon h", fonts.small, theme.TEXT, (x + 22, y))
        x = r.right + 16
        pygame.draw.line(surf, theme.PLOT_SUCCESS, (x, y + 7), (x + 16, y + 7), 2)
        label = f"open at the end, last {self.window}"
        text.blit(surf, label, fonts.small, theme.TEXT, (x + 22, y))


def _nice_top(value: float) -> int:
    """A round axis top at or above ``value`` (20, 40, 60, 100, 120, 160, 200, then 50s)."""
    for top in (20, 40, 60, 100, 120, 160, 200):
        if value <= top:
            return top
    return int(math.ceil(value / 50.0) * 50)
