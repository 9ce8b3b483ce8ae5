"""The scene renderer in a child process, so rendering never stalls the main or learner thread.

MuJoCo's ``mjr_render`` and ``mjr_readPixels`` hold Python's GIL for the whole call: with
software GL that is 10-20 ms per 480x480 frame, during which the learner thread cannot run a
line of Python (measured: rendering 24 frames a second in-process halved the learner's
updates/s). The main thread keeps the simulation; it sends the few numbers that place the
scene (joint positions, the door body's position, the camera) to a child process, which owns
its own copy of the model and GL context, renders, and writes the pixels into shared memory.
The main thread never waits: it shows the newest finished frame and asks for the next one.

A request may ask for the inset too (the small view from above, :data:`app.camera.INSET_VIEW`):
the child renders it after the main frame with its own small renderer, into the same shared
memory, behind the main frame's pixels.

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
    inset: bool = False
    """Render the inset (the view from above) too."""


class RenderProcess:
    """A child process that renders door frames on request.

    Args:
        width: Frame width.
        height: Frame height.
        antialias: MSAA samples (the model's ``offsamples``).
        nice: Niceness added to the child: the learner and the window keep their CPU share
            when the machine is busy; the view then updates a little less often.
        inset: Width and height of the inset (the view from above); None: no inset.

    """

    def __init__(
        self,
        width: int,
        height: int,
        antialias: int = 0,
        nice: int = 5,
        inset: tuple[int, int] | None = None,
    ) -> None:
        self.width, self.height, self.inset_size = width, height, inset
        self.error: str | None = None
        """Why the child failed, if it did (then :meth:`submit` is a no-op)."""
        self.inset: np.ndarray | None = None
        """The newest inset frame (``(h, w, 3)`` uint8), set by :meth:`poll` when one came."""
        self._busy = False
        iw, ih = inset or (0, 0)
        self._shm = shared_memory.SharedMemory(create=True, size=(width * height + iw * ih) * 3)
        ctx = mp.get_context("spawn")  # a fresh interpreter: no inherited GL or SDL state
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_worker,
            args=(child, self._shm.name, (width, height), inset, antialias, nice),
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
            inset = state.inset and self.inset_size is not None
            self._conn.send(("render", state.qpos, state.door_pos, state.camera, inset))
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
        main, inset = _views(self._shm.buf, (self.width, self.height), self.inset_size)
        if reply[1] and inset is not None:
            self.inset = inset.copy()
        return main.copy()

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


def _views(
    buf: memoryview | None, size: tuple[int, int], inset: tuple[int, int] | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """The main frame's and the inset's pixels in the shared memory (views, not copies)."""
    assert buf is not None, "the shared memory is closed"
    (w, h), n = size, size[0] * size[1] * 3
    main = np.ndarray((h, w, 3), np.uint8, buf)
    if inset is None:
        return main, None
    return main, np.ndarray((inset[1], inset[0], 3), np.uint8, buf, offset=n)


def _worker(
    conn: Connection,
    shm_name: str,
    size: tuple[int, int],
    inset: tuple[int, int] | None,
    antialias: int,
    nice: int,
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
        from app.camera import INSET_VIEW, SCENE_VIEW
        from sim.render import DoorRenderer

        env = sim.make_door()
        model, data = env.unwrapped.model, env.unwrapped.data
        model.vis.quality.offsamples = antialias
        door = model.body("frame").id
        renderer = DoorRenderer(model, *size, view=SCENE_VIEW)
        above = None if inset is None else DoorRenderer(model, *inset, view=INSET_VIEW)
        shm = shared_memory.SharedMemory(name=shm_name)
        out, out_inset = _views(shm.buf, size, inset)
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
            _, qpos, door_pos, camera, with_inset = msg
            data.qpos[:] = qpos
            model.body_pos[door] = door_pos
            mujoco.mj_forward(model, data)
            cam = renderer.camera
            cam.lookat[:] = camera[:3]
            cam.distance, cam.azimuth, cam.elevation = camera[3:]
            out[:] = renderer.render(data)
            if with_inset and above is not None and out_inset is not None:
                out_inset[:] = above.render(data)
            conn.send(("done", bool(with_inset)))
    except BaseException:
        with contextlib.suppress(OSError):
            conn.send(("error", traceback.format_exc(limit=3)))
    finally:
        del out, out_inset
        if above is not None:
            above.close()
        renderer.close()
        shm.close()
        env.close()
