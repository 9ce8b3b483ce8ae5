"""The scene renderer in a child process, so rendering never stalls the main or learner thread.

MuJoCo's ``mjr_render`` and ``mjr_readPixels`` hold Python's GIL for the whole call: with
software GL that is 10-20 ms per 480x480 frame, during which the learner thread cannot run a
line of Python (measured: rendering 24 frames a second in-process halved the learner's
updates/s). The main thread keeps the simulation; it sends the few numbers that place the
scene (joint positions, the door body's position, the camera) to a child process, which owns
its own copy of the model and GL context, renders, and writes the pixels into shared memory.
The main thread never waits: it shows the newest finished frame and asks for the next one.

If the child cannot start or dies, :class:`RenderProcess` says why (``error``) and the app
falls back to rendering in-process.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import traceback
from dataclasses import dataclass
from multiprocessing import shared_memory
from multiprocessing.connection import Connection

import numpy as np

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
"""How long the child may take to import mujoco and make its GL context."""


@dataclass(frozen=True)
class SceneState:
    """What places the scene: the only state the child needs for a frame."""

    qpos: np.ndarray
    """All joint positions (hand, arm, door hinge, latch)."""
    door_pos: np.ndarray
    """Position of the door's ``frame`` body (random per episode)."""
    camera: tuple[float, float, float, float, float, float]
    """lookat x, y, z, distance, azimuth, elevation."""


class RenderProcess:
    """A child process that renders door frames on request.

    Args:
        width: Frame width.
        height: Frame height.
        antialias: MSAA samples (the model's ``offsamples``).
        nice: Niceness added to the child: the learner and the window keep their CPU share
            when the machine is busy; the view then updates a little less often.

    """

    def __init__(self, width: int, height: int, antialias: int = 0, nice: int = 5) -> None:
        self.width, self.height = width, height
        self.error: str | None = None
        """Why the child failed, if it did (then :meth:`submit` is a no-op)."""
        self._busy = False
        self._shm = shared_memory.SharedMemory(create=True, size=width * height * 3)
        ctx = mp.get_context("spawn")  # a fresh interpreter: no inherited GL or SDL state
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_worker,
            args=(child, self._shm.name, width, height, antialias, nice),
            name="door-renderer",
            daemon=True,
        )
        self._proc.start()
        child.close()
        if not self._conn.poll(START_TIMEOUT_S):
            self._fail(f"the render process did not start within {START_TIMEOUT_S:.0f} s")
            return
        reply = self._recv()
        if reply is not None and reply[0] != "ready":
            self._fail(str(reply[1]))

    @property
    def ok(self) -> bool:
        """The child is running."""
        return self.error is None

    @property
    def busy(self) -> bool:
        """A frame is being rendered."""
        return self._busy

    def submit(self, state: SceneState) -> bool:
        """Ask for a frame of ``state``; False (nothing sent) while one is being rendered."""
        if self._busy or self.error is not None:
            return False
        try:
            self._conn.send(("render", state.qpos, state.door_pos, state.camera))
        except (BrokenPipeError, EOFError, OSError) as e:
            self._fail(f"the render process is gone ({e})")
            return False
        self._busy = True
        return True

    def poll(self, timeout: float = 0.0) -> np.ndarray | None:
        """The finished frame (a copy, ``(height, width, 3)`` uint8), or None if none is ready."""
        if not self._busy or self.error is not None:
            return None
        try:
            if not self._conn.poll(timeout):
                if not self._proc.is_alive():
                    self._fail(f"the render process died (exit code {self._proc.exitcode})")
                return None
        except (EOFError, OSError) as e:
            self._fail(f"the render process is gone ({e})")
            return None
        reply = self._recv()
        self._busy = False
        if reply is None:
            return None
        if reply[0] != "done":
            self._fail(str(reply[1]))
            return None
        buf = np.ndarray((self.height, self.width, 3), np.uint8, self._shm.buf)
        return buf.copy()

    def render_now(self, state: SceneState, timeout: float = 10.0) -> np.ndarray | None:
        """Render ``state`` and wait for it (screenshots); None if the child failed."""
        if self._busy:
            self.poll(timeout)
        if not self.submit(state):
            return None
        return self.poll(timeout)

    def close(self) -> None:
        """Stop the child and free the shared memory; safe to call more than once."""
        if self._proc.is_alive():
            with contextlib.suppress(BrokenPipeError, OSError):
                self._conn.send(("stop",))
            self._proc.join(5.0)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(5.0)
        self._conn.close()
        try:
            self._shm.close()
            self._shm.unlink()
        except FileNotFoundError:
            pass

    def _recv(self) -> tuple | None:
        try:
            return self._conn.recv()
        except (EOFError, OSError) as e:
            self._fail(f"the render process is gone ({e})")
            return None

    def _fail(self, why: str) -> None:
        if self.error is None:
            self.error = why
            log.error("render process: %s", why)
        self._busy = False


def _worker(
    conn: Connection, shm_name: str, width: int, height: int, antialias: int, nice: int
) -> None:
    """The child: make the door model and renderer, then render frames until told to stop.

    It inherits the parent's environment (the GL backend the parent chose). Software GL
    (llvmpipe) renders with one thread here unless ``LP_NUM_THREADS`` says otherwise: frames
    are asynchronous, so a slower frame costs nothing, and one thread leaves the other core to
    the learner.
    """
    os.environ.setdefault("LP_NUM_THREADS", "1")
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)
    try:
        import mujoco

        import sim
        from app.camera import SCENE_VIEW
        from sim.render import DoorRenderer

        env = sim.make_door()
        model, data = env.unwrapped.model, env.unwrapped.data
        model.vis.quality.offsamples = antialias
        door = model.body("frame").id
        renderer = DoorRenderer(model, width, height, view=SCENE_VIEW)
        shm = shared_memory.SharedMemory(name=shm_name)
        out = np.ndarray((height, width, 3), np.uint8, shm.buf)
    except BaseException:
        conn.send(("error", traceback.format_exc(limit=3)))
        return
    conn.send(("ready",))
    try:
        while True:
            try:
                msg = conn.recv()
            except EOFError:  # the parent is gone
                break
            if msg[0] == "stop":
                break
            _, qpos, door_pos, camera = msg
            data.qpos[:] = qpos
            model.body_pos[door] = door_pos
            mujoco.mj_forward(model, data)
            cam = renderer.camera
            cam.lookat[:] = camera[:3]
            cam.distance, cam.azimuth, cam.elevation = camera[3:]
            out[:] = renderer.render(data)
            conn.send(("done",))
    except BaseException:
        with contextlib.suppress(OSError):
            conn.send(("error", traceback.format_exc(limit=3)))
    finally:
        del out
        renderer.close()
        shm.close()
        env.close()
