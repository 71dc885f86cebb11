"""Credentials: read from an environment variable or a prompt, never argv, never printed."""

from __future__ import annotations

import getpass
import os
import sys

from migrator.errors import UsageError


class Secret:
    """A string that does not reveal itself in repr, str, logs or tracebacks with locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        # Worker processes receive credentials through a pipe, never argv or environment.
        return (Secret, (self._value,))


def read_password(env_name: str | None, user: str) -> Secret:
    """The password from the variable named by --password-env, else an interactive prompt."""
    if env_name:
        value = os.environ.get(env_name)
        if value is None:
            raise UsageError(
                f"environment variable {env_name} (named by {{password_env}}) is not set",
                field="password_env",
            )
        return Secret(value)
    if not sys.stdin.isatty():
        raise UsageError(
            "no password: use {password_env} VAR, or run interactively to be prompted", field="password_env"
        )
    return Secret(getpass.getpass(f"Password for {user}: "))
