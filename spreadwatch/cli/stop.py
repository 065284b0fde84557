"""A command asked to stop (SIGTERM, Ctrl-C) ends as a stop — exit 143 or 130, one quiet line at
most — wherever in the command the signal lands.

Python delivers a signal as an exception at the next line of Python the main thread runs. Two
places bend it: a hook Python calls itself (a class's `__set_name__` while a module is imported)
wraps it in a RuntimeError, and code called back from an extension or a finaliser cannot raise
it at all, so Python prints it as "Exception ignored" and the command goes on. Both were seen on
`spreadwatch search` stopped during its imports (pydantic-settings building its models).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from types import FrameType
from typing import Any

#: Seconds after a swallowed stop before it is sent again (the hook has long returned by then).
REDELIVERY_DELAY = 0.05
#: The signals a stop has been asked with, in order (empty until one is).
_requested: list[int] = []


def install() -> None:
    """SIGTERM ends a command the way Ctrl-C does: cleanup runs, no traceback, exit 143."""
    signal.signal(signal.SIGTERM, _terminated)
    sys.unraisablehook = partial(_redeliver_swallowed_stop, sys.unraisablehook)


def _terminated(signum: int, _frame: FrameType | None) -> None:
    _requested.append(signum)
    raise SystemExit(128 + signum)


def _redeliver_swallowed_stop(print_unraisable: Callable[[Any], object], unraisable: Any) -> None:
    """A stop Python could not raise where it landed is sent again instead of being printed and
    lost. Sent from this hook it would land in this hook, so a timer thread sends it a moment
    later, to the main thread (to break a wait it is in, as the first one did)."""
    if _requested and isinstance(unraisable.exc_value, SystemExit):
        main = threading.main_thread().ident
        if main is not None:
            later = threading.Timer(REDELIVERY_DELAY, signal.pthread_kill, (main, _requested[-1]))
            later.daemon = True
            later.start()
            return
    print_unraisable(unraisable)


@contextlib.contextmanager
def stops_unwrapped() -> Iterator[None]:
    """Raise a failure that carries a stop, or follows one, as that stop: a RuntimeError from
    `__set_name__` caused by the SIGTERM, or an error raised because a stop cut a step short."""
    try:
        yield
    except Exception as error:
        stop = _stop_inside(error)
        if stop is not None:
            raise stop from None
        if _requested:
            raise SystemExit(128 + _requested[-1]) from None
        raise


def _stop_inside(error: BaseException) -> SystemExit | KeyboardInterrupt | None:
    seen: set[int] = set()
    cause = error.__cause__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, (SystemExit, KeyboardInterrupt)):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__
    return None
