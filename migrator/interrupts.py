"""Ctrl-C and SIGTERM: one `error: interrupted ...` line and exit 4, whatever was running.

Why this exists: Typer turns a KeyboardInterrupt into a silent exit 130 before the CLI's own
error handling sees it, and SIGTERM (a CI cancel, `kill`) would end the process without any
cleanup. The handler installed here records which signal arrived and raises KeyboardInterrupt,
so every `with`/`finally` block and database transaction unwinds as usual; the entry point
then asks `received()` and reports the interruption itself. A second signal while the first
unwinds stops the process at once: every write is crash-safe (migrator.atomic, one database
transaction per stored result), so stopping hard loses nothing complete.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

from migrator.errors import ExitCode

_received: list[int] = []


def install() -> None:
    """Handle SIGINT and SIGTERM, unless the parent chose to ignore them (`nohup`, `cmd &`)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _handler)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _handler)


def received() -> str | None:
    """The name of the first interrupting signal, or None."""
    return signal.Signals(_received[0]).name if _received else None


def message() -> str:
    how = "Ctrl-C" if received() in (None, "SIGINT") else received()
    return f"interrupted ({how}): nothing half-written was kept; earlier results are intact"


def ignore_in_worker() -> None:
    """For worker processes: the parent alone reacts to Ctrl-C (sent to the whole process group)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _received:  # a second signal: stop now
        os.write(sys.stderr.fileno(), b"error: interrupted again: stopping at once\n")
        os._exit(ExitCode.INTERRUPTED)
    _received.append(signum)
    raise KeyboardInterrupt
