"""The documents the IaC policies read: Terraform resources with literal values unquoted, and
Kubernetes manifests as parsed. Expressions stay `${...}` strings so policies can match
references (`${aws_security_group.web.id}`). A resource (or the aws provider block) whose type the
sensitive-argument data covers carries `sensitive`, the names its provider marks sensitive."""

from __future__ import annotations

from typing import Any

from agents.validator.aws_schema import sensitive_arguments
from agents.validator.k8s_manifests import Manifest
from agents.validator.tf_module import TfModule, clean, literal


def _normalise(value: Any) -> Any:
    value = clean(value)
    if isinstance(value, dict):
        return {str(literal(k)): _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str) and not (value.startswith('"') and value.endswith('"')):
        return value if value.startswith("${") else "${" + value + "}"
    return literal(value)


def _with_sensitive(entry: dict[str, Any], key: str) -> dict[str, Any]:
    names = sensitive_arguments().get(key)
    if names is not None:
        entry["sensitive"] = sorted(names)
    return entry


def terraform_input(module: TfModule, target: str = "terraform-aws") -> dict[str, Any]:
    resources = []
    for block in module.of("resource"):
        entry = {
            "address": block.address,
            "type": block.labels[0],
            "name": block.labels[1] if len(block.labels) > 1 else "",
            "file": block.file,
            "line": block.line,
            "config": _normalise(block.body),
        }
        resources.append(_with_sensitive(entry, entry["type"]))
    for block in module.of("provider"):
        entry = {
            "address": block.address,
            "type": "provider",
            "name": block.labels[0] if block.labels else "",
            "file": block.file,
            "line": block.line,
            "config": _normalise(block.body),
        }
        # The data describes the aws provider's block only, not `provider "vault"`.
        resources.append(_with_sensitive(entry, "provider") if entry["name"] == "aws" else entry)
    return {"target": target, "resources": resources, "manifests": []}


def kubernetes_input(manifests: list[Manifest], target: str = "kubevirt") -> dict[str, Any]:
    docs = []
    for m in manifests:
        if not isinstance(m.doc, dict):
            continue
        meta = m.doc.get("metadata")
        metadata: dict[str, Any] = meta if isinstance(meta, dict) else {}
        docs.append(
            {
                "file": m.file,
                "line": m.line,
                "kind": m.doc.get("kind", ""),
                "name": str(metadata.get("name", "")),
                "doc": m.doc,
            }
        )
    return {"target": target, "resources": [], "manifests": docs}
