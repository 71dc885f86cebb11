"""The hashicorp/aws provider's own value validators, for the arguments migrator emits.

Terraform core checks types; the provider's validators (enums, ranges, lengths) run in the
provider, so a schema-only provider would let a typo in `http_tokens` or a port of 70000 pass
`terraform validate` and fail only at plan. agents/validator/tfprovider.py runs these few in its
ValidateResourceConfig, with the real provider's wording (SDKv2 `validation.*` for SDK resources,
"Invalid Attribute Value" for plugin-framework ones), on known values only (unknown ones are left
to plan time, as the provider does). Source of each rule: the hashicorp/aws 6.x resource code and
registry documentation for the argument.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

VOLUME_TYPES = ("standard", "gp2", "gp3", "io1", "io2", "sc1", "st1")


def one_of(values: tuple[str, ...]) -> Callable[[str, Any], str | None]:
    def check(path: str, value: Any) -> str | None:  # SDKv2 validation.StringInSlice
        if str(value) in values:
            return None
        quoted = " ".join(f'"{v}"' for v in values)
        return f"expected {path} to be one of [{quoted}], got {value}"

    return check


def between(low: int, high: int, framework: bool = False) -> Callable[[str, Any], str | None]:
    def check(path: str, value: Any) -> str | None:  # validation.IntBetween / int64validator.Between
        try:
            number = int(str(value))
        except ValueError:
            return None  # not a number: the core's type check says so
        if low <= number <= high:
            return None
        if framework:
            return f"Attribute {path} value must be between {low} and {high}, got: {number}"
        return f"expected {path} to be in the range ({low} - {high}), got {number}"

    return check


def max_length(limit: int) -> Callable[[str, Any], str | None]:
    def check(path: str, value: Any) -> str | None:  # validation.StringLenBetween(0, limit)
        text = str(value)
        return (
            None
            if len(text) <= limit
            else f"expected length of {path} to be in the range (0 - {limit}), got {text}"
        )

    return check


# resource type -> (attribute path with nested block names, validator)
RULES: dict[str, list[tuple[tuple[str, ...], Callable[[str, Any], str | None]]]] = {
    "aws_instance": [
        (("metadata_options", "http_tokens"), one_of(("optional", "required"))),
        (("metadata_options", "http_endpoint"), one_of(("disabled", "enabled"))),
        (("metadata_options", "http_put_response_hop_limit"), between(1, 64)),
        (("root_block_device", "volume_type"), one_of(VOLUME_TYPES)),
        (("ebs_block_device", "volume_type"), one_of(VOLUME_TYPES)),
    ],
    "aws_ebs_volume": [(("type",), one_of(VOLUME_TYPES))],
    "aws_security_group": [(("description",), max_length(255)), (("name",), max_length(255))],
    "aws_vpc_security_group_ingress_rule": [
        (("from_port",), between(-1, 65535, framework=True)),
        (("to_port",), between(-1, 65535, framework=True)),
    ],
    "aws_vpc_security_group_egress_rule": [
        (("from_port",), between(-1, 65535, framework=True)),
        (("to_port",), between(-1, 65535, framework=True)),
    ],
    "aws_security_group_rule": [(("type",), one_of(("ingress", "egress")))],
}


Step = str | int  # an attribute name or a list index, as in tfplugin6's AttributePath


def _values(
    config: Any, path: tuple[str, ...], steps: tuple[Step, ...]
) -> Iterator[tuple[tuple[Step, ...], Any]]:
    """(steps, value) for every known value at the path of a decoded configuration."""
    if not path or not isinstance(config, dict):
        return
    value = config.get(path[0])
    if len(path) == 1:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            yield (*steps, path[0]), value
        return
    for index, item in enumerate(value if isinstance(value, list) else []):
        yield from _values(item, path[1:], (*steps, path[0], index))


def value_problems(type_name: str, config: Any) -> list[tuple[tuple[Step, ...], str, str]]:
    """(attribute path, summary, detail) for each value the real provider would refuse."""
    found = []
    for path, validator in RULES.get(type_name, []):
        for steps, value in _values(config, path, ()):
            shown = ".".join(str(s) for s in steps)
            problem = validator(shown, value)
            if problem:
                framework = problem.startswith("Attribute ")
                found.append(
                    (steps, "Invalid Attribute Value" if framework else problem, problem if framework else "")
                )
    return found
