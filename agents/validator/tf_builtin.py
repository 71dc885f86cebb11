"""The built-in Terraform validator: the fallback when Terraform's core cannot be loaded
(agents/validator/tf_core.py says so in a warning). It reports what `terraform validate` reports for the
constructs migrator emits, against the same generated schemas the schema-only provider serves
(hashicorp/aws, hashicorp/azurerm, terraform-provider-openstack/openstack:
agents/validator/provider_schemas.py, scripts/build_provider_schema.py).

Summaries and details follow Terraform's own wording so a reviewer sees the same message either
way. Expressions are not evaluated: their references are checked, their types are not, so it
misses what only evaluation finds (a function's arity, indexing a set, a list block's attribute
read without an index): the real core catches those.
"""

from __future__ import annotations

import difflib
import re
from functools import cache
from typing import Any

from agents.validator.provider_schemas import PROVIDERS, provider_of_type, schema_json
from agents.validator.tf_module import TfBlock, TfModule, is_expression, literal
from migrator.diagnostics import Diagnostic

CHECKER = "terraform-builtin"
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider"}
META_BLOCKS = {"lifecycle", "provisioner", "connection", "dynamic"}
LANGUAGE_BLOCKS: dict[str, tuple[set[str], set[str], set[str]]] = {
    # kind -> (arguments, blocks, required arguments)
    "variable": (
        {"type", "default", "description", "sensitive", "nullable", "ephemeral"},
        {"validation"},
        set(),
    ),
    "output": ({"value", "description", "sensitive", "depends_on", "ephemeral"}, {"precondition"}, {"value"}),
}
_REF = re.compile(r"(?<![\w.\"])([a-z][a-z0-9_]*)\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?(?:\.([A-Za-z_]\w*))?")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_INTERPOLATION = re.compile(r"(?<!\$)\$\{(.*?)\}")
_SKIP_ROOTS = {"each", "count", "self", "path", "terraform", "module", "data"}


@cache
def provider_schema(provider: str = "aws") -> dict[str, Any]:
    """One generated schema in the shape this checker walks: configurable attributes with their
    type and whether required, nested blocks, and every readable name per resource type."""
    spec = schema_json(provider)
    return {
        "provider_config": _block(spec["provider"]["block"]),
        "resource_types": sorted(spec["resource_schemas"]),
        "resources": {
            name: {
                "block": _block(s["block"]),
                "readable": sorted([*s["block"]["attributes"], *s["block"]["block_types"]]),
            }
            for name, s in spec["resource_schemas"].items()
        },
    }


@cache
def all_schemas() -> dict[str, Any]:
    """Every served provider's schema at once (their type names never overlap: each starts with
    its provider's name), with each provider block's schema by provider name."""
    schemas = {name: provider_schema(name) for name in PROVIDERS}
    return {
        "provider_configs": {name: s["provider_config"] for name, s in schemas.items()},
        "resource_types": sorted(t for s in schemas.values() for t in s["resource_types"]),
        "resources": {t: r for s in schemas.values() for t, r in s["resources"].items()},
    }


def _block(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "attributes": {
            name: {"type": _type(a["type"]), "required": bool(a.get("required"))}
            for name, a in spec["attributes"].items()
            if a.get("optional") or a.get("required")
        },
        "computed": sorted(
            n for n, a in spec["attributes"].items() if not (a.get("optional") or a.get("required"))
        ),
        "blocks": {
            name: {
                "nesting": "single"
                if b["nesting_mode"] == "single" or b.get("max_items") == 1
                else b["nesting_mode"],
                "block": _block(b["block"]),
            }
            for name, b in spec["block_types"].items()
        },
    }


def _type(cty: Any) -> Any:
    """A cty type as type_problem() reads it: sets are checked as lists, objects not at all."""
    if isinstance(cty, str):
        return {"dynamic": "any"}.get(cty, cty)
    if cty[0] in ("list", "set", "map"):
        return ["map" if cty[0] == "map" else "list", _type(cty[1])]
    return "any"


def _suggest(name: str, candidates: list[str] | set[str]) -> str:
    match = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.75)
    return f' Did you mean "{match[0]}"?' if match else ""


class BuiltinTerraformValidator:
    def __init__(self, module: TfModule) -> None:
        self.module = module
        self.schema = all_schemas()
        self.diagnostics: list[Diagnostic] = []
        # what references may name, gathered once (a large wave has thousands of references)
        self.resource_types = set(self.schema["resource_types"])
        self.resources = {b.labels for b in module.of("resource")}
        self.variables = {b.labels[0] for b in module.of("variable") if b.labels}
        self.locals = {k for b in module.of("locals") for k in b.body if not k.startswith("__")}

    def types_of(self, provider: str) -> list[str]:
        return [t for t in self.schema["resource_types"] if provider_of_type(t) == provider]

    def error(self, block: TfBlock, rule: str, line: int | None, summary: str, detail: str) -> None:
        self.diagnostics.append(
            Diagnostic(CHECKER, rule, "error", block.file, line, f"{summary}: {detail}", block.address)
        )

    def not_checked(self, block: TfBlock, why: str) -> None:
        self.diagnostics.append(
            Diagnostic(
                CHECKER,
                "TF-NOT-CHECKED",
                "info",
                block.file,
                block.line,
                f"{why}; not checked",
                block.address,
            )
        )

    def run(self) -> list[Diagnostic]:
        self._duplicates()
        for block in self.module.blocks:
            if block.kind == "resource":
                self._resource(block)
            elif block.kind == "provider" and block.labels and block.labels[0] in PROVIDERS:
                self._body(block, block.body, self.schema["provider_configs"][block.labels[0]], "provider")
            elif block.kind in LANGUAGE_BLOCKS:
                self._language_block(block)
            self._references(block, block.body)
        return self.diagnostics

    def _duplicates(self) -> None:
        seen: dict[tuple[str, tuple[str, ...]], TfBlock] = {}
        for block in self.module.blocks:
            if block.kind not in ("resource", "variable", "output"):
                continue
            key = (block.kind, block.labels)
            if key in seen:
                first = seen[key]
                what = (
                    f'{block.kind} "{block.labels[-1]}"'
                    if block.kind != "resource"
                    else (f'resource "{block.labels[0]}" "{block.labels[1]}"')
                )
                self.error(
                    block,
                    "TF-DUPLICATE",
                    block.line,
                    f"Duplicate {block.kind} declaration",
                    f"{what} was already declared at {first.file}:{first.line}.",
                )
            seen.setdefault(key, block)

    def _resource(self, block: TfBlock) -> None:
        rtype = block.labels[0]
        provider = provider_of_type(rtype)
        if provider is None:
            served = ", ".join(p.source for p in PROVIDERS.values())
            self.not_checked(block, f"resource type {rtype} is outside the built-in schemas ({served})")
            return
        if rtype not in self.schema["resources"]:
            if rtype not in self.resource_types:
                self.error(
                    block,
                    "TF-INVALID-RESOURCE-TYPE",
                    block.line,
                    "Invalid resource type",
                    f'The provider {PROVIDERS[provider].source} does not support resource type "{rtype}".'
                    + _suggest(rtype, self.types_of(provider)),
                )
            else:
                self.not_checked(block, f"{rtype} is a valid type outside the built-in schema subset")
            return
        self._body(block, block.body, self.schema["resources"][rtype]["block"], "resource")

    def _body(self, block: TfBlock, body: dict[str, Any], schema: dict[str, Any], context: str) -> None:
        attributes, blocks = schema["attributes"], schema["blocks"]
        for key, value in body.items():
            if key.startswith("__"):
                continue
            nested = (
                isinstance(value, list)
                and value
                and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
            )
            line = self.module.line_of(block, key)
            if context == "resource" and (key in META_ARGUMENTS or key in META_BLOCKS):
                continue
            if nested:
                if key not in blocks:
                    hint = (
                        f' Did you mean to define argument "{key}"? '
                        "If so, use the equals sign to assign it a value."
                        if key in attributes
                        else _suggest(key, set(blocks))
                    )
                    self.error(
                        block,
                        "TF-UNSUPPORTED-BLOCK",
                        line,
                        "Unsupported block type",
                        f'Blocks of type "{key}" are not expected here.' + hint,
                    )
                    continue
                spec = blocks[key]
                if spec["nesting"] == "single" and len(value) > 1:
                    self.error(
                        block,
                        "TF-TOO-MANY-BLOCKS",
                        self.module.line_of(block, key, start=line + 1) if line else line,  # the 2nd one
                        "Too many " + key + " blocks",
                        f'No more than 1 "{key}" blocks are allowed',
                    )
                for item in value:
                    self._body(block, item, spec["block"], "nested")
                continue
            if key in schema["computed"]:
                self.error(
                    block,
                    "TF-UNCONFIGURABLE-ATTRIBUTE",
                    line,
                    "Value for unconfigurable attribute",
                    f'Can\'t configure a value for "{key}": its value will be decided automatically '
                    "based on the result of applying this configuration.",
                )
                continue
            if key not in attributes:
                if key in blocks:
                    detail = (
                        f'An argument named "{key}" is not expected here. '
                        f'Did you mean to define a block of type "{key}"?'
                    )
                else:
                    detail = f'An argument named "{key}" is not expected here.' + _suggest(
                        key, set(attributes)
                    )
                self.error(block, "TF-UNSUPPORTED-ARGUMENT", line, "Unsupported argument", detail)
                continue
            problem = type_problem(value, attributes[key]["type"])
            if problem:
                self.error(
                    block,
                    "TF-INCORRECT-TYPE",
                    line,
                    "Incorrect attribute value type",
                    f'Inappropriate value for attribute "{key}": {problem}',
                )
        self._missing(
            block, [name for name, spec in attributes.items() if spec["required"] and name not in body]
        )

    def _language_block(self, block: TfBlock) -> None:
        arguments, blocks, required = LANGUAGE_BLOCKS[block.kind]
        for key in block.body:
            if key.startswith("__") or key in arguments or key in blocks:
                continue
            self.error(
                block,
                "TF-UNSUPPORTED-ARGUMENT",
                self.module.line_of(block, key),
                "Unsupported argument",
                f'An argument named "{key}" is not expected here.' + _suggest(key, arguments),
            )
        self._missing(block, sorted(required - set(block.body)))

    def _missing(self, block: TfBlock, names: list[str]) -> None:
        for name in names:
            self.error(
                block,
                "TF-MISSING-ARGUMENT",
                block.line,
                "Missing required argument",
                f'The argument "{name}" is required, but no definition was found.',
            )

    def _references(self, block: TfBlock, value: Any) -> None:
        for expression in _expressions(value):
            for root, name, attribute in _REF.findall(_STRING.sub('""', expression)):
                self._reference(block, root, name, attribute)

    def _reference(self, block: TfBlock, root: str, name: str, attribute: str) -> None:
        def line() -> int | None:  # searched only when there is something to report
            return self._line_of_text(block, f"{root}.{name}")

        if root == "var":
            if name not in self.variables:
                self.error(
                    block,
                    "TF-UNDECLARED-VARIABLE",
                    line(),
                    "Reference to undeclared input variable",
                    f'An input variable with the name "{name}" has not been declared. '
                    f'This variable can be declared with a variable "{name}" {{}} block.',
                )
        elif root == "local":
            if name not in self.locals:
                self.error(
                    block,
                    "TF-UNDECLARED-LOCAL",
                    line(),
                    "Reference to undeclared local value",
                    f'A local value with the name "{name}" has not been declared.',
                )
        elif root in _SKIP_ROOTS or "_" not in root:
            return
        elif (root, name) not in self.resources:
            self.error(
                block,
                "TF-UNDECLARED-RESOURCE",
                line(),
                "Reference to undeclared resource",
                f'A managed resource "{root}" "{name}" has not been declared in the root module.',
            )
        elif attribute and root in self.schema["resources"]:
            readable = self.schema["resources"][root]["readable"]
            if attribute not in readable:
                self.error(
                    block,
                    "TF-UNSUPPORTED-ATTRIBUTE",
                    line(),
                    "Unsupported attribute",
                    f'This object has no argument, nested block, or exported attribute named "{attribute}".'
                    + _suggest(attribute, readable),
                )

    def _line_of_text(self, block: TfBlock, needle: str) -> int | None:
        lines = self.module.texts.get(block.file, [])
        if block.line is None:
            return None
        for number in range(block.line, min(block.end_line or len(lines), len(lines)) + 1):
            if needle in lines[number - 1]:
                return number
        return block.line


def _expressions(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [e for k, v in value.items() if not k.startswith("__") for e in _expressions(v)]
    if isinstance(value, list):
        return [e for v in value for e in _expressions(v)]
    if not isinstance(value, str):
        return []
    if is_expression(value):
        return [value[2:-1] if value.startswith("${") and value.endswith("}") else value]
    return _INTERPOLATION.findall(value)


def type_problem(value: Any, expected: Any) -> str | None:
    """Terraform's message when a literal cannot convert to the attribute type; None if it can."""
    if is_expression(value):
        return None
    value = literal(value)
    if expected == "any":
        return None
    if expected == "string":
        return None if isinstance(value, str | int | float | bool) else "string required."
    if expected == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return "a number is required."
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return "a number is required."
        return None
    if expected == "bool":
        if isinstance(value, bool) or (isinstance(value, str) and value in ("true", "false")):
            return None
        return "a bool is required."
    kind, element = expected
    label = f"{kind} of {element if isinstance(element, str) else 'object'} required."
    if kind == "list":
        if not isinstance(value, list):
            return label
        problems = [type_problem(v, element) for v in value]
    else:
        if not isinstance(value, dict):
            return label
        problems = [type_problem(v, element) for v in value.values()]
    return next((f"element: {p}" for p in problems if p), None)


def validate_module(module: TfModule) -> list[Diagnostic]:
    return BuiltinTerraformValidator(module).run()
