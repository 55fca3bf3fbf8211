"""Waiting for another thread's work so that Ctrl-C stops the wait cleanly.

`Future.result()` waits in `threading.Condition.wait`, and a KeyboardInterrupt (or the CLI's
SIGTERM, raised the same way) arriving inside it, between its lock's release and re-acquire, leaves
that lock half-released: the `with` around it then fails with "RuntimeError: cannot release
un-acquired lock", a traceback instead of a kept best epoch. `train` waits for the shuffler's next
chunk 25 times an epoch, so a Ctrl-C lands there often. Polling `done()` with short sleeps is
interrupted cleanly: `time.sleep` raises the interrupt and holds no lock.
"""

from __future__ import annotations

import time
from concurrent.futures import Future

LONGEST_SLEEP = 1e-3  # seconds between polls once a wait is long; the first polls are much shorter


def result_of(future: Future):
    """future.result(), waited for by polling (see the module docstring)."""
    delay = 1e-5
    while not future.done():
        time.sleep(delay)
        delay = min(delay * 2, LONGEST_SLEEP)
    return future.result()
