"""The side panel (who acts, step, h, stage, plot, learner, recording) and the help overlay.

The loop builds a :class:`HudState` each frame from the session, the runner, the curriculum,
the learner and the recorder; :class:`Hud` only draws it. Nothing here reads the sim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pygame

from app import theme
from app.overlay import wrap_text
from app.plot import HorizonPlot
from app.session import Phase
from app.theme import Fonts, TextCache
from episode.milestones import UNLATCH_LATCH as UNLATCH_ANGLE
from episode.types import Actor
from guides.dagger import DaggerStatus, describe_status
from sim.door import OBS_HINGE, OBS_LATCH, OBS_PALM_TO_HANDLE, SUCCESS_HINGE_ANGLE
from teleop import gamepad, keyboard


@dataclass(frozen=True)
class LearnerView:
    """The learner thread's status as the HUD shows it."""

    updates: int = 0
    """Gradient updates so far."""
    updates_per_s: float = 0.0
    """Recent update rate."""
    version: int = 0
    """Newest published weight version."""
    explorer_version: int = 0
    """Weight version the explorer acts with."""
    losses: dict[str, float] = field(default_factory=dict)
    """Latest losses and stats (critic_loss, actor_loss, alpha, ...)."""
    online: int = 0
    """Transitions in the online replay buffer."""
    offline: int = 0
    """Transitions in the offline (recordings) buffer."""
    warmup: int = 0
    """Online transitions needed before updates start."""
    error: str | None = None
    """The thread's error, if it died."""


@dataclass(frozen=True)
class RecordingView:
    """The recorder's status as the HUD shows it."""

    dataset: str = ""
    """Dataset directory name (empty: not recording)."""
    episodes: int = 0
    """Episodes in the dataset, written and flushed (earlier sessions' included)."""
    steps: int = 0
    """Steps in them."""
    error: str | None = None
    """The recorder thread's error, if it failed."""


@dataclass(frozen=True)
class DoorGauges:
    """How far the task has come, read from the observation (the panel's gauges)."""

    latch: float
    """Latch angle (rad); the door is free past :data:`UNLATCH_ANGLE`."""
    hinge: float
    """Door angle (rad); open at :data:`sim.door.SUCCESS_HINGE_ANGLE`."""
    reach_cm: float
    """Palm to handle distance (cm)."""

    @classmethod
    def from_obs(cls, obs: np.ndarray) -> DoorGauges:
        """Read the gauges from a 39-D door observation."""
        o = np.asarray(obs, dtype=np.float64).reshape(-1)
        reach = float(np.linalg.norm(o[OBS_PALM_TO_HANDLE])) * 100.0
        return cls(float(o[OBS_LATCH]), float(o[OBS_HINGE]), reach)


@dataclass(frozen=True)
class HudState:
    """Everything the panel shows for one frame."""

    actor: Actor
    """Who acts at the next step."""
    guide_kind: str
    """The guide's kind (human, scripted, ...)."""
    phase: Phase
    """Session phase."""
    t: int
    """Steps taken in this episode."""
    steps: int
    """Steps per episode."""
    h: int
    """This episode's guide horizon."""
    h_pinned: bool
    """h is pinned by the user (else it follows the curriculum)."""
    h1: int
    """The curriculum's H1."""
    stage: int
    """Curriculum stage (0-based)."""
    n_stages: int
    """Number of stages."""
    strategy: str
    """Curriculum strategy."""
    reason: str
    """Why the curriculum did or did not advance."""
    rate: float
    """Steps per second of the segment running now."""
    episode: int
    """Episode number (1-based, this session)."""
    seed: int | None
    """The episode's reset seed."""
    last_result: str = ""
    """One line about the last finished episode."""
    next_guide: str = ""
    """Guide the next episode will use, when it differs from this one."""
    learner: LearnerView | None = None
    """Learner status (None: learner off)."""
    recording: RecordingView | None = None
    """Recorder status (None: not recording)."""
    imitation: DaggerStatus | None = None
    """The imitation guide's DAgger loop (None: off)."""
    message: str = ""
    """Notice from the session (paused, unplugged, ...)."""
    alert: str = ""
    """A lasting problem, drawn in red (e.g. the recorder failed)."""
    fps: float = 0.0
    """Frames per second of the window."""
    devices: str = ""
    """Connected input devices."""
    title: str = "Jump-Start Teleop"
    """Panel title (the replay viewer shows its dataset here)."""
    door: DoorGauges | None = None
    """Latch, hinge and reach of the current observation (None before the first episode)."""


@dataclass(frozen=True)
class ReplayState:
    """What the replay viewer's panel shows for one frame."""

    dataset: str
    """Dataset directory."""
    episode: int
    """Episode index shown."""
    episodes: int
    """Episodes in the dataset."""
    actor: Actor
    """Who chose the action at the cursor (the last step's actor at the end)."""
    t: int
    """Cursor: observations shown are after ``t`` steps."""
    steps: int
    """Steps in the episode."""
    h: int
    """The episode's guide horizon."""
    guide_kind: str
    """The episode's guide kind."""
    seed: int | None
    """The episode's reset seed."""
    weight_version: int
    """Explorer weights used."""
    playing: bool
    """Playing (else paused)."""
    rate: float
    """Playback pace (steps/s)."""
    success: bool
    """The door opened in this episode."""
    opened_at: int | None
    """Step at which it first counted as open."""
    score: float
    """Normalized score of the episode."""
    counts: dict[Actor, int]
    """Steps per actor in the episode."""
    restore_note: str = ""
    """How the door position was restored."""
    fps: float = 0.0
    """Frames per second."""


REACH_GAUGE_CM = 30.0
"""Palm-to-handle distance (cm) at which the reach gauge is empty (full at the handle)."""

IMITATION_ROWS = 38
"""Height (pixels) of the imitation lines on the panel."""

ACTOR_LABELS = {Actor.GUIDE: "GUIDE", Actor.EXPLORER: "EXPLORER", Actor.HUMAN: "HUMAN"}

APP_KEYS: tuple[tuple[str, str], ...] = (
    ("G", "next guide kind (from the next episode)"),
    ("I", "accept the imitation guide / guide yourself again"),
    ("[ / ]", "pin h 10 lower / higher"),
    ("C", "unpin h: follow the curriculum"),
    ("F12", "save a screenshot to the run directory"),
    ("drag / wheel", "orbit / zoom the view (V resets it)"),
)
"""App keys beyond the device bindings (help overlay)."""


class Hud:
    """Draws the side panel and the help overlay."""

    def __init__(self, fonts: Fonts, text: TextCache | None = None) -> None:
        self.fonts = fonts
        self.text = text or TextCache()

    # -- panel -------------------------------------------------------------------------------
    def draw_panel(
        self, surface: pygame.Surface, rect: pygame.Rect, state: HudState, plot: HorizonPlot
    ) -> None:
        """Draw the whole side panel for ``state`` into ``rect``."""
        pygame.draw.rect(surface, theme.PANEL, rect)
        pad = 14
        inner = pygame.Rect(rect.x + pad, rect.y + pad, rect.w - 2 * pad, rect.h - 2 * pad)
        y = self._header(surface, inner, state)
        y = self._badge(surface, inner, y, state)
        y = self._episode(surface, inner, y + 10, state)
        y = self._section(surface, inner, y + 10, "HORIZON OVER EPISODES")
        extra = 0 if state.imitation is None else IMITATION_ROWS
        plot_h = max(110 - extra, min(170, inner.bottom - y - 150 - extra))
        plot.draw(surface, pygame.Rect(inner.x, y, inner.w, plot_h), self.fonts, self.text)
        y = self._learner(surface, inner, y + plot_h + 10, state.learner)
        y = self._recording(surface, inner, y + 8, state.recording)
        if state.imitation is not None:
            self._imitation(surface, inner, y + 4, state.imitation)
        self._footer(surface, inner, state)

    def _header(self, surface: pygame.Surface, r: pygame.Rect, s: HudState) -> int:
        f, t = self.fonts, self.text
        right = "  ·  ".join(x for x in (s.devices, f"{s.fps:.0f} FPS" if s.fps else "") if x)
        box = t.blit(surface, right, f.small, theme.DIM, (r.right, r.y + 1), "topright")
        title = t.fit(s.title, f.bold, r.w - box.w - 12)
        t.blit(surface, title, f.bold, theme.DIM, r.topleft)
        return r.y + 22

    def _badge(self, surface: pygame.Surface, r: pygame.Rect, y: int, s: HudState) -> int:
        f, t = self.fonts, self.text
        color = theme.ACTOR_COLORS[s.actor]
        badge = pygame.Rect(r.x, y, r.w, 44)
        pygame.draw.rect(surface, color, badge, border_radius=8)
        label = ACTOR_LABELS[s.actor]
        if s.actor is Actor.GUIDE:
            label += f"  ·  {s.guide_kind}"
        elif s.actor is Actor.HUMAN:
            label += "  ·  intervention"
        t.blit(surface, label, f.big, (18, 20, 24), (badge.x + 14, badge.centery), "midleft")
        phase = s.phase.value.upper()
        t.blit(surface, phase, f.bold, (18, 20, 24), (badge.right - 12, badge.centery), "midright")
        return badge.bottom

    def _episode(self, surface: pygame.Surface, r: pygame.Rect, y: int, s: HudState) -> int:
        f, t = self.fonts, self.text
        t.blit(surface, f"step {s.t} / {s.steps}", f.big, theme.TEXT, (r.x, y))
        t.blit(surface, f"{s.rate:.0f} steps/s", f.body, theme.DIM, (r.right, y + 4), "topright")
        y += 30
        if s.door is not None:
            y = self._gauges(surface, r, y, s.door)
        h_label = f"{s.h}  (pinned)" if s.h_pinned else f"{s.h}"
        rows = (
            ("h", h_label, "H1", f"{s.h1}"),
            ("stage", f"{s.stage + 1} / {s.n_stages}", "strategy", s.strategy),
            ("guide", s.guide_kind, "episode", f"{s.episode}  (seed {s.seed})"),
        )
        col = r.w // 2
        for row in rows:
            for k in range(2):
                x = r.x + k * col
                t.blit(surface, row[2 * k], f.small, theme.DIM, (x, y + 2))
                value = t.fit(row[2 * k + 1], f.body, col - 70)
                t.blit(surface, value, f.body, theme.TEXT, (x + 58, y))
            y += 21
        lines = wrap_text(s.reason, f.small, r.w, 2)  # the curriculum's reason, whole
        if s.next_guide:
            lines.append(f"next episode: guide {s.next_guide}")
        if s.last_result:
            lines.append(s.last_result)
        for line in lines:
            t.blit(surface, t.fit(line, f.small, r.w), f.small, theme.DIM, (r.x, y))
            y += 16
        return y

    def _gauges(self, surface: pygame.Surface, r: pygame.Rect, y: int, d: DoorGauges) -> int:
        """Three bars: the latch to its unlatch angle, the door to open, the palm to the handle."""
        f, t = self.fonts, self.text
        col = r.w // 3
        reach_share = 1.0 - min(1.0, d.reach_cm / REACH_GAUGE_CM)
        bars = (
            (f"latch {d.latch:.2f}/{UNLATCH_ANGLE:.2f}", d.latch / UNLATCH_ANGLE),
            (f"door {d.hinge:.2f}/{SUCCESS_HINGE_ANGLE:.2f}", d.hinge / SUCCESS_HINGE_ANGLE),
            (f"reach {d.reach_cm:.1f} cm", reach_share),
        )
        for k, (label, share) in enumerate(bars):
            x = r.x + k * col
            t.blit(surface, t.fit(label, f.small, col - 8), f.small, theme.DIM, (x, y))
            bar = pygame.Rect(x, y + 15, col - 10, 6)
            pygame.draw.rect(surface, theme.CARD, bar, border_radius=3)
            share = min(1.0, max(0.0, share))
            color = theme.PLOT_SUCCESS if share >= 1.0 else theme.TEXT
            fill = pygame.Rect(bar.x, bar.y, max(1, round(bar.w * share)), bar.h)
            pygame.draw.rect(surface, color, fill, border_radius=3)
        return y + 26

    def _section(self, surface: pygame.Surface, r: pygame.Rect, y: int, title: str) -> int:
        self.text.blit(surface, title, self.fonts.bold, theme.DIM, (r.x, y))
        return y + 20

    def _section_state(
        self, surface: pygame.Surface, r: pygame.Rect, y: int, title: str, view: Any
    ) -> tuple[int, bool]:
        """Draw a worker's section title, then "off" or its error; True when that was all."""
        f, t = self.fonts, self.text
        y = self._section(surface, r, y, title)
        if view is None:
            t.blit(surface, "off", f.body, theme.DIM, (r.x, y))
            return y + 20, True
        if view.error:
            for line in wrap_text(f"FAILED: {view.error}", f.small, r.w, 3):
                t.blit(surface, line, f.small, theme.ERROR, (r.x, y))
                y += 16
            return y, True
        return y, False

    def _learner(
        self, surface: pygame.Surface, r: pygame.Rect, y: int, learner: LearnerView | None
    ) -> int:
        f, t = self.fonts, self.text
        y, done = self._section_state(surface, r, y, "LEARNER", learner)
        if done or learner is None:
            return y
        if learner.updates == 0 and learner.online < learner.warmup:
            head = f"warming up: {learner.online:,} / {learner.warmup:,} transitions"
        else:
            head = (
                f"{learner.updates:,} updates  ·  {learner.updates_per_s:.0f}/s  ·  "
                f"weights v{learner.version} (explorer v{learner.explorer_version})"
            )
        t.blit(surface, t.fit(head, f.body, r.w), f.body, theme.TEXT, (r.x, y))
        y += 19
        names = (("critic_loss", "critic"), ("actor_loss", "actor"), ("alpha", "α"))
        parts = [f"{label} {learner.losses[k]:.3g}" for k, label in names if k in learner.losses]
        parts.append(f"replay {learner.online:,} + {learner.offline:,} offline")
        t.blit(surface, t.fit("  ·  ".join(parts), f.small, r.w), f.small, theme.DIM, (r.x, y))
        return y + 17

    def _recording(
        self, surface: pygame.Surface, r: pygame.Rect, y: int, rec: RecordingView | None
    ) -> int:
        f, t = self.fonts, self.text
        y, done = self._section_state(surface, r, y, "RECORDING", rec)
        if done or rec is None:
            return y
        line = f"{rec.dataset}  ·  {rec.episodes:,} episodes  ·  {rec.steps:,} steps"
        t.blit(surface, t.fit(line, f.body, r.w), f.body, theme.TEXT, (r.x, y))
        return y + 20

    def _imitation(self, surface: pygame.Surface, r: pygame.Rect, y: int, s: DaggerStatus) -> int:
        f, t = self.fonts, self.text
        head = self.text.blit(surface, "IMITATION", f.bold, theme.DIM, (r.x, y))
        state, data = describe_status(s)
        color = theme.ERROR if s.error else theme.TEXT
        x = head.right + 10
        t.blit(surface, t.fit(state, f.body, r.right - x), f.body, color, (x, y))
        if data:
            t.blit(surface, t.fit(data, f.small, r.w), f.small, theme.DIM, (r.x, y + 19))
        return y + IMITATION_ROWS

    def _footer(self, surface: pygame.Surface, r: pygame.Rect, s: HudState) -> None:
        f, t = self.fonts, self.text
        hint = "F1 / H  help   ·   Tab  take over   ·   G  guide   ·   [ ]  pin h"
        y = r.bottom - 14
        t.blit(surface, t.fit(hint, f.small, r.w), f.small, theme.DIM, (r.x, y))
        line, color = (s.alert, theme.ERROR) if s.alert else (s.message, theme.WARN)
        if line:
            t.blit(surface, t.fit(line, f.body, r.w), f.body, color, (r.x, y - 22))

    # -- replay panel --------------------------------------------------------------------------
    def draw_replay_panel(
        self, surface: pygame.Surface, rect: pygame.Rect, s: ReplayState, plot: HorizonPlot
    ) -> None:
        """Draw the replay viewer's side panel."""
        f, t = self.fonts, self.text
        pygame.draw.rect(surface, theme.PANEL, rect)
        pad = 14
        r = pygame.Rect(rect.x + pad, rect.y + pad, rect.w - 2 * pad, rect.h - 2 * pad)
        header = HudState(
            actor=s.actor, guide_kind=s.guide_kind, phase=Phase.RUNNING, t=s.t, steps=s.steps,
            h=s.h, h_pinned=False, h1=0, stage=0, n_stages=1, strategy="", reason="", rate=s.rate,
            episode=s.episode, seed=s.seed, fps=s.fps, title=f"REPLAY  {s.dataset}",
        )  # fmt: skip
        y = self._header(surface, r, header)
        badge = pygame.Rect(r.x, y, r.w, 44)
        pygame.draw.rect(surface, theme.ACTOR_COLORS[s.actor], badge, border_radius=8)
        label = ACTOR_LABELS[s.actor] + (f"  ·  {s.guide_kind}" if s.actor is Actor.GUIDE else "")
        dark = (18, 20, 24)
        t.blit(surface, label, f.big, dark, (badge.x + 14, badge.centery), "midleft")
        state = "PLAYING" if s.playing else "PAUSED"
        t.blit(surface, state, f.bold, dark, (badge.right - 12, badge.centery), "midright")
        y = badge.bottom + 10
        t.blit(surface, f"step {s.t} / {s.steps}", f.big, theme.TEXT, (r.x, y))
        t.blit(surface, f"{s.rate:.0f} steps/s", f.body, theme.DIM, (r.right, y + 4), "topright")
        y += 30
        opened = f"opened at step {s.opened_at}" if s.opened_at is not None else "stayed shut"
        rows = (
            # 1-based as in the app and its plot; the dataset's id (--episode) beside it
            ("episode", f"{s.episode + 1} of {s.episodes} (id {s.episode})", "seed", f"{s.seed}"),
            ("h", f"{s.h}", "guide", s.guide_kind),
            ("door", opened, "score", f"{s.score:.0f}"),
            ("weights", f"v{s.weight_version}", "", ""),
        )
        col = r.w // 2
        for row in rows:
            for k in range(2):
                x = r.x + k * col
                t.blit(surface, row[2 * k], f.small, theme.DIM, (x, y + 2))
                t.blit(surface, t.fit(row[2 * k + 1], f.body, col - 70), f.body, theme.TEXT,
                       (x + 58, y))  # fmt: skip
            y += 21
        steps = "   ".join(f"{a.name.lower()} {s.counts.get(a, 0)}" for a in Actor)
        t.blit(surface, f"steps by actor:  {steps}", f.small, theme.DIM, (r.x, y))
        y += 16
        if s.restore_note:
            t.blit(surface, t.fit(s.restore_note, f.small, r.w), f.small, theme.DIM, (r.x, y))
            y += 16
        y = self._section(surface, r, y + 10, "HORIZON OVER THE DATASET'S EPISODES")
        plot_h = max(110, min(190, r.bottom - y - 40))
        plot.draw(surface, pygame.Rect(r.x, y, r.w, plot_h), f, t)
        hint = "Space play  ·  arrows step  ·  N / B episode  ·  F1 help"
        t.blit(surface, t.fit(hint, f.small, r.w), f.small, theme.DIM, (r.x, r.bottom - 14))

    # -- help ----------------------------------------------------------------------------------
    def draw_help(
        self,
        surface: pygame.Surface,
        blocks: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] | None = None,
        title: str = "Keys and gamepad (F1 or H closes)",
    ) -> None:
        """Draw the help overlay over the whole window (default: every app binding).

        Args:
            surface: The window.
            blocks: (title, rows of (keys, what)) per block; the first goes left, the rest right.
            title: Overlay title.

        """
        f, t = self.fonts, self.text
        if blocks is None:
            blocks = (
                ("KEYBOARD", keyboard.HELP_LINES),
                ("GAMEPAD", gamepad.HELP_LINES),
                ("APP", APP_KEYS),
            )
        w, h = surface.get_size()
        shade = pygame.Surface((w, h), pygame.SRCALPHA)
        shade.fill((12, 13, 16, 228))
        surface.blit(shade, (0, 0))
        t.blit(surface, title, f.big, theme.TEXT, (w // 2, 16), "midtop")
        col_w = (w - 60) // 2
        left = pygame.Rect(20, 58, col_w, h - 70)
        right = pygame.Rect(40 + col_w, 58, col_w, h - 70)
        self._help_block(surface, left, left.y, *blocks[0])
        y = right.y
        for block in blocks[1:]:
            y = self._help_block(surface, right, y, *block) + 14

    def _help_block(
        self,
        surface: pygame.Surface,
        r: pygame.Rect,
        y: int,
        title: str,
        lines: tuple[tuple[str, str], ...],
    ) -> int:
        f, t = self.fonts, self.text
        t.blit(surface, title, f.bold, theme.ACTOR_COLORS[Actor.GUIDE], (r.x, y))
        y += 22
        key_w = max(f.bold.size(keys)[0] for keys, _ in lines) + 16
        for keys, what in lines:
            t.blit(surface, keys, f.bold, theme.TEXT, (r.x, y))
            what = t.fit(what, f.small, r.w - key_w)
            t.blit(surface, what, f.small, theme.DIM, (r.x + key_w, y + 1))
            y += 19
        return y
