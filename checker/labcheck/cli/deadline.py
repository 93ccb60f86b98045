"""A command's overall time limit: `labcheck run --timeout SECONDS`.

Two layers. Every network wait of the run ends at the deadline (labcheck.limits, read by
http_transport at each socket operation), so threads waiting on a registry or the daemon
give up on time. Whatever else still runs a little later (an AWS login, git) is
interrupted by SIGALRM in the main thread. Either way the command stops with RunTimeout
(exit 3), not with the errors its waits ended in.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from labcheck import limits
from labcheck.errors import LabcheckError, RunTimeout

#: `labcheck run`'s default --timeout: a lab grades in about a second, a remote registry in
#: a few; this leaves room for rate limits (at most limits.RETRY_WAIT_PER_RUN) and slow links.
DEFAULT_RUN_TIMEOUT = 300.0
#: How long after the deadline the alarm interrupts what did not stop by itself.
_GRACE = 5.0


class _Alarm(BaseException):
    """Raised by SIGALRM: a BaseException, so no `except Exception` on the way swallows it."""


def _ring(signum: int, frame: Any) -> NoReturn:
    raise _Alarm


@contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Run the block within `seconds`; RunTimeout (exit 3) when it takes longer."""

    def timed_out() -> RunTimeout:
        return RunTimeout(f"{what} did not finish within --timeout {seconds:g} s (a registry or the daemon is slow)")

    alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    with limits.run_limits(seconds) as run:
        previous = signal.getsignal(signal.SIGALRM) if alarm else None
        if alarm:
            signal.signal(signal.SIGALRM, _ring)
            signal.setitimer(signal.ITIMER_REAL, seconds + _GRACE)
        try:
            yield
        except _Alarm:
            raise timed_out() from None
        except LabcheckError as exc:
            if run.expired():  # the error is how a wait ended at the deadline: say why
                raise timed_out() from exc
            raise
        finally:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        if run.expired():
            raise timed_out()
