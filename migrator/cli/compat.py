"""Typer's exception classes across versions: newer Typer vendors Click as typer._click,
older Typer runs on Click itself. Resolved at import time, without a hard Click dependency."""

from __future__ import annotations

import importlib
from types import ModuleType

import typer


def _click_exceptions() -> ModuleType:
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError("neither typer._click nor click is importable")


_ex = _click_exceptions()

USAGE_EXCEPTIONS: tuple[type[BaseException], ...] = (_ex.ClickException,)
EXIT_EXCEPTIONS: tuple[type[BaseException], ...] = (typer.Exit, *([_ex.Exit] if hasattr(_ex, "Exit") else []))
ABORT_EXCEPTIONS: tuple[type[BaseException], ...] = (
    typer.Abort,
    *([_ex.Abort] if hasattr(_ex, "Abort") else []),
)
