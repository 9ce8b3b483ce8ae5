"""Ctrl-C and SIGTERM as requests that the long loops answer between two steps.

Python raises ``KeyboardInterrupt`` in the main thread between any two bytecodes: after a
``with lock:`` has taken its lock and before the block that releases it has begun, or halfway
through a ``Condition.notify``. The learner thread then waits forever for a lock that the main
thread will never release (measured: about 1 ``train`` in 80 hung on Ctrl-C, its learner thread
stuck re-taking its condition's lock). So the loops that run beside worker threads (``train``,
``collect``, the app) turn the first signal into a flag, check it between steps and stop there,
whole; a second signal is the immediate ``KeyboardInterrupt`` for a user who will not wait.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""What asks a loop to stop: Ctrl-C, and ``kill`` or a session manager."""


class StopRequest:
    """Set by the first Ctrl-C or SIGTERM; the loop that holds it stops at its next step."""

    def __init__(self) -> None:
        self.signal: int | None = None
        """The signal that asked (None: none yet)."""

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self.signal is not None


@contextlib.contextmanager
def stop_requests(announce: str | None = None) -> Iterator[StopRequest]:
    """Within the block, Ctrl-C and SIGTERM set the yielded request instead of raising.

    Outside the main thread (where Python delivers no signals) the request never fires.

    Args:
        announce: A line written to stderr on the first signal (what will happen now).

    """
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        del frame
        if stop.requested:
            raise KeyboardInterrupt  # the second one: at once
        stop.signal = signum
        if announce:  # a bare write: no lock that the interrupted code may hold
            with contextlib.suppress(OSError, ValueError):
                os.write(sys.stderr.fileno(), f"\n{announce}\n".encode())

    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield stop
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextlib.contextmanager
def no_interrupts() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while shutting down and saving (main thread only).

    Another signal then cannot tear a checkpoint or a recording in half.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


__all__ = ["SIGNALS", "StopRequest", "no_interrupts", "stop_requests"]
