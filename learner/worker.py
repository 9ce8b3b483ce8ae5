"""A background thread that runs rounds of work on request.

It follows the learner thread's stop and error handling (:mod:`learner.thread`): an exception
in the thread is kept with its formatted traceback and re-raised in the caller by
:meth:`BackgroundWorker.raise_if_failed`; :meth:`BackgroundWorker.stop` is idempotent and never
raises, so it is safe in ``finally`` blocks.

Torch-free: anything that needs a round of work done off the main thread (the imitation
guide's trainer) can use it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import traceback
from collections.abc import Callable


class WorkerError(RuntimeError):
    """A background worker died; the message carries its error and traceback."""


class BackgroundWorker:
    """Runs ``work()`` in one daemon thread, one round per :meth:`request`.

    A request while a round runs queues one more round (at most one is pending), so the work
    always ends on the newest data it reads. ``work`` may poll :attr:`stopping` to end early.

    Args:
        name: The thread's name (and the start of error messages).
        work: One round of work; its exception ends the worker and is kept for the caller.
        nice: CPU niceness added to the thread (Linux; elsewhere ignored), so a window and a
            learner sharing the CPU come first.

    """

    def __init__(self, name: str, work: Callable[[], None], *, nice: int = 0) -> None:
        if nice < 0:
            raise ValueError(f"{name} nice must be >= 0, got {nice}")
        self.name, self.nice = name, nice
        self._work = work
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pending = False
        self._running = False
        self._stop_flag = False
        self._error: BaseException | None = None
        self._error_text: str | None = None

    # -- caller's API ------------------------------------------------------------------------
    def request(self) -> None:
        """Run a round now, or one more after the round under way.

        Raises:
            WorkerError: The worker died earlier.

        """
        self.raise_if_failed()
        with self._cond:
            if self._stop_flag:
                return
            self._pending = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        """A round runs or is queued."""
        with self._cond:
            return self._error is None and (self._running or self._pending)

    @property
    def stopping(self) -> bool:
        """:meth:`stop` was called (``work`` may end its round early)."""
        return self._stop_flag

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no round runs or is queued (True) or ``timeout`` passes (False).

        Raises:
            WorkerError: The worker died.

        """
        with self._cond:
            self._cond.wait_for(lambda: not self._busy_locked(), timeout)
            done = not self._busy_locked()
        self.raise_if_failed()
        return done

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to exit after its round and wait for it. Idempotent; never raises."""
        with self._cond:
            self._stop_flag = True
            self._pending = False
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)

    @property
    def error(self) -> BaseException | None:
        """The exception that ended the worker, if any."""
        return self._error

    @property
    def error_line(self) -> str | None:
        """``Type: message`` of the worker's error, or None."""
        e = self._error
        return None if e is None else f"{type(e).__name__}: {e}"

    def raise_if_failed(self) -> None:
        """Re-raise the worker's exception in the caller, with the worker's traceback text."""
        if self._error is not None:
            raise WorkerError(
                f"{self.name} failed: {self.error_line}\n{self._error_text}"
            ) from self._error

    # -- the thread --------------------------------------------------------------------------
    def _busy_locked(self) -> bool:
        return self._error is None and (self._running or self._pending)

    def _loop(self) -> None:
        try:
            lower_thread_priority(self.nice)
            while True:
                with self._cond:
                    self._cond.wait_for(lambda: self._pending or self._stop_flag)
                    if self._stop_flag:
                        return
                    self._pending, self._running = False, True
                self._work()
                with self._cond:
                    self._running = False
                    self._cond.notify_all()
        except BaseException as exc:  # kept and re-raised in the caller's thread
            # One locked step: a waiter never sees the round over without its error.
            with self._cond:
                self._error, self._error_text = exc, traceback.format_exc()
                self._pending = self._running = False
                self._cond.notify_all()


def lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's niceness by ``nice`` (Linux: niceness is per thread)."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
