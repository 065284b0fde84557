"""What a test's child process needs to be the process a user runs."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def children_take_ctrl_c() -> Iterator[None]:
    """Children started inside take Ctrl-C as a terminal's foreground job does, even when the
    suite itself runs as a background job: POSIX shells start those with SIGINT ignored, an
    ignored signal stays ignored across exec, and Python then rightly ignores SIGINT (measured:
    the demo's Ctrl-C test failed so, its SigIgn showing SIGINT). A handled signal is reset to
    its default at exec, so this process handles SIGINT while it starts them. (Not
    `preexec_fn`: unsafe in a process with threads, as this one has.)"""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
