"""The policy registry: every .rego file under source/ and iac/ is one policy, its metadata the
`metadata` rule of its package, its fixtures fixtures/<ID>.json. Files are listed explicitly by
folder (no import magic) and loaded once per process."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from threading import Lock
from typing import Any

from regopy import Input, Interpreter
from regopy import rego_shared as _capi
from regopy.interpreter import Bundle

from migrator.errors import MigratorError

FAMILIES = ("source", "iac")
SEVERITIES = ("critical", "warning", "info")
REQUIRED_METADATA = ("id", "severity", "title", "description", "remediation")
# Whose code an IaC guardrail judges: `generated` ones check migrator's own conventions (its
# provenance tags, its promise never to emit executable text) and judge only files carrying
# migrator's header; `any` ones judge every file (docs/validate.md, "Profiles").
SCOPES = ("generated", "any")
# Policy severity -> diagnostic severity: a critical finding blocks, like an error.
DIAGNOSTIC_SEVERITY = {"critical": "error", "warning": "warning", "info": "info"}


@dataclass(frozen=True)
class Policy:
    family: str  # source | iac
    package: str  # migrator.source.passthrough
    file: str  # relative to the policies package
    text: str
    metadata: dict[str, Any] = field(hash=False)

    @property
    def id(self) -> str:
        return str(self.metadata["id"])

    @property
    def severity(self) -> str:
        return str(self.metadata["severity"])

    @property
    def scope(self) -> str:
        """generated | any (IaC guardrails); "" for source policies, which judge inventory."""
        return str(self.metadata.get("scope", ""))

    @property
    def name(self) -> str:
        """The last part of the package: its key in the family's query result."""
        return self.package.rsplit(".", 1)[1]


def _rego_files(folder: str) -> list[Traversable]:
    root = resources.files("policies").joinpath(folder)
    return sorted((f for f in root.iterdir() if f.name.endswith(".rego")), key=lambda f: f.name)


def library() -> dict[str, str]:
    return {f"lib/{f.name}": f.read_text(encoding="utf-8") for f in _rego_files("lib")}


def _interpreter(modules: dict[str, str]) -> Interpreter:
    """An interpreter with the shared library and the given policy modules (file -> text)."""
    rego = Interpreter()
    for name, text in {**library(), **modules}.items():
        rego.add_module(name, text)
    return rego


@cache
def interpreter(family: str, scopes: tuple[str, ...] | None = None) -> Interpreter:
    """The interpreter of one family (one per process; `evaluate` sets the input per query),
    holding only the guardrails of the given scopes when `scopes` is set."""
    return _interpreter({p.file: p.text for p in policies(family) if scopes is None or p.scope in scopes})


_EVALUATING = Lock()  # one interpreter per family is shared: its input and query must not interleave


def evaluate(
    family: str, policy_input: dict[str, Any], scopes: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Every policy of the family (of those scopes, when given) over the input: package name ->
    {metadata, findings}. A policy of another scope is not loaded, so it does not run at all.
    Thread-safe (the dashboard serves requests, and fills the findings cache, in threads)."""
    if scopes is not None and set(SCOPES) <= set(scopes):
        scopes = None  # every scope: the one interpreter the other callers share
    with _EVALUATING:
        rego = interpreter(family, scopes)
        set_input(rego, policy_input)
        return query(rego, f"data.migrator.{family}", _bundle(family, scopes))


def evaluate_findings(family: str, policy_input: dict[str, Any]) -> dict[str, list[Any]]:
    """Only the `findings` of every policy of the family over the input: package name -> findings.

    One compiled query per policy over one input: unlike `evaluate`, it leaves out the metadata
    and each policy's helper rules (an index of the clusters, the names DRS rules list), which
    would otherwise be written out as JSON and parsed back, and 22 small queries take 0.7 of the
    time of one query of the same 22 rules in rego-cpp (measured on 10,000 VMs)."""
    with _EVALUATING:
        rego = interpreter(family)
        set_input(rego, policy_input)
        return _each_findings(rego, family, None)


def scoped_findings(
    family: str, policy_input: dict[str, Any], scopes: tuple[str, ...] | None = None
) -> dict[str, list[Any]]:
    """`evaluate_findings` for the policies of the given scopes only (all when None): package
    name -> findings. The IaC guardrails take this route: querying the whole family also writes
    out every helper rule (a guardrail's list of database instances or placement groups, whole
    resources each) as JSON for Python to parse back."""
    if scopes is not None and set(SCOPES) <= set(scopes):
        scopes = None
    with _EVALUATING:
        rego = interpreter(family, scopes)
        set_input(rego, policy_input)
        if policy_input.get("resources"):
            return _pack_findings(rego, family, scopes)
        return _each_findings(rego, family, scopes)


def _each_findings(rego: Interpreter, family: str, scopes: tuple[str, ...] | None) -> dict[str, list[Any]]:
    """Each policy's `findings` (of those scopes) by its own query, an entry point of one bundle."""
    bundle, entrypoints = _findings_bundles(family, scopes)
    return {
        name: list(query_value(rego, f"data.migrator.{family}.{name}.findings", bundle, entrypoint) or [])
        for name, entrypoint in entrypoints.items()
    }


def _pack_findings(rego: Interpreter, family: str, scopes: tuple[str, ...] | None) -> dict[str, list[Any]]:
    """Every policy's `findings` in one query, for an input with Terraform resources: the
    library's index of resources by type (`lib.resources`) is then built once for the whole pack,
    not once per policy, which halves a large wave's guardrails (docs/policies.md). Manifest-only
    inputs keep one query per policy, which is faster there (no index to share)."""
    path, bundle = _pack_bundle(family, scopes)
    found = query_value(rego, path, bundle)
    if not isinstance(found, dict):  # every `findings` is a partial set, so always defined
        raise MigratorError(f"the policy engine returned no findings object for {path}")
    return {name: list(value or []) for name, value in found.items()}


@cache
def _pack_bundle(family: str, scopes: tuple[str, ...] | None = None) -> tuple[str, Bundle]:
    """One object of every policy's (of those scopes) `findings`, compiled once per process."""
    names = [p.name for p in policies(family) if scopes is None or p.scope in scopes]
    path = "{" + ", ".join(f'"{name}": data.migrator.{family}.{name}.findings' for name in names) + "}"
    try:
        return path, interpreter(family, scopes).build(path)
    except Exception as exc:  # regopy raises its own error types for compilation failures
        raise MigratorError(f"policy compilation failed for {family}: {str(exc).splitlines()[0]}") from None


@cache
def _findings_bundles(family: str, scopes: tuple[str, ...] | None = None) -> tuple[Bundle, dict[str, str]]:
    """Each policy's `findings` rule (of those scopes, when given) as an entry point of one bundle
    compiled once per process, and the entry point of each policy (package name -> entry point).

    One bundle of 22 entry points compiles in 0.02 s, 22 bundles of one query each in 0.5 s (the
    source pack): every query bundle compiled the whole pack again. Each worker process pays it."""
    names = {p.name: p for p in policies(family) if scopes is None or p.scope in scopes}
    entrypoints = {name: p.package.replace(".", "/") + "/findings" for name, p in names.items()}
    rego = interpreter(family, scopes)
    try:
        return rego.build(None, list(entrypoints.values())), entrypoints
    except Exception:  # regopy raises its own error types for compilation failures
        pass
    for policy in names.values():  # which policy fails, on its own
        try:
            rego.build(f"data.{policy.package}.findings")
        except Exception as exc:
            raise MigratorError(
                f"policy compilation failed for {policy.id}: {str(exc).splitlines()[0]}"
            ) from None
    raise MigratorError(f"policy compilation failed for the {family} pack's entry points")


# Rego's tokens that can name an input field: comments (skipped), strings, raw strings, identifiers.
_TOKENS = re.compile(r'#[^\n]*|"((?:[^"\\\n]|\\.)*)"|`([^`]*)`|([A-Za-z_][A-Za-z0-9_]*)')


@cache
def named_in_pack(family: str) -> frozenset[str]:
    """Every identifier and string literal in the family's policies and the shared library.

    A policy reads a field of the input by naming it (`vm.disks`, `object.get(disk, "rdm", x)`, a
    key in a table such as hot_plug's `settings`): a VM or disk field the pack never names cannot
    change a finding, so `policies.engine` leaves such fields (utilisation, tags, custom
    attributes, UUIDs, controllers) out of the input. rego-cpp's cost grows with the size of each
    record, both building the input and binding a VM to a variable (docs/policies.md)."""
    texts = [p.text for p in policies(family)]
    if any("migrator.lib" in text for text in texts):  # only then can the library read the input
        texts += library().values()
    names: set[str] = set()
    for text in texts:
        for match in _TOKENS.finditer(text):
            string, raw, identifier = match.groups()
            if string is not None:
                names.add(json.loads(f'"{string}"'))
            names.update(x for x in (raw, identifier) if x is not None)
    return frozenset(names)


@cache
def bundle_digest(family: str) -> str:
    """sha256 of the family's policies and the shared library: what cached results are keyed by."""
    digest = hashlib.sha256()
    for name, text in sorted({**library(), **{p.file: p.text for p in policies(family)}}.items()):
        digest.update(f"{name}\0{text}\0".encode())
    return digest.hexdigest()


class _NotPlain(Exception):
    """A JSON number the in-memory input cannot carry as the text form does."""


def _int64(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise _NotPlain(text)  # regopy's Input would wrap it silently
    return value


def _constant(text: str) -> Any:
    raise _NotPlain(text)  # NaN, Infinity


def set_input(rego: Interpreter, policy_input: dict[str, Any]) -> None:
    """The input exactly as its JSON text would give it (YAML may hold dates: they become strings).

    rego-cpp reads a value built in memory (`Input`) two to four times faster than the same value
    as JSON text. The JSON round trip gives both routes the same value, and every string is
    handed over in its escaped JSON form because that is how rego-cpp holds a string it parsed
    (its builtins see the escapes: count("a\\"b") is 4 on either route). A number the in-memory
    route cannot carry (beyond 64 bits, NaN, Infinity) takes the text route."""
    text = json.dumps(policy_input, default=str)
    try:
        plain = json.loads(text, parse_int=_int64, parse_constant=_constant)
    except _NotPlain:
        rego.set_input_term(text)
        return
    rego.set_input(_input(plain))


def _input(plain: Any) -> Input:
    """The plain value as regopy's `Input`, every string (and key) in its escaped JSON form.

    Built in one pass with each distinct string escaped and encoded once: regopy's builder (a
    Python call, a chain of type tests and a fresh C buffer per value) and the escaping pass
    before it took 2.1 s of CPU on a 10,000-VM estate, this 1.6 s. It calls the same C functions
    in the same order as `rego_input_from_value`; `tests/test_known_parse.py` checks its input
    gives the answers of the JSON text."""
    handle = _capi.rego_new_input()
    try:
        _InputBuilder(handle).add(plain)
    except BaseException:
        _capi.rego_free_input(handle)
        raise
    built = Input.__new__(Input)
    built._impl = handle  # what Input.__init__ sets (and its __del__ frees)
    return built


class _InputBuilder:
    """Pushes a plain value onto a regopy input handle (the C API is a stack machine: a value, or
    the items of an object or array and then the object or array). Scalars inside an object or
    array are pushed inline rather than by a call of `add` each: most of an estate's values are
    scalars in a VM's fields, and a Python call per value was a third of the builder's time."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.strings: dict[str, bytes] = {}
        lib = _capi.rego
        self.string, self.integer, self.real = lib.regoInputString, lib.regoInputInt, lib.regoInputFloat
        self.boolean, self.null, self.item = lib.regoInputBoolean, lib.regoInputNull, lib.regoInputObjectItem
        self.object, self.array = lib.regoInputObject, lib.regoInputArray

    def text(self, value: str) -> bytes:
        encoded = self.strings.get(value)
        if encoded is None:
            encoded = self.strings[value] = json.dumps(value)[1:-1].encode("utf-8")
        return encoded

    def add(self, value: Any) -> None:
        """One value (JSON's types only: `set_input` passes a JSON round trip's result)."""
        kind = type(value)
        if kind is dict:
            self.add_object(value)
        elif kind is list:
            for item in value:
                self.add_item(item)
            self.check(self.array(self.handle, len(value)))
        else:
            self.add_item(value)

    def add_object(self, value: dict[str, Any]) -> None:
        handle, string, item, strings = self.handle, self.string, self.item, self.strings
        for key, val in value.items():
            encoded = strings.get(key)
            if string(handle, self.text(key) if encoded is None else encoded):
                self.fail()
            kind = type(val)
            if kind is str:
                encoded = strings.get(val)
                code = string(handle, self.text(val) if encoded is None else encoded)
            elif kind is bool:
                code = self.boolean(handle, val)
            elif kind is int:
                code = self.integer(handle, val)
            elif val is None:
                code = self.null(handle)
            else:
                code = 0
                self.add(val)
            if code or item(handle):
                self.fail()
        self.check(self.object(handle, len(value)))

    def add_item(self, value: Any) -> None:
        """A value of an array (or the whole input): scalars here, containers by `add`."""
        kind, handle = type(value), self.handle
        if kind is str:
            encoded = self.strings.get(value)
            code = self.string(handle, self.text(value) if encoded is None else encoded)
        elif kind is dict:
            self.add_object(value)
            return
        elif kind is list:
            self.add(value)
            return
        elif kind is bool:
            code = self.boolean(handle, value)
        elif kind is int:
            code = self.integer(handle, value)
        elif kind is float:
            code = self.real(handle, value)
        elif value is None:
            code = self.null(handle)
        else:
            raise TypeError(f"not a JSON value: {kind.__name__}")
        self.check(code)

    @staticmethod
    def check(code: int) -> None:
        if code != _capi.Code.OK:
            raise _capi.RegoError("Unable to create input", code)

    @staticmethod
    def fail() -> None:
        raise _capi.RegoError("Unable to create input", _capi.Code.ERROR)


@cache
def _bundle(family: str, scopes: tuple[str, ...] | None = None) -> Bundle:
    """The family's query compiled once per process: compiling was half of every evaluation
    (about 0.05 of 0.1 s for a golden wave); the compiled plan reads the input set per query."""
    path = f"data.migrator.{family}"
    try:
        return interpreter(family, scopes).build(path)
    except Exception as exc:  # regopy raises its own error types for compilation failures
        raise MigratorError(f"policy compilation failed for {path}: {str(exc).splitlines()[0]}") from None


@cache
def _load() -> tuple[Policy, ...]:
    found = []
    for family in FAMILIES:
        for f in _rego_files(family):
            text = f.read_text(encoding="utf-8")
            package = next(
                (line.split()[1] for line in text.splitlines() if line.startswith("package ")), None
            )
            if package is None:
                raise MigratorError(f"policies/{family}/{f.name}: no package line")
            found.append((family, package, f"{family}/{f.name}", text))
    metadata: dict[str, Any] = {}
    for family in FAMILIES:
        rego = _interpreter({file: text for fam, _package, file, text in found if fam == family})
        metadata.update(
            {
                f"migrator.{family}.{k}": v.get("metadata")
                for k, v in query(rego, f"data.migrator.{family}").items()
            }
        )
    return tuple(Policy(fam, pkg, file, text, metadata.get(pkg) or {}) for fam, pkg, file, text in found)


def policies(family: str | None = None) -> list[Policy]:
    return [p for p in _load() if family is None or p.family == family]


def fixtures(policy_id: str) -> dict[str, Any] | None:
    f = resources.files("policies").joinpath(f"fixtures/{policy_id}.json")
    if not f.is_file():
        return None
    data: dict[str, Any] = json.loads(f.read_text(encoding="utf-8"))
    return data


def query(rego: Interpreter, path: str, bundle: Bundle | None = None) -> dict[str, Any]:
    """Evaluate `path` (compiled in `bundle` when given) and return its value ({} when undefined)."""
    value = query_value(rego, path, bundle)
    return value if isinstance(value, dict) else {}


def query_value(
    rego: Interpreter, path: str, bundle: Bundle | None = None, entrypoint: str | None = None
) -> Any:
    """Evaluate `path` (compiled in `bundle` when given, as its `entrypoint` when given) and return
    its value (None when undefined)."""
    try:
        if bundle is None:
            output = rego.query(path)
        elif entrypoint is None:
            output = rego.query_bundle(bundle)
        else:
            output = rego.query_bundle_entrypoint(bundle, entrypoint)
        data = json.loads(str(output))
    except json.JSONDecodeError as exc:
        raise MigratorError(f"the policy engine returned unreadable output for {path}: {exc.msg}") from None
    except Exception as exc:  # regopy raises its own error types for evaluation failures
        raise MigratorError(f"policy evaluation failed for {path}: {str(exc).splitlines()[0]}") from None
    expressions = data.get("expressions") or [None]
    return expressions[0]
