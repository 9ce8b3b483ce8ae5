"""The episode timeline bar: who acted at each step, the handover at h, a cursor, the door opening.

:class:`EpisodeTrack` is the data (filled step by step in the app, loaded whole in the replay
viewer); :func:`draw_timeline` draws it. Steps already taken are coloured by who acted; steps
still to come are a faint preview of the plan (guide before ``h``, explorer after).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pygame

from app import theme
from app.theme import Fonts, TextCache
from episode.milestones import REACH_DISTANCE, UNLATCH_LATCH
from episode.types import Actor
from sim.door import (
    EPISODE_STEPS,
    OBS_HINGE,
    OBS_LATCH,
    OBS_PALM_TO_HANDLE,
    SUCCESS_HINGE_ANGLE,
    SUCCESS_OPEN_STEPS,
    episode_success,
)

NOT_YET = -1
"""Actor code of a step not taken yet."""


@dataclass
class EpisodeTrack:
    """Per-step record of one episode for the timeline."""

    h: int = 0
    """The episode's guide horizon."""
    steps: int = EPISODE_STEPS
    """Length of the bar in steps."""
    actors: np.ndarray = field(default_factory=lambda: np.full(EPISODE_STEPS, NOT_YET, np.int8))
    """Who acted at each step (an :class:`Actor` value), ``NOT_YET`` for steps to come."""
    t: int = 0
    """Steps taken (the cursor)."""
    opened_at: int | None = None
    """Step (1-based count) at which the door first counted as open, or None."""
    open_now: bool = False
    """The door is open after the last step taken."""
    open_steps: int = 0
    """Steps after which the door was open (D4RL's success needs 25)."""
    plan_explorer: bool = True
    """Steps at and after ``h`` are the explorer's (False: the guide acts the whole episode)."""
    reached_at: int | None = None
    """Step (1-based) at which the palm first reached the handle (from observations)."""
    unlatched_at: int | None = None
    """Step (1-based) at which the latch first came free (from observations)."""
    latch_max: float = 0.0
    """Largest latch angle seen (rad)."""
    hinge_max: float = 0.0
    """Largest door angle seen (rad)."""
    observed: bool = False
    """Observations came with the steps (so the banner can say how far the task came)."""
    guide_kind: str = ""
    """Who guides the episode (``human``: the legend says the guide steps are yours)."""

    def legend_name(self, actor: Actor) -> str:
        """The legend's word for ``actor``'s steps (a person's guide steps are "you")."""
        if actor is Actor.GUIDE:
            return "you (guide)" if self.guide_kind == "human" else "guide"
        return "takeover" if actor is Actor.HUMAN else "explorer"

    def reset(
        self, h: int, steps: int = EPISODE_STEPS, plan_explorer: bool = True, guide_kind: str = ""
    ) -> None:
        """Start a new episode (``guide_kind``: who guides it, for the legend)."""
        self.guide_kind = guide_kind
        self.h, self.steps, self.t, self.opened_at = h, steps, 0, None
        self.open_now, self.open_steps = False, 0
        self.plan_explorer = plan_explorer
        self.actors = np.full(steps, NOT_YET, np.int8)
        self.reached_at = self.unlatched_at = None
        self.latch_max = self.hinge_max = 0.0
        self.observed = False

    def record(self, t: int, actor: Actor, success: bool, obs: np.ndarray | None = None) -> None:
        """Note that ``actor`` took step ``t`` and whether the door was open after it.

        ``obs`` (the observation after the step, when given) tells how far the task came.
        """
        if not 0 <= t < self.steps:
            raise ValueError(f"step {t} outside the episode's {self.steps} steps")
        self.actors[t] = int(actor)
        self.t = t + 1
        if success and self.opened_at is None:
            self.opened_at = t + 1
        self.open_now = bool(success)
        self.open_steps += int(success)
        if obs is not None:
            self._progress(t + 1, np.asarray(obs, dtype=np.float64).reshape(-1))

    def _progress(self, steps_taken: int, o: np.ndarray) -> None:
        self.observed = True
        latch, hinge = float(o[OBS_LATCH]), float(o[OBS_HINGE])
        self.latch_max, self.hinge_max = max(self.latch_max, latch), max(self.hinge_max, hinge)
        if self.reached_at is None and np.linalg.norm(o[OBS_PALM_TO_HANDLE]) < REACH_DISTANCE:
            self.reached_at = steps_taken
        if self.unlatched_at is None and latch > UNLATCH_LATCH:
            self.unlatched_at = steps_taken

    def verdict(self) -> str:
        """The end-of-episode banner: what happened (D4RL's success or not), and why."""
        at, n = self.opened_at, self.open_steps
        if at is None:
            return f"The door stayed shut: {self._why_shut()}"
        if episode_success(n):
            if self.open_now:
                return f"Door open! (opened at step {at})"
            return f"Success, but the door shut again (opened at step {at}, open {n} steps)"
        short = f"open {n} of the {SUCCESS_OPEN_STEPS} steps that count"
        if self.open_now:
            return f"Door open at step {at}, too late to count ({short})"
        return f"Door opened briefly at step {at} ({short})"

    def _why_shut(self) -> str:
        """How far a shut door came: the latch, the hinge (from the observations seen)."""
        if self.unlatched_at is not None:
            return (
                f"latch freed at step {self.unlatched_at}, the door reached "
                f"{self.hinge_max:.2f} rad of {SUCCESS_HINGE_ANGLE}"
            )
        if self.reached_at is not None:
            return (
                f"handle reached at step {self.reached_at}, the latch turned "
                f"{self.latch_max:.2f} rad of the {UNLATCH_LATCH} that free it"
            )
        if not self.observed:
            return "the episode is over"  # no observations were given (nothing to explain)
        return "the hand never reached the handle"

    def planned(self, t: int) -> Actor:
        """Who is planned to act at step ``t``."""
        if self.plan_explorer and t >= self.h:
            return Actor.EXPLORER
        return Actor.GUIDE

    def counts(self) -> dict[Actor, int]:
        """Steps taken by each actor so far."""
        taken = self.actors[: self.t]
        return {a: int(np.count_nonzero(taken == int(a))) for a in Actor}


def runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs of equal values as ``(start, stop, value)``."""
    if len(values) == 0:
        return []
    edges = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [len(values)]))
    return [(int(a), int(b), int(values[a])) for a, b in zip(starts, stops, strict=True)]


def draw_timeline(
    surface: pygame.Surface,
    rect: pygame.Rect,
    track: EpisodeTrack,
    fonts: Fonts,
    text: TextCache,
    cursor: int | None = None,
) -> None:
    """Draw the timeline of ``track`` into ``rect`` (labels above, bar below).

    Args:
        surface: Target surface.
        rect: Where to draw.
        track: The episode's steps so far.
        fonts: Fonts.
        text: Text cache.
        cursor: Step the cursor marks (default: ``track.t``, the steps taken).

    """
    pygame.draw.rect(surface, theme.PANEL, rect)
    pad = 10
    bar = pygame.Rect(rect.x + pad, rect.y + 26, rect.w - 2 * pad, max(10, rect.h - 44))
    n = max(1, track.steps)

    def x_of(step: float) -> int:
        return bar.x + round(bar.w * min(max(step, 0), n) / n)

    pygame.draw.rect(surface, theme.CARD, bar)
    for start, stop, _ in _plan_runs(track):
        color = theme.dim(theme.ACTOR_COLORS[track.planned(start)], 0.32)
        pygame.draw.rect(surface, color, (x_of(start), bar.y, x_of(stop) - x_of(start), bar.h))
    for start, stop, value in runs(track.actors[: track.t]):
        color = theme.ACTOR_COLORS[Actor(value)]
        pygame.draw.rect(surface, color, (x_of(start), bar.y, x_of(stop) - x_of(start), bar.h))
    labels: list[tuple[int, pygame.Surface]] = []
    if track.plan_explorer and 0 < track.h < n:
        hx = x_of(track.h)
        pygame.draw.line(surface, theme.TEXT, (hx, bar.y - 4), (hx, bar.bottom + 3), 2)
        labels.append((hx, text.render(f"h = {track.h}", fonts.small, theme.TEXT)))
    if track.opened_at is not None:
        dx = x_of(track.opened_at - 0.5)
        _door_marker(surface, dx, bar)
        label = f"door open at {track.opened_at}"
        labels.append((dx, text.render(label, fonts.small, theme.DOOR_OPEN)))
    _place_labels(surface, labels, bar)
    cx = x_of(track.t if cursor is None else cursor)
    pygame.draw.line(surface, theme.CURSOR, (cx, bar.y - 6), (cx, bar.bottom + 5), 3)
    _legend(surface, rect, pad, track, fonts, text)


def _plan_runs(track: EpisodeTrack) -> list[tuple[int, int, int]]:
    t, n, h = track.t, track.steps, track.h
    if not track.plan_explorer:
        return [(t, n, int(Actor.GUIDE))] if t < n else []
    out = []
    if t < min(h, n):
        out.append((t, min(h, n), int(Actor.GUIDE)))
    if max(t, h) < n:
        out.append((max(t, h), n, int(Actor.EXPLORER)))
    return out


def _door_marker(surface: pygame.Surface, x: int, bar: pygame.Rect) -> None:
    top = bar.y - 2
    pygame.draw.line(surface, theme.DOOR_OPEN, (x, top), (x, bar.bottom), 2)
    pygame.draw.polygon(surface, theme.DOOR_OPEN, [(x, top), (x - 6, top - 9), (x + 6, top - 9)])


def _place_labels(
    surface: pygame.Surface, labels: list[tuple[int, pygame.Surface]], bar: pygame.Rect
) -> None:
    """Blit labels under the bar centred on their x, pushed apart where they would overlap."""
    labels = sorted(labels, key=lambda item: item[0])
    rects = [s.get_rect(midtop=(x, bar.bottom + 3)) for x, s in labels]
    for a, b in itertools.pairwise(rects):
        overlap = a.right + 8 - b.left
        if overlap > 0:
            a.x -= overlap // 2 + 1
            b.x += overlap - overlap // 2
    for rect in rects:
        rect.clamp_ip(bar.inflate(0, 60))
    for (_, label), rect in zip(labels, rects, strict=True):
        surface.blit(label, rect)


def _legend(
    surface: pygame.Surface,
    rect: pygame.Rect,
    pad: int,
    track: EpisodeTrack,
    fonts: Fonts,
    text: TextCache,
) -> None:
    text.blit(surface, "EPISODE", fonts.bold, theme.DIM, (rect.x + pad, rect.y + 6))
    counts = track.counts()
    x = rect.right - pad
    for actor in (Actor.HUMAN, Actor.EXPLORER, Actor.GUIDE):
        label = f"{track.legend_name(actor)} {counts[actor]}"
        r = text.blit(surface, label, fonts.small, theme.TEXT, (x, rect.y + 7), "topright")
        sw = pygame.Rect(r.x - 14, r.y + 3, 10, 10)
        pygame.draw.rect(surface, theme.ACTOR_COLORS[actor], sw)
        x = sw.x - 12
