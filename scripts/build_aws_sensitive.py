#!/usr/bin/env python3
"""Generate agents/data/aws-sensitive-attributes.json: for each hashicorp/aws resource type, the
arguments its provider schema marks `sensitive`, read from the PyPI wheel `pulumi-aws==7.51.1`.

    pip download --no-deps pulumi-aws==7.51.1 -d /tmp/pul
    python scripts/build_aws_sensitive.py --wheel /tmp/pul/pulumi_aws-7.51.1-py3-none-any.whl

Why that wheel: Pulumi's Terraform bridge generates pulumi-aws from the Terraform provider's
schema and turns every attribute declared `Sensitive: true` into a Pulumi secret. The generated
Python SDK shows it per resource class, in `_internal_init`: the input is wrapped
(`__props__.__dict__["password"] = ... pulumi.Output.secret(password)`) and the output listed
(`additional_secret_outputs=["password", "passwordWo"]`, Pulumi's camelCase names, mapped back
through the class's `@pulumi.getter(name=...)`). Nested block types (`_inputs.py`) carry no such
mark, so only top-level arguments are recorded.

Which Terraform type a Pulumi class stands for (`aws:rds/instance:Instance` is `aws_db_instance`)
is not in the wheel. It is inferred by comparing the class's property names (`__props__`
keys) with the top-level attributes and blocks of every resource in the shipped schema
(agents/data/aws-provider-schema.json.gz); Pulumi's names are Terraform's except that some list
blocks are pluralised, so a property also matches its singular. A class is kept only when one
type (or a set of types with identical argument names, such as `aws_lb`/`aws_alb`) matches
clearly best, and every secret name exists on it; the rest are listed in `excluded` with the
reason. The provider class maps to the provider block.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

WHEEL = "pulumi-aws"
VERSION = "7.51.1"
ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "agents" / "data" / "aws-provider-schema.json.gz"
OUT = ROOT / "agents" / "data" / "aws-sensitive-attributes.json"
# A match must cover this share of the union of both name sets and beat the runner-up by MARGIN
# (the wheel is newer than the schema, so a class may have a few arguments the schema lacks).
MIN_SCORE = 0.6
MARGIN = 0.1
# Terraform names Pulumi does not expose as properties (`timeouts` is a resource option there).
_NOT_PROPERTIES = {"id", "timeouts"}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


class PulumiResource:
    """What one generated resource class says: its token, property names, secret names."""

    def __init__(self, token: str, props: set[str], secrets: set[str], path: str) -> None:
        self.token, self.props, self.secrets, self.path = token, props, secrets, path


def _getter_names(cls: ast.ClassDef) -> dict[str, str]:
    """Pulumi (camelCase) name -> Python name, from `@pulumi.getter(name="...")`."""
    names: dict[str, str] = {}
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        names.setdefault(node.name, node.name)
        for dec in node.decorator_list:
            if isinstance(dec, ast.Call) and ast.unparse(dec.func) == "pulumi.getter":
                for kw in dec.keywords:
                    if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                        names[str(kw.value.value)] = node.name
    return names


def _read_class(cls: ast.ClassDef, path: str) -> PulumiResource | None:
    token = ""
    props: set[str] = set()
    secrets: set[str] = set()
    outputs: list[str] = []
    for node in ast.walk(cls):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(".__init__") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and str(first.value).split(":")[0] == "aws":
                token = str(first.value)
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Subscript) and ast.unparse(target.value) == "__props__.__dict__":
                key = target.slice
                if isinstance(key, ast.Constant):
                    props.add(str(key.value))
                    if "pulumi.Output.secret(" in ast.unparse(node.value):
                        secrets.add(str(key.value))
        if isinstance(node, ast.keyword) and node.arg == "additional_secret_outputs":
            outputs += [str(e.value) for e in getattr(node.value, "elts", []) if isinstance(e, ast.Constant)]
    if not token:
        return None
    getters = _getter_names(cls)
    for name in outputs:
        secrets.add(getters.get(name, _CAMEL.sub("_", name).lower()))
    return PulumiResource(token, props, secrets, path)


def read_wheel(wheel: Path) -> tuple[list[PulumiResource], dict[str, Any]]:
    """The resource classes that mark a secret, and the wheel's own metadata."""
    found: list[PulumiResource] = []
    with zipfile.ZipFile(wheel) as z:
        plugin = json.loads(z.read("pulumi_aws/pulumi-plugin.json"))
        for name in sorted(z.namelist()):
            if not name.endswith(".py"):
                continue
            text = z.read(name).decode()
            if "additional_secret_outputs" not in text and "Output.secret(" not in text:
                continue
            for node in ast.parse(text).body:
                if isinstance(node, ast.ClassDef) and any(
                    ast.unparse(b) in ("pulumi.CustomResource", "pulumi.ProviderResource") for b in node.bases
                ):
                    res = _read_class(node, name)
                    if res is not None and res.secrets:
                        found.append(res)
    return found, plugin


def _tf_names(schema: dict[str, Any]) -> set[str]:
    block = schema["block"]
    return (set(block.get("attributes", {})) | set(block.get("block_types", {}))) - _NOT_PROPERTIES


def _to_tf(name: str, tf: set[str]) -> str | None:
    """A Pulumi property's Terraform name: itself, or its singular (pluralised list blocks)."""
    for cand in (name, name[:-3] + "y" if name.endswith("ies") else "", name[:-2], name[:-1]):
        if cand and cand in tf:
            return cand
    return None


def _score(props: set[str], tf: set[str]) -> float:
    mapped = {_to_tf(p, tf) for p in props} - {None}
    return len(mapped) / len(tf | {p for p in props if _to_tf(p, tf) is None})


def map_resource(res: PulumiResource, types: dict[str, set[str]]) -> tuple[list[str], str]:
    """The Terraform types `res` stands for, or [] and why not."""
    props = res.props - {"id"}
    scored = sorted(((_score(props, names), t) for t, names in types.items()), reverse=True)
    best = scored[0][0]
    tied = [t for s, t in scored if s == best]
    runner_up = next((s for s, _ in scored if s < best), 0.0)
    if best < MIN_SCORE:
        return [], f"best match {scored[0][1]} covers only {best:.2f} of the names"
    if best - runner_up < MARGIN:
        return [], f"{scored[0][1]} ({best:.2f}) is not clearly ahead of the next ({runner_up:.2f})"
    if any(types[t] != types[tied[0]] for t in tied):
        return [], f"tied between types with different arguments: {', '.join(sorted(tied))}"
    return sorted(tied), ""


def build(wheel: Path, schema_path: Path) -> dict[str, Any]:
    schema = json.loads(gzip.decompress(schema_path.read_bytes()))
    provider = next(iter(schema["provider_schemas"].values()))
    types = {t: _tf_names(s) for t, s in provider["resource_schemas"].items()}
    found, plugin = read_wheel(wheel)
    claims: dict[str, dict[str, frozenset[str]]] = {}
    resources: dict[str, frozenset[str]] = {}
    excluded: dict[str, str] = {}
    for res in found:
        if res.token == "aws":
            mapped, why, names = ["provider"], "", _tf_names(provider["provider"])
        else:
            mapped, why = map_resource(res, types)
            names = types[mapped[0]] if mapped else set()
        if not mapped:
            excluded[res.token] = why
            continue
        # A secret the (older) schema does not know is left out by itself: the mapping stands.
        missing = sorted(s for s in res.secrets if _to_tf(s, names) is None)
        if missing:
            excluded[f"{res.token} {', '.join(missing)}"] = f"not an argument of {mapped[0]} in the schema"
        marked = frozenset(n for n in (_to_tf(s, names) for s in res.secrets) if n)
        for t in mapped if marked else []:
            claims.setdefault(t, {})[res.token] = marked
    for t, by_class in claims.items():
        # Two classes mapped to one type (or a tie group) must agree, or the type is left out.
        if len(set(by_class.values())) > 1:
            excluded[t] = f"classes disagree on its secrets: {', '.join(sorted(by_class))}"
        else:
            resources[t] = next(iter(by_class.values()))
    return {
        "provenance": {
            "generated_by": "scripts/build_aws_sensitive.py",
            "source": f"PyPI {WHEEL}=={VERSION} (pulumi-plugin.json version {plugin.get('version')}): "
            "the Python SDK Pulumi's Terraform bridge generates from hashicorp/aws, where every "
            "attribute the provider declares Sensitive is a Pulumi secret (Apache-2.0)",
            "terraform_provider": "the wheel does not name the hashicorp/aws release it was built from; "
            "types and names are kept only where they exist in agents/data/aws-provider-schema.json.gz",
            "covers": "top-level arguments of resources and of the provider block; nested blocks "
            "are not marked in the SDK",
        },
        "resources": {t: sorted(v) for t, v in sorted(resources.items())},
        "excluded": dict(sorted(excluded.items())),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, required=True, help=f"the {WHEEL}=={VERSION} wheel")
    ap.add_argument("--schema", type=Path, default=SCHEMA)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    data = build(args.wheel, args.schema)
    args.out.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    counts = f"{len(data['resources'])} types, {len(data['excluded'])} exclusions"
    print(f"{args.out}: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
