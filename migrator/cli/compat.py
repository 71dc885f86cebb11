"""Typer's exception classes across versions (newer Typer vendors Click as typer._click)."""

from __future__ import annotations

import typer

try:  # Typer >= 0.26
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover -- older Typer on top of Click
    from click.exceptions import ClickException  # type: ignore[assignment]

try:
    import click.exceptions as _click_exceptions

    _EXIT: tuple[type[BaseException], ...] = (typer.Exit, _click_exceptions.Exit)
    _ABORT: tuple[type[BaseException], ...] = (typer.Abort, _click_exceptions.Abort)
    _USAGE: tuple[type[BaseException], ...] = (ClickException, _click_exceptions.ClickException)
except ImportError:  # pragma: no cover
    _EXIT, _ABORT, _USAGE = (typer.Exit,), (typer.Abort,), (ClickException,)

EXIT_EXCEPTIONS = _EXIT
ABORT_EXCEPTIONS = _ABORT
USAGE_EXCEPTIONS = _USAGE
