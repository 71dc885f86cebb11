"""Exit codes and the errors that become them.

Every failure the user can cause or meet (bad input, an unreachable vCenter, a broken
database) is raised as a MigratorError subclass; the CLI turns it into one line on stderr
and the exit code below, in one place (migrator.cli.main). Nothing else prints tracebacks.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1  # a bug in migrator: please report it
    USAGE = 2  # bad arguments or bad input file
    VCENTER = 3  # vCenter unreachable, TLS verification failed, or login refused
    INTERRUPTED = 4  # the run was interrupted or only partly completed; nothing partial was stored
    STORE = 5  # the inventory database cannot be opened or written
    NOT_FOUND = 6  # the named VM, snapshot or object does not exist
    INCOMPLETE = 7  # the result was stored but is not complete (VMs left unplaced); see its report
    CHECKS_FAILED = 8  # validation or policy tests found problems at or above the --fail-on level
    FORGE = 9  # the plans repository's remote or forge failed (network, auth, 4xx/5xx) or refused a merge
    CONFLICT = 10  # a plans branch was edited by a human, or a PR is not in a state that allows the action
    MODEL = 11  # no model configured where one is needed, or the model endpoint failed after retries
    FORBIDDEN = 12  # the acting identity's role does not allow the action (the dashboard answers 403)


class MigratorError(Exception):
    """An expected failure with a message fit for the user and an exit code.

    `field` names the input the error concerns (a use-case field such as "wave" or "max_vms"),
    so each front end can say it its own way: the CLI as its --flag, a web API as a form field.
    The message then refers to each named field as {name}; `render` fills them in.
    """

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, field: str | tuple[str, ...] | None = None) -> None:
        self.fields: tuple[str, ...] = (field,) if isinstance(field, str) else tuple(field or ())
        self.template = message
        self.message = self.render()
        super().__init__(self.message)

    @property
    def field(self) -> str | None:
        """The (first) input field the error concerns, if any."""
        return self.fields[0] if self.fields else None

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (discovery workers): keep the fields, not just the text.
        return (_rebuild, (type(self), self.template, self.fields))

    def render(self, name: Callable[[str], str] = str) -> str:
        """The message with each {field} replaced by name(field) (the plain field name by default)."""
        text = self.template
        for field in self.fields:
            text = text.replace("{" + field + "}", name(field))
        return text


def _rebuild(cls: type[MigratorError], template: str, fields: tuple[str, ...]) -> MigratorError:
    return cls(template, field=fields or None)


class UsageError(MigratorError):
    exit_code = ExitCode.USAGE


class InputFileError(UsageError):
    """A file given to migrator is missing, unreadable or malformed."""


class VCenterError(MigratorError):
    exit_code = ExitCode.VCENTER


class WriteRefused(MigratorError):
    """A non-read vSphere method was about to be sent; discovery is strictly read-only."""

    exit_code = ExitCode.INTERNAL


class InterruptedRun(MigratorError):
    exit_code = ExitCode.INTERRUPTED


class StoreError(MigratorError):
    exit_code = ExitCode.STORE


class NotFound(MigratorError):
    exit_code = ExitCode.NOT_FOUND


class Incomplete(MigratorError):
    """The work was done and stored, but part of it needs a human (for example unplaced VMs)."""

    exit_code = ExitCode.INCOMPLETE


class ChecksFailed(MigratorError):
    """The checked code or the policy fixtures did not pass; the report says what failed."""

    exit_code = ExitCode.CHECKS_FAILED


class ForgeError(MigratorError):
    """git's remote or a forge's API failed; what was landed locally is kept."""

    exit_code = ExitCode.FORGE


class Conflict(MigratorError):
    """A human changed a plans branch since migrator's last commit, or a PR's state forbids the action."""

    exit_code = ExitCode.CONFLICT


class ModelError(MigratorError):
    """No chat model is configured where one is needed, or its endpoint kept failing after retries."""

    exit_code = ExitCode.MODEL


class Forbidden(MigratorError):
    """The acting identity's role does not allow the action (team mode, docs/dashboard.md)."""

    exit_code = ExitCode.FORBIDDEN
