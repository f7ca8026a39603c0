"""A wall-clock limit on a block of code.

Per-request timeouts cannot bound a whole answer: the SDK retries each request, honours a
server's `retry-after` (however long), and a read timeout restarts with every byte, so a
server that trickles never times out. `time_limit` arms a real-time interval timer in the
main thread and raises `DeadlineExceeded` in it when the time is up, wherever it is blocked
(a socket read, a retry sleep). It derives from BaseException, like KeyboardInterrupt, so
no `except Exception` in a library swallows it or retries on it.

Off the main thread (signals only reach the main thread) nothing is armed; the caller
still gets `remaining()` to clamp each request's own timeout.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Iterator


REFIRE_SECONDS = 0.2


class DeadlineExceeded(BaseException):
    """The time given to a `time_limit` block ran out."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return max(0.0, self.seconds - self.elapsed())


@contextmanager
def time_limit(seconds: float) -> Iterator[Deadline]:
    deadline = Deadline(seconds)
    if threading.current_thread() is not threading.main_thread():
        yield deadline
        return

    def expire(signum, frame) -> None:
        raise DeadlineExceeded(f"{seconds:g} s")

    previous_handler = signal.signal(signal.SIGALRM, expire)
    # After the first expiry the timer keeps firing: a raise that lands where Python can only
    # report it (a weakref callback, a __del__) is lost, and a one-shot timer would leave the
    # block running unbounded.
    previous_timer, _ = signal.setitimer(signal.ITIMER_REAL, seconds, REFIRE_SECONDS)
    try:
        yield deadline
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:  # even if the timer fired on the way out, the old handler comes back
            signal.signal(signal.SIGALRM, previous_handler)
        if previous_timer:  # someone else's timer was running: give back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(previous_timer - deadline.elapsed(), 0.001))
