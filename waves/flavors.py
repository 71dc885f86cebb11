"""OpenStack flavor catalogues: the user's YAML file of the flavors their cloud offers (no public
price list exists for a private cloud), checked against FLAVOR_SCHEMA, and the flavor each VM's
need gets (docs/targets.md, "OpenStack flavors"). migrator ships an example
(waves/data/openstack-flavors.example.yaml), used when no file is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from migrator.errors import InputFileError
from migrator.input_files import read_input

EXAMPLE = "data/openstack-flavors.example.yaml"
EXAMPLE_NAME = "waves/" + EXAMPLE  # how REPORT.md and errors name the shipped example

FLAVOR_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["flavors"],
    "additionalProperties": False,
    "properties": {
        "source": {"type": "string", "maxLength": 1000},
        "as_of": {"type": "string", "maxLength": 40},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "flavors": {
            "type": "array",
            "minItems": 1,
            "maxItems": 10000,
            "items": {
                "type": "object",
                "required": ["name", "vcpus", "ram_mb", "disk_gb"],
                "additionalProperties": False,
                "properties": {
                    "name": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "pattern": r"^[^\x00-\x1f]+$",
                    },
                    "vcpus": {"type": "integer", "minimum": 1, "maximum": 4096},
                    "ram_mb": {"type": "integer", "minimum": 1, "maximum": 67108864},
                    "disk_gb": {"type": "integer", "minimum": 0, "maximum": 1048576},
                    "hourly": {"type": "number", "minimum": 0},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Flavor:
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int  # the flavor's root disk (0: boot from a volume); migrator always boots from a volume
    hourly: float | None = None


@dataclass(frozen=True)
class FlavorCatalogue:
    origin: str  # the file it was read from (the shipped example's package path)
    source: str
    as_of: str
    currency: str | None  # None: the file carries no prices
    flavors: tuple[Flavor, ...]

    @property
    def label(self) -> str:
        """How generated files name the catalogue: the shipped example's package path, or the
        user's file name only (a local path does not belong in a plans repository)."""
        return self.origin if self.origin == EXAMPLE_NAME else Path(self.origin).name

    def fitting(self, vcpu: int, memory_mb: int) -> Flavor | None:
        """The smallest flavor with at least the need's vCPUs and memory: the cheapest where the
        file carries prices, else the fewest vCPUs, then the least memory (then by name)."""
        fits = [f for f in self.flavors if f.vcpus >= vcpu and f.ram_mb >= memory_mb]
        return min(fits, key=lambda f: (f.hourly or 0.0, f.vcpus, f.ram_mb, f.disk_gb, f.name), default=None)

    def named(self, name: str) -> Flavor | None:
        """The flavor of that name (None: the file has none)."""
        return next((f for f in self.flavors if f.name == name), None)


def load_flavors(path: str | None) -> FlavorCatalogue:
    """The catalogue in `path` (None: the shipped example), or one clear InputFileError naming
    the file and the first thing wrong in it (exit code 2)."""
    if path is None:
        return _example()
    file = Path(path)
    try:
        stat = file.stat()
    except OSError as exc:
        raise InputFileError(f"{{flavors}} {path}: {exc.strerror or exc}", field="flavors") from None
    return _from_file(str(file.resolve()), stat.st_mtime_ns, stat.st_size)


@cache
def _example() -> FlavorCatalogue:
    text = resources.files("waves").joinpath(EXAMPLE).read_text(encoding="utf-8")
    return parse_flavors(text, EXAMPLE_NAME)


@cache
def _from_file(path: str, _mtime_ns: int, _size: int) -> FlavorCatalogue:
    """Read once per file version (every wave of a plan asks for the same file)."""
    try:
        data = read_input(Path(path))
    except InputFileError as exc:
        raise InputFileError("{flavors} " + exc.template, field="flavors") from None
    return parse_flavors(data.decode("utf-8", errors="replace"), path)


def parse_flavors(text: str, origin: str) -> FlavorCatalogue:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise _bad(origin, f"not a YAML document{where}: {problem}") from None
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(FLAVOR_SCHEMA).iter_errors(document)
    )
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "the document"
        raise _bad(origin, f"{where}: {_one_line(error.message)}")
    flavors = tuple(Flavor(**entry) for entry in document["flavors"])
    _consistent(flavors, document, origin)
    return FlavorCatalogue(
        origin,
        str(document.get("source") or ""),
        str(document.get("as_of") or ""),
        (document.get("currency") or "USD") if flavors[0].hourly is not None else None,
        flavors,
    )


def _consistent(flavors: tuple[Flavor, ...], document: dict[str, Any], origin: str) -> None:
    names = [f.name for f in flavors]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise _bad(origin, f"flavor {twice[0]!r} is listed twice")
    priced = [f.hourly is not None for f in flavors]
    if any(priced) and not all(priced):
        unpriced = next(f.name for f in flavors if f.hourly is None)
        raise _bad(origin, f"hourly prices are all or none: {unpriced!r} has none")
    if "currency" in document and not any(priced):
        raise _bad(origin, "currency given but no flavor has an hourly price")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _bad(origin: str, why: str) -> InputFileError:
    return InputFileError(
        f"{{flavors}} {origin}: {why} (docs/targets.md, 'OpenStack flavors')", field="flavors"
    )
