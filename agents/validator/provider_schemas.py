"""The providers migrator's schema-only provider serves, one entry each: the generated schema
(scripts/build_provider_schema.py, provenance inside the file), the prebuilt tfplugin6 answer
beside it, and the upstream release both were generated from. Adding a cloud is one entry here
plus its two data files."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class SchemaProvider:
    name: str  # the provider's local name and type prefix: aws (aws_instance), azurerm
    version: str  # the upstream release the schema was generated from
    namespace: str = "hashicorp"  # its registry namespace (openstack: terraform-provider-openstack)

    @property
    def source(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def address(self) -> str:
        return f"registry.terraform.io/{self.source}"

    @property
    def schema_file(self) -> str:
        return f"data/{self.name}-provider-schema.json.gz"

    @property
    def response_file(self) -> str:
        return f"data/{self.name}-provider-schema.pb.gz"

    def describe(self) -> str:
        return f"{self.source} {self.version}"


PROVIDERS: dict[str, SchemaProvider] = {
    p.name: p
    for p in (
        SchemaProvider("aws", "6.25.0"),
        SchemaProvider("azurerm", "4.55.0"),
        SchemaProvider("google", "6.50.0"),
        SchemaProvider("openstack", "3.0.0", "terraform-provider-openstack"),
    )
}
DEFAULT = "aws"  # code that names no provider of these is judged as hashicorp/aws code, as before


@cache
def schema_json(name: str = DEFAULT) -> dict[str, Any]:
    """`provider`, `resource_schemas`, `data_source_schemas` of one provider in the shape of
    `terraform providers schema -json`."""
    provider = PROVIDERS[name]
    data = resources.files("agents").joinpath(provider.schema_file).read_bytes()
    document: dict[str, Any] = json.loads(gzip.decompress(data))
    schemas: dict[str, Any] = document["provider_schemas"][provider.address]
    return schemas


def provider_of_type(type_name: str) -> str | None:
    """The served provider a resource type belongs to (`azurerm_managed_disk` -> azurerm)."""
    prefix = type_name.split("_", 1)[0]
    return prefix if prefix in PROVIDERS else None


def named_in(texts: Iterable[str]) -> list[str]:
    """The served providers a module's texts name by source address or type prefix, in the
    registry's order; none named: the default (hashicorp/aws), as every module was judged before."""
    joined = "\n".join(texts)
    found = [
        name
        for name, p in PROVIDERS.items()
        if f'"{p.source}"' in joined or f'"{name}_' in joined or f'provider "{name}"' in joined
    ]
    return found or [DEFAULT]


def socket_name(provider: str) -> str:
    """The socket one provider is served on in reattach mode (inside the session's folder)."""
    return f"provider-{provider}.sock"
