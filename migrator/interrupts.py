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

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import NoReturn

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


def handled() -> None:
    """The command dealt with the interruption as a normal end (`flows collect` stops listening
    on Ctrl-C and stores what arrived): exit as usual; a later signal counts as a first one."""
    _received.clear()


def how() -> str:
    """How the run was interrupted, for messages: `Ctrl-C` or the signal's name."""
    name = received()
    return "Ctrl-C" if name in (None, "SIGINT") else name


def message() -> str:
    return f"interrupted ({how()}): nothing half-written was kept; earlier results are intact"


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM in this block; one that arrived meanwhile is delivered when it ends.

    Two uses: worker processes started inside inherit the mask, so Ctrl-C (sent to the whole
    process group) reaches the parent alone, which stops the run and its pool; and a folder swap
    inside it is never cut between its renames (migrator.atomic).
    """
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def pid_alive(pid: int | None) -> bool:
    """Whether the process that wrote something (a snapshot row, a staging folder) still runs."""
    if not pid or pid < 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _received:  # a second signal: stop now
        os.write(sys.stderr.fileno(), b"error: interrupted again: stopping at once\n")
        os._exit(ExitCode.INTERRUPTED)
    _received.append(signum)
    raise KeyboardInterrupt


def exit_process(code: int) -> NoReturn:
    """Exit with `code`. After an interruption CPython may have flagged the KeyboardInterrupt as
    unhandled (when it crossed C code) and would then end the process by SIGINT, status 130, in
    spite of sys.exit(4): flush and leave directly instead. All writes are already finished."""
    if not _received:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
