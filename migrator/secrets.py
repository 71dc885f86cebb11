"""Credentials: read from an environment variable or a prompt, never argv, never printed."""

from __future__ import annotations

import getpass
import os
import stat
import sys
from pathlib import Path

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


PASSWORD_FILE_MAX = 4096  # bytes: a password file is one line; anything longer is not one


def read_password(env_name: str | None, user: str, password_file: Path | None = None) -> Secret:
    """The password from --password-file, the variable named by --password-env, else a prompt."""
    if env_name and password_file:
        raise UsageError(
            "{password_env} and {password_file} exclude each other: give one",
            field=("password_env", "password_file"),
        )
    if password_file:
        return read_password_file(password_file)
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
            "no password: use {password_env} VAR or {password_file} PATH, or run interactively to be "
            "prompted",
            field=("password_env", "password_file"),
        )
    return Secret(getpass.getpass(f"Password for {user}: "))


def read_password_file(path: Path) -> Secret:
    """The first line of a file only its owner can read (a regular file, or a pipe such as
    `<(pass show vcenter)`). Refused when group or others have any access: like ssh's keys."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY)
    except OSError as exc:
        raise UsageError(
            f"{{password_file}} {path}: cannot open ({exc.strerror})", field="password_file"
        ) from None
    info = os.fstat(fd)  # the opened file itself: no race with a swapped path
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode)):
        os.close(fd)
        raise UsageError(f"{{password_file}} {path}: not a regular file or a pipe", field="password_file")
    with os.fdopen(fd, "rb") as handle:
        if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077:
            raise UsageError(
                f"{{password_file}} {path}: group or others may access it (mode "
                f"{stat.S_IMODE(info.st_mode):03o}): run `chmod 600 {path}`",
                field="password_file",
            )
        if stat.S_ISREG(info.st_mode) and info.st_uid not in (os.getuid(), 0):
            raise UsageError(f"{{password_file}} {path}: owned by another user", field="password_file")
        data = handle.read(PASSWORD_FILE_MAX + 1)
    if len(data) > PASSWORD_FILE_MAX:
        raise UsageError(
            f"{{password_file}} {path}: longer than {PASSWORD_FILE_MAX} bytes, not a password",
            field="password_file",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{{password_file}} {path}: not UTF-8 text", field="password_file") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise UsageError(
            f"{{password_file}} {path}: empty (the password is the first line)", field="password_file"
        )
    return Secret(lines[0])
