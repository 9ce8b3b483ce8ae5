"""What is drawn over the MuJoCo view: the outline, the banner and the inset from above.

The outline has the colour of who acts; the banner is a headline and, below it, its reason,
wrapped to the view's width; the inset sits in the bottom-right corner with a thin frame and
its label.
"""

from __future__ import annotations

import pygame

from app import theme
from app.theme import Fonts, TextCache
from episode.types import Actor


def draw_view_frame(
    surface: pygame.Surface,
    rect: pygame.Rect,
    actor: Actor,
    banner: str,
    fonts: Fonts,
    text: TextCache,
) -> None:
    """Outline the view in the colour of who acts, with an optional banner at its top."""
    pygame.draw.rect(surface, theme.ACTOR_COLORS[actor], rect, 4)
    if not banner:
        return
    headline, detail = split_banner(banner)
    width = rect.width - 48
    labels = [text.render(text.fit(headline, fonts.big, width), fonts.big, theme.TEXT)]
    labels += [text.render(line, fonts.body, theme.TEXT) for line in wrap_text(detail, fonts.body,
                                                                          width, 2)]  # fmt: skip
    height = sum(label.get_height() for label in labels)
    box = pygame.Rect(0, 0, max(label.get_width() for label in labels), height)
    box.midtop = (rect.centerx, rect.y + 20)
    box = box.inflate(28, 14)
    shade = pygame.Surface(box.size, pygame.SRCALPHA)
    shade.fill((10, 11, 14, 190))
    surface.blit(shade, box)
    y = box.y + 7
    for label in labels:
        surface.blit(label, label.get_rect(midtop=(box.centerx, y)))
        y += label.get_height()


INSET_MARGIN = 10
"""Pixels between the inset and the view's edges."""
INSET_LABEL = "from above"
"""The inset's label (top-left, inside its frame)."""


def draw_inset(
    surface: pygame.Surface,
    view: pygame.Rect,
    inset: pygame.Surface | None,
    fonts: Fonts,
    text: TextCache,
) -> None:
    """The view from above in the view's bottom-right corner, framed and labelled (if any)."""
    if inset is None:
        return
    rect = inset.get_rect(bottomright=(view.right - INSET_MARGIN, view.bottom - INSET_MARGIN))
    surface.blit(inset, rect)
    pygame.draw.rect(surface, theme.DIM, rect.inflate(2, 2), 1)
    label = text.render(INSET_LABEL, fonts.small, theme.TEXT)
    box = label.get_rect(topleft=(rect.x + 1, rect.y + 1)).inflate(6, 2)
    box.topleft = rect.topleft
    shade = pygame.Surface(box.size, pygame.SRCALPHA)
    shade.fill((10, 11, 14, 170))
    surface.blit(shade, box)
    surface.blit(label, label.get_rect(center=box.center))


def split_banner(banner: str) -> tuple[str, str]:
    """A banner's headline and its detail: split at the first ": " or " (" (no detail: "")."""
    cuts = [i for i in (banner.find(": "), banner.find(" (")) if i > 0]
    if not cuts:
        return banner, ""
    i = min(cuts)
    detail = banner[i + 1 :].strip()
    if detail.startswith("(") and detail.endswith(")"):
        detail = detail[1:-1]
    return banner[:i], detail


def wrap_text(text: str, font: pygame.font.Font, width: int, max_lines: int) -> list[str]:
    """``text`` broken into at most ``max_lines`` lines of ``width`` pixels (an ellipsis if cut)."""
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if font.size(trial)[0] <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(0, len(lines[-1]) - 1)] + "…"
    return lines
