"""The provider-defined functions of hashicorp/aws (Terraform 1.8 and later), for the schema-only
provider: `provider::aws::arn_parse(arn)`, `arn_build(partition, service, region, account_id,
resource)` and `trim_iam_role_path(arn)`.

The real provider declares them in its schema and computes them when Terraform calls them (which
`validate` does when the arguments are known), so without them a module that uses one fails with
"Unknown provider function" where the real core and provider accept it. They are written here
from their documented behaviour: an ARN is `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, the
resource part may hold further colons, and an IAM role's path is what lies between `role/` and
its last `/`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tf.gen import tfplugin_pb2 as pb

_STRING = json.dumps("string").encode()
ARN_PARTS = ("partition", "service", "region", "account_id", "resource")
_ARN_OBJECT = json.dumps(["object", dict.fromkeys(ARN_PARTS, "string")]).encode()


class FunctionFailed(Exception):
    """The function refuses its arguments; the message is what Terraform shows."""


def _parse(arn: str) -> dict[str, str]:
    if not arn.startswith("arn:"):
        raise FunctionFailed(f"{arn!r} is not an ARN: it must start with arn:")
    sections = arn.split(":", 5)
    if len(sections) != 6:
        raise FunctionFailed(f"{arn!r} is not an ARN: it needs 6 sections separated by colons")
    return dict(zip(ARN_PARTS, sections[1:], strict=True))


def arn_parse(arn: str) -> dict[str, str]:
    return _parse(arn)


def arn_build(partition: str, service: str, region: str, account_id: str, resource: str) -> str:
    return ":".join(("arn", partition, service, region, account_id, resource))


def trim_iam_role_path(arn: str) -> str:
    parts = _parse(arn)
    if parts["service"] != "iam" or not parts["resource"].startswith("role/"):
        raise FunctionFailed(f"{arn!r} is not the ARN of an IAM role")
    name = parts["resource"].rsplit("/", 1)[1]
    return arn_build(
        parts["partition"], parts["service"], parts["region"], parts["account_id"], f"role/{name}"
    )


FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[str, ...], bytes, str]] = {
    "arn_parse": (arn_parse, ("arn",), _ARN_OBJECT, "Parses an ARN into its constituent parts."),
    "arn_build": (arn_build, ARN_PARTS, _STRING, "Builds an ARN from its constituent parts."),
    "trim_iam_role_path": (
        trim_iam_role_path,
        ("arn",),
        _STRING,
        "Trims the path prefix from an IAM role ARN.",
    ),
}


def declarations() -> dict[str, pb.Function]:
    """The functions as the schema and GetFunctions declare them (every parameter a string)."""
    return {
        name: pb.Function(
            parameters=[pb.Function.Parameter(name=p, type=_STRING) for p in parameters],
            summary=summary,
            **{"return": pb.Function.Return(type=returns)},
        )
        for name, (_fn, parameters, returns, summary) in FUNCTIONS.items()
    }


def call(name: str, arguments: list[Any]) -> tuple[Any, str]:
    """(result, "") or (None, why the function refused its arguments)."""
    if name not in FUNCTIONS:
        return None, f"the provider has no function {name}"
    function, parameters, _returns, _summary = FUNCTIONS[name]
    if len(arguments) != len(parameters) or not all(isinstance(a, str) for a in arguments):
        return None, f"{name} takes {len(parameters)} string argument(s)"
    try:
        return function(*arguments), ""
    except FunctionFailed as exc:
        return None, str(exc)
