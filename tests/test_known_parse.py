"""The validator's shortcut for files migrator rendered (agents/validator/known.py): the parse it takes from
the transpiler must be the parse python-hcl2 / PyYAML give for the same text, and any file that
changed after rendering must be parsed for real. Also: the policy engine's in-memory input route
gives rego-cpp exactly what the JSON text route gives it."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from regopy import Interpreter

from agents.generator.transpiler_agent import _write
from agents.validator import ValidatorOptions, validate_folder
from agents.validator.k8s_manifests import load_manifests
from agents.validator.known import known_files
from agents.validator.limits import Limits
from agents.validator.tf_module import load_module
from policies.registry import set_input
from tests.test_transpilers import hostile_wave
from transpilers.inputs import wave_inputs
from transpilers.kubevirt import _dump
from transpilers.model import TargetOptions, WaveInput
from transpilers.registry import TRANSPILERS
from waves.parameters import PlanParameters
from waves.plan import plan_waves
from waves.synthetic import generate

OPTIONS = TargetOptions(vddk_url="https://vcenter.example/sdk", vddk_thumbprint="AA:BB", executor="cdi")


def synthetic_waves(count: int = 240) -> list[WaveInput]:
    """A planned synthetic estate with what discovery would add (NICs, disks' files, UUIDs)."""
    estate = generate(count, seed=7)
    for i, vm in enumerate(estate.vms):
        vm["bios_uuid"] = vm["instance_uuid"] = str(uuid.UUID(int=i + 1))
        vm["firmware"] = "efi" if i % 3 == 0 else "bios"
        vm["secure_boot"] = i % 6 == 0
        vlan = 100 + i % 5
        vm["nics"] = [
            {"network": f"vlan-{vlan}", "vlan": vlan, "mac": f"00:50:56:00:{i >> 8:02x}:{i & 255:02x}"}
        ]
        for d, disk in enumerate(vm.get("disks") or []):
            disk.update(
                {"datastore": f"ds-{i % 3}", "file": f"[ds-{i % 3}] {vm['name']}/{vm['name']}_{d}.vmdk"}
            )
    result = plan_waves(estate.vms, estate.clusters, estate.flows, PlanParameters(max_vms=60, pilot_vms=0))
    document = {**result.document, "plan": {**result.document["plan"], "snapshot_id": 1}}
    networks = sorted({(n["network"], n["vlan"]) for vm in estate.vms for n in vm["nics"]})
    records = [{"name": name, "vlan": vlan} for name, vlan in networks]
    return wave_inputs(document, estate.vms, estate.clusters, records, estate.flows)


WAVES = [*synthetic_waves(), hostile_wave()]


def _texts(files: dict[str, str], suffixes: tuple[str, ...]) -> dict[str, str]:
    return {name: text for name, text in files.items() if name.endswith(suffixes)}


@pytest.mark.parametrize("wave", WAVES, ids=lambda w: f"wave-{w.number}-{len(w.vms)}")
def test_rendered_hcl_parse_is_python_hcl2s(wave: WaveInput) -> None:
    rendered = TRANSPILERS["terraform-aws"].render(wave, OPTIONS)
    known = known_files(rendered.files, rendered.blocks, rendered.documents)
    texts = _texts(rendered.files, (".tf",))
    if wave.number != 1 or len(wave.vms) > 10:  # synthetic waves: every file takes the shortcut
        assert set(known) == set(texts)
    assert known, "the shortcut was never taken"
    fast, fast_problems = load_module(texts, Limits(), known)
    real, real_problems = load_module(texts, Limits())
    assert fast_problems == real_problems == []
    assert [dataclasses.astuple(b) for b in fast.blocks] == [dataclasses.astuple(b) for b in real.blocks]
    assert fast.texts == real.texts


@pytest.mark.parametrize("wave", WAVES, ids=lambda w: f"wave-{w.number}-{len(w.vms)}")
def test_rendered_yaml_documents_are_pyyamls(wave: WaveInput) -> None:
    rendered = TRANSPILERS["kubevirt"].render(wave, OPTIONS)
    known = known_files(rendered.files, rendered.blocks, rendered.documents)
    texts = _texts(rendered.files, (".yaml", ".yml"))
    assert set(known) == set(texts)
    fast, fast_problems = load_manifests(texts, Limits(), known)
    real, real_problems = load_manifests(texts, Limits())
    assert fast_problems == real_problems == []
    assert [(m.file, m.line, m.doc) for m in fast] == [(m.file, m.line, m.doc) for m in real]
    assert all(m.composed is None for m in fast)  # nothing was composed ...
    assert [m.node.start_mark.line for m in fast] == [m.node.start_mark.line for m in real]  # ... until asked
    assert [m.line_of(["spec", "template"]) for m in fast] == [m.line_of(["spec", "template"]) for m in real]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    edited = re.sub(old, new, text)
    assert edited != text
    path.write_text(edited, encoding="utf-8")


@pytest.mark.parametrize(
    ("target", "file", "old", "new", "rule"),
    [
        ("terraform-aws", "main.tf", r'(http_tokens +)= "required"', r'\1= "optional"', "IAC-IMDSV2"),
        ("kubevirt", None, r"\n    migration-wave:", r"\n    migration-wavx:", "IAC-REQUIRED-TAGS"),
    ],
)
def test_a_file_changed_after_rendering_is_parsed_for_real(
    tmp_path: Path, target: str, file: str | None, old: str, new: str, rule: str
) -> None:
    """The validator is handed the known parses, but the edited file no longer matches its
    digest: the edit must show in the verdict exactly as without the shortcut."""
    wave = WAVES[0]
    rendered = TRANSPILERS[target].render(wave, OPTIONS)
    known = known_files(rendered.files, rendered.blocks, rendered.documents)
    _write(tmp_path, rendered.files)
    options = ValidatorOptions(use_tools=False)
    clean = validate_folder(tmp_path, options, known=known)
    assert clean.counts["error"] == 0 and not any(d.rule == rule for d in clean.diagnostics)
    name = file or next(n for n in sorted(rendered.files) if n.startswith("vm-"))
    _edit(tmp_path / name, old, new)
    assert not known[name].matches((tmp_path / name).read_text(encoding="utf-8"))
    fast = validate_folder(tmp_path, options, known=known)
    real = validate_folder(tmp_path, options)
    assert any(d.rule == rule and d.file == name for d in fast.diagnostics)
    assert fast.diagnostics == real.diagnostics


HOSTILE_INPUTS: list[Any] = [
    {"a": 'quote " backslash \\ newline \n tab \t', 'k"e\\y': ["\u202eevil", "é", "😀", "\x00"]},
    {"n": [0, -1, 2**63 - 1, -(2**63), 1.5, 0.1, 1e300, True, False, None], "empty": [{}, []]},
    {"big": 2**64, "nested": {"deeper": [{"x": "${x} %{y}"}]}},
    {"date": datetime.date(2026, 1, 2), 3: "int key", "tuple": (1, "2")},
    {"nan": float("nan")},
    {
        "": "",
        "f": 1.5,
        "z": None,
        "t": True,
        "i": 7,
        "o": {"": None, "l": [[], [{}], ""]},
    },  # each field type inline
]
QUERIES = [
    "input",
    '[count(input.a), split(input.a, "\\""), sprintf("%v", [input])]',
    "[k | some k, _ in input]",
    "walk(input, [p, v]); is_string(v)",
    "[x | some x in input.n; x > 1]",
    "input.big > 2",
]


def _answers(rego: Interpreter) -> list[str]:
    out = []
    for query in QUERIES:
        try:
            out.append(str(rego.query(query)))
        except Exception as exc:  # either route must fail alike
            out.append(f"{type(exc).__name__}: {exc}")
    return out


@pytest.mark.parametrize("value", HOSTILE_INPUTS, ids=range(len(HOSTILE_INPUTS)))
def test_in_memory_policy_input_is_the_json_texts(value: dict[str, Any]) -> None:
    text_route, memory_route = Interpreter(), Interpreter()
    text_route.set_input_term(json.dumps(value, default=str))
    set_input(memory_route, value)
    assert _answers(memory_route) == _answers(text_route)


@pytest.mark.parametrize("wave", WAVES, ids=lambda w: f"wave-{w.number}-{len(w.vms)}")
def test_yaml_is_written_as_pyyamls_own_emitter_writes_it(wave: WaveInput) -> None:
    """The KubeVirt files go through libyaml's emitter where it writes what PyYAML's does."""
    rendered = TRANSPILERS["kubevirt"].render(wave, OPTIONS)
    for name, docs in rendered.documents.items():
        assert rendered.files[name] == _dump(docs, yaml.SafeDumper)
