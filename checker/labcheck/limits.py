"""The limits of one run: a wall-clock deadline and a budget of rate-limit waits.

`labcheck run` sets them once (`with run_limits(timeout=...)`). While they are set, every
HTTP request stops at the deadline (http_transport bounds each socket operation by it),
and every wait a 429's Retry-After asks for comes out of one budget shared by all of the
run's registry clients: a run waits at most that long for rate limits, whatever the
number of requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

#: The longest a run (or a client used outside a run) waits in total for Retry-After.
RETRY_WAIT_PER_RUN = 60.0


@dataclass
class RetryBudget:
    """Seconds of rate-limit waiting left, taken whole or not at all (thread-safe)."""

    total: float = RETRY_WAIT_PER_RUN
    spent: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take(self, seconds: float) -> bool:
        """Spend `seconds` if that many are left; False (nothing spent) otherwise."""
        with self._lock:
            if self.spent + seconds > self.total:
                return False
            self.spent += seconds
            return True


@dataclass(frozen=True)
class RunLimits:
    """A run's deadline (time.monotonic() value; None: none) and its rate-limit budget."""

    deadline: float | None
    timeout: float | None
    retry_budget: RetryBudget

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self.deadline is not None and time.monotonic() >= self.deadline


_current: RunLimits | None = None


def current() -> RunLimits | None:
    """The limits of the run in progress, or None outside one."""
    return _current


@contextmanager
def run_limits(timeout: float | None, retry_wait: float = RETRY_WAIT_PER_RUN) -> Iterator[RunLimits]:
    """Set the run's limits for the block: `timeout` seconds from now (None: no deadline)."""
    global _current
    limits = RunLimits(
        deadline=None if timeout is None else time.monotonic() + timeout,
        timeout=timeout,
        retry_budget=RetryBudget(retry_wait),
    )
    outer, _current = _current, limits
    try:
        yield limits
    finally:
        _current = outer
