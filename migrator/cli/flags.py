"""How the CLI names the fields of use-case inputs: errors name a field, the user sees its --flag."""

from __future__ import annotations

# Fields whose flag is not simply --field-name.
_FLAGS = {
    "app_keys": "--app-key",
    "env_keys": "--env-key",
    "shared_services": "--shared",
    "plan_id": "--plan",
    "fmt": "--format",
    "use_tools": "--tools/--no-tools",
}


def flag(field: str) -> str:
    """The command-line flag of a use-case field, e.g. max_vms -> --max-vms."""
    return _FLAGS.get(field, "--" + field.replace("_", "-"))
