"""The built-in equivalent of `kubeconform -strict`: jsonschema against the same schemas.

CRDs (every KubeVirt and CDI kind, Forklift, Multus) come from agents/data/k8s (copied from
datreeio/CRDs-catalog and kubev2v/forklift, see its README); core kinds from the strict schemas
the PyPI package kubernetes-validate ships. Messages follow kubeconform's (`<path>: <msg>`), so
either tool reads the same to a reviewer.

A document no schema covers is `K8S-NO-SCHEMA`, naming its kind and apiVersion (and the versions
that do ship for that kind). It is an error unless the user chose `--missing-schemas warning`,
and even then for the kinds migrator itself emits: their schemas ship, so a miss there is a
wrong apiVersion, not a kind nobody published.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
from referencing import Registry, Resource

from agents.validator.k8s_manifests import Manifest
from migrator.diagnostics import Diagnostic
from transpilers.kubevirt import API_VERSIONS

CHECKER = "kubernetes-builtin"
KUBERNETES_VERSION = "1.37.0"  # of the core schemas used (kubernetes-validate's newest)


def core_schema_dir() -> Path:
    return (
        Path(kubernetes_validate.__file__).parent
        / "kubernetes-json-schema"
        / f"v{KUBERNETES_VERSION}-local-strict"
    )


@cache
def _core_registry() -> Registry:
    definitions = json.loads((core_schema_dir() / "_definitions.json").read_text(encoding="utf-8"))
    return Registry().with_resource(definitions["$id"], Resource.from_contents(definitions))


@cache
def validator_for(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    group, _, version = api_version.rpartition("/")
    crd = resources.files("agents").joinpath(f"data/k8s/{group}/{kind.lower()}_{version}.json")
    if group and crd.is_file():
        schema = json.loads(crd.read_text(encoding="utf-8"))
        schema.setdefault("additionalProperties", False)  # -strict: unknown top-level keys too
        return jsonschema.Draft7Validator(schema)
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    core = core_schema_dir() / f"{kind.lower()}{suffix}.json"
    if core.is_file():
        schema = json.loads(core.read_text(encoding="utf-8"))
        return jsonschema.Draft202012Validator(schema, registry=_core_registry())
    return None


def _crd_versions(group: str, kind: str) -> list[str]:
    """The versions of a CRD kind whose schema ships (file names `<kind>_<version>.json`)."""
    folder = resources.files("agents").joinpath(f"data/k8s/{group}")
    if not group or not folder.is_dir():
        return []
    prefix = f"{kind.lower()}_"
    return sorted(
        f"{group}/{f.name[len(prefix) : -len('.json')]}"
        for f in folder.iterdir()
        if f.name.startswith(prefix) and f.name.endswith(".json")
    )


def no_schema(kind: str, api_version: str, missing: str = "error") -> tuple[str, str]:
    """(severity, message) of K8S-NO-SCHEMA for a document of this kind and apiVersion; the
    built-in validator and the kubeconform mapping both use it, so the two paths agree."""
    group = api_version.rpartition("/")[0]
    emitted = kind in API_VERSIONS and API_VERSIONS[kind].rpartition("/")[0] == group
    severity = "error" if missing == "error" or emitted else "warning"
    message = f"could not find schema for {kind} ({api_version})"
    shipped = _crd_versions(group, kind)
    if shipped:
        message += f"; schemas ship for {', '.join(shipped)}"
    if severity == "warning":
        message += "; not validated (missing schemas are warnings in this run)"
    return severity, message


def _message(error: jsonschema.ValidationError) -> tuple[str, str]:
    """(rule suffix, kubeconform-style message)"""
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return "ADDITIONAL-PROPERTY", "additionalProperties " + ", ".join(
            f"'{e}'" for e in extra
        ) + " not allowed"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return "REQUIRED", f"missing properties: '{missing}'"
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return "TYPE", f"expected {expected}, but got {_json_type(error.instance)}"
    if error.validator == "enum":
        return "ENUM", "value must be one of " + ", ".join(json.dumps(v) for v in error.validator_value)
    return "INVALID", error.message


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}.get(type(value), "unknown")


def validate_manifest(m: Manifest, missing: str = "error") -> list[Diagnostic]:
    doc = m.doc
    if not isinstance(doc, dict):
        return [
            Diagnostic(CHECKER, "K8S-NOT-AN-OBJECT", "error", m.file, m.line, "document is not a mapping")
        ]
    for key in ("apiVersion", "kind"):
        if not isinstance(doc.get(key), str):
            return [
                Diagnostic(
                    CHECKER, "K8S-MISSING-KIND", "error", m.file, m.line, f"missing '{key}' key", m.ref
                )
            ]
    validator = validator_for(doc["apiVersion"], doc["kind"])
    if validator is None:
        severity, message = no_schema(doc["kind"], doc["apiVersion"], missing)
        return [Diagnostic(CHECKER, "K8S-NO-SCHEMA", severity, m.file, m.line, message, m.ref)]
    found = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        suffix, message = _message(error)
        pointer = "/" + "/".join(str(p) for p in path)
        found.append(
            Diagnostic(
                CHECKER,
                f"K8S-SCHEMA-{suffix}",
                "error",
                m.file,
                m.line_of(path),
                f"{pointer}: {message}",
                m.ref,
            )
        )
    return found


def validate_manifests(manifests: list[Manifest], missing: str = "error") -> list[Diagnostic]:
    return [d for m in manifests for d in validate_manifest(m, missing)]
