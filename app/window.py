"""The pygame window, and the GL / SDL settings that let it live beside MuJoCo's renderer.

MuJoCo renders offscreen (EGL, else OSMesa) and the frame is blitted into a pygame window.
A pygame X11 window with SDL's accelerated framebuffer makes its own GL context, which
clashes with MuJoCo's on the same thread; ``SDL_FRAMEBUFFER_ACCELERATION=0`` keeps SDL on a
plain software framebuffer. :func:`configure_graphics` picks these settings before mujoco or
the display are initialised, leaving alone anything the user set:

* ``MUJOCO_GL``: ``egl`` if libEGL is present, else ``osmesa`` (Linux only; MuJoCo's own
  default elsewhere), and ``PYOPENGL_PLATFORM`` to match;
* ``SDL_FRAMEBUFFER_ACCELERATION=0`` when a display is present;
* no display and no ``SDL_VIDEODRIVER``: :func:`open_window` refuses with a
  :class:`~sim.errors.UserError` rather than let SDL fall back to an invisible offscreen
  window. ``SDL_VIDEODRIVER=dummy`` runs the app without a visible window (tests, benchmarks,
  screenshots).
"""

from __future__ import annotations

import ctypes.util
import logging
import os
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.errors import UserError

if TYPE_CHECKING:
    import pygame

log = logging.getLogger(__name__)

HEADLESS_DRIVERS = ("dummy", "offscreen")
"""SDL video drivers that show nothing on screen."""


@dataclass(frozen=True)
class GraphicsSetup:
    """What :func:`configure_graphics` found and chose."""

    mujoco_gl: str
    """MuJoCo's GL backend (``egl``, ``osmesa``, ``glfw``, or empty for MuJoCo's default)."""
    display: bool
    """A desktop display is present (X11 or Wayland; always True off Linux)."""
    sdl_driver: str
    """``SDL_VIDEODRIVER`` as set (empty: SDL chooses)."""
    changed: tuple[str, ...]
    """Environment variables this call set (``NAME=value``)."""

    @property
    def headless(self) -> bool:
        """The window will not be visible (a dummy / offscreen SDL driver)."""
        return self.sdl_driver in HEADLESS_DRIVERS


def _has_library(name: str) -> bool:
    return ctypes.util.find_library(name) is not None


def configure_graphics(environ: MutableMapping[str, str] | None = None) -> GraphicsSetup:
    """Choose GL and SDL settings that work together; call before importing mujoco.

    Args:
        environ: The environment to read and update (``os.environ`` by default).

    Returns:
        What was found and which variables were set.

    """
    env = os.environ if environ is None else environ
    changed: list[str] = []

    def setdefault(name: str, value: str) -> None:
        if not env.get(name):
            env[name] = value
            changed.append(f"{name}={value}")

    linux = sys.platform.startswith("linux")
    display = (not linux) or bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    driver = env.get("SDL_VIDEODRIVER", "")
    if linux and not env.get("MUJOCO_GL"):
        if _has_library("EGL"):
            setdefault("MUJOCO_GL", "egl")
        elif _has_library("OSMesa"):
            setdefault("MUJOCO_GL", "osmesa")
    gl = env.get("MUJOCO_GL", "")
    if gl in ("egl", "osmesa"):
        setdefault("PYOPENGL_PLATFORM", gl)
    if display and driver not in HEADLESS_DRIVERS:
        setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
    setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if any(c.startswith("MUJOCO_GL=") for c in changed) and "mujoco" in sys.modules:
        gl = _rebind_mujoco_gl(gl)
    return GraphicsSetup(gl, display, driver, tuple(changed))


def _rebind_mujoco_gl(backend: str) -> str:
    """Point an already imported mujoco at ``backend``; return the backend in use.

    mujoco picks its GL backend class when it is imported (``launch.py`` imports ``sim`` and
    so mujoco before any subcommand runs), while ``mujoco.Renderer`` looks the class up on
    ``mujoco.rendering.classic.gl_context`` each time it makes a context. Setting that
    attribute before the first renderer is made is enough.
    """
    try:
        from mujoco.rendering.classic import gl_context

        if backend == "egl":
            from mujoco.egl import GLContext
        else:
            from mujoco.osmesa import GLContext
    except (ImportError, OSError, AttributeError) as e:
        log.warning("mujoco was imported before MUJOCO_GL=%s was set and cannot switch (%s); "
                    "it keeps its default GL backend", backend, e)  # fmt: skip
        return "default"
    gl_context.GLContext = GLContext
    return backend


def open_window(size: tuple[int, int], title: str, setup: GraphicsSetup) -> pygame.Surface:
    """Open the pygame window (``pygame.display.set_mode``) or explain why it cannot be.

    Args:
        size: Window size in pixels.
        title: Window caption.
        setup: What :func:`configure_graphics` found.

    Returns:
        The display surface.

    Raises:
        UserError: No display to open a window on, or SDL failed to open one.

    """
    import pygame

    hint = (
        "run it in a desktop session, set SDL_VIDEODRIVER=dummy to run with no visible "
        "window, or train without a window: python launch.py train --help"
    )
    if not setup.display and not setup.sdl_driver:
        raise UserError(f"cannot open a window: no display (DISPLAY is not set); {hint}")
    try:
        pygame.display.init()
        driver = pygame.display.get_driver()
        if driver in HEADLESS_DRIVERS and setup.sdl_driver not in HEADLESS_DRIVERS:
            pygame.display.quit()
            raise UserError(f"cannot open a window: SDL found only its {driver!r} driver; {hint}")
        surface = pygame.display.set_mode(size)
    except pygame.error as e:
        raise UserError(f"cannot open a window ({e}); {hint}") from e
    pygame.display.set_caption(title)
    log.info("window %dx%d on SDL driver %r, MuJoCo GL %r", *size, driver, setup.mujoco_gl)
    return surface
