"""The validator under hostile and unlucky input: limits checked before parsing, nothing read
outside the folder given, and a checker's crash reported as a diagnostic while the others run.
Every bad input is built here; none costs more than a few kilobytes of memory to refuse."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from agents.validator import ValidatorOptions, validate_folder
from agents.validator import limits as limits_module
from agents.validator.limits import LimitExceeded, Limits, check_hcl, check_yaml
from migrator import atomic
from migrator.atomic import replace_dir, staging_path
from tests.golden import FIXTURES, GOLDEN
from tests.helpers import assert_one_line_error, migrator
from tests.swap_child import refuse_exchange

OFFLINE = ValidatorOptions(use_tools=False)
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def rules(result_json: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(d["rule"], d["file"]) for r in result_json["reports"] for d in r["diagnostics"]]


def test_a_100_mb_tf_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "main.tf"
    with big.open("wb") as f:
        f.truncate(100 * 1024 * 1024)  # sparse: 100 MB by size, nothing on disk, nothing read
    (tmp_path / "variables.tf").write_text('variable "x" {}\n', encoding="utf-8")
    result = migrator("validate", str(tmp_path), "--no-tools", "--format", "json")
    assert result.code == 8, result.stderr
    report = result.json()["reports"][0]
    assert [(d["rule"], d["file"]) for d in report["diagnostics"]] == [("LIMIT-FILE-SIZE", "main.tf")]
    assert "file-size=4194304" in report["diagnostics"][0]["message"]
    assert "terraform" not in report["checkers"]  # no checker saw a folder with an unread file


def test_limits_can_be_raised_and_bad_limit_options_are_usage_errors(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "broken-iac" / "terraform" / "misspelled-argument", tmp_path / "m")
    small = migrator(
        "validate", str(tmp_path / "m"), "--no-tools", "--limit", "file-size=64", "--format", "json"
    )
    assert rules(small.json()) == [("LIMIT-FILE-SIZE", "main.tf")]
    raised = migrator(
        "validate", str(tmp_path / "m"), "--no-tools", "--limit", "file-size=1KiB", "--format", "json"
    )
    assert "TF-UNSUPPORTED-ARGUMENT" in [r for r, _ in rules(raised.json())]
    assert "LIMIT-FILE-SIZE" not in [r for r, _ in rules(raised.json())]
    assert_one_line_error(migrator("validate", str(tmp_path), "--limit", "size=1"), 2, "unknown limit")
    assert_one_line_error(migrator("validate", str(tmp_path), "--limit", "depth=deep"), 2, "whole number")


def test_total_size_is_one_budget_for_the_whole_run(tmp_path: Path) -> None:
    for wave in ("wave-01", "wave-02"):
        shutil.copytree(GOLDEN / "iac" / "terraform-aws" / wave, tmp_path / wave)
    first = sum(p.stat().st_size for p in (tmp_path / "wave-01").glob("*.tf"))
    limit = f"total-size={first + 10}"
    result = migrator("validate", str(tmp_path), "--no-tools", "--limit", limit, "--format", "json")
    assert result.code == 8
    reports = {Path(r["folder"]).name: r for r in result.json()["reports"]}
    assert reports["wave-01"]["valid"]
    assert {d["rule"] for d in reports["wave-02"]["diagnostics"]} == {"LIMIT-TOTAL-SIZE"}


def test_a_yaml_alias_bomb_is_stopped_on_the_event_stream(tmp_path: Path) -> None:
    assert len(ALIAS_BOMB) < 500  # 9^9 = 387 million nodes once expanded
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB, encoding="utf-8")
    result = migrator("validate", str(tmp_path), "--no-tools", "--format", "json")
    assert result.code == 8 and rules(result.json()) == [("LIMIT-YAML-NODES", "bomb.yaml")]
    # more aliases allowed: the expanded size still stops it
    raised = migrator(
        "validate", str(tmp_path), "--no-tools", "--limit", "yaml-aliases=1000", "--format", "json"
    )
    assert rules(raised.json()) == [("LIMIT-YAML-NODES", "bomb.yaml")]
    with pytest.raises(LimitExceeded) as caught:
        check_yaml(ALIAS_BOMB, Limits(yaml_aliases=10))
    assert caught.value.limit == "yaml-aliases" and caught.value.line == 3


def test_yaml_nested_100000_levels_is_refused_without_crashing(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    (tmp_path / "block.yaml").write_text("".join(" " * i + "- \n" for i in range(150)), encoding="utf-8")
    result = migrator("validate", str(tmp_path), "--no-tools", "--format", "json")
    assert result.code == 8, result.stderr  # not a signal, not an internal error
    assert rules(result.json()) == [("LIMIT-DEPTH", "block.yaml"), ("LIMIT-DEPTH", "deep.yaml")]


@pytest.fixture(params=["libyaml", "pure-python"])
def yaml_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each YAML limit case under both PyYAML builds: the locked wheel has libyaml (asserted, so
    the 'libyaml' case is real), a source build or another platform may not."""
    if request.param == "libyaml":
        assert yaml.__with_libyaml__ and limits_module.LOADER is yaml.CSafeLoader
    else:
        monkeypatch.setattr(limits_module, "LOADER", yaml.SafeLoader)
    return str(request.param)


YAML_CASES = {
    "flow-100000.yaml": ("[" * 100_000 + "]" * 100_000 + "\n", [("LIMIT-DEPTH", 1)]),
    "flow-1500-lines.yaml": ("".join("[\n" for _ in range(1500)) + "]" * 1500 + "\n", [("LIMIT-DEPTH", 101)]),
    "block-1500.yaml": ("".join(" " * i + "- \n" for i in range(1500)), [("LIMIT-DEPTH", 101)]),
    "bomb.yaml": (ALIAS_BOMB, [("LIMIT-YAML-NODES", 7)]),
    "long.yaml": ("data: " + "x" * 5000 + "\n", []),
}


@pytest.mark.parametrize("name", sorted(YAML_CASES))
def test_yaml_limits_give_the_same_diagnostic_and_line_under_both_loaders(
    yaml_loader: str, name: str, tmp_path: Path
) -> None:
    text, expected = YAML_CASES[name]
    (tmp_path / name).write_text(text, encoding="utf-8")
    report = validate_folder(tmp_path, OFFLINE)
    assert [(d.rule, d.line) for d in report.diagnostics if d.severity != "info"] == expected


def test_a_depth_limit_raised_past_the_parsers_own_is_still_a_depth_diagnostic(
    yaml_loader: str, tmp_path: Path
) -> None:
    (tmp_path / "deep.yaml").write_text("[" * 1200 + "]" * 1200 + "\n", encoding="utf-8")
    report = validate_folder(tmp_path, ValidatorOptions(use_tools=False, limits=Limits(depth=5000)))
    assert [(d.rule, d.file) for d in report.diagnostics] == [("LIMIT-DEPTH", "deep.yaml")]
    assert "YAML parser can read" in report.diagnostics[0].message


def test_hcl_depth_and_line_length_are_checked_before_the_hcl_parser(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'locals {\n  deep = "[[[[" # brackets in strings and comments do not count: [[[[\n'
        "  x = " + "[" * 150 + "1" + "]" * 150 + "\n}\n",
        encoding="utf-8",
    )
    result = migrator("validate", str(tmp_path), "--no-tools", "--format", "json")
    diagnostics = result.json()["reports"][0]["diagnostics"]
    assert [(d["rule"], d["line"]) for d in diagnostics] == [("LIMIT-DEPTH", 3)]
    check_hcl('x = "' + "[" * 500 + '"\n', Limits())  # inside a string: fine
    with pytest.raises(LimitExceeded):
        check_hcl("x = " + "a" * 2000 + "\n", Limits(string_length=1000))
    long_scalar = tmp_path / "k"
    long_scalar.mkdir()
    (long_scalar / "cm.yaml").write_text("data: " + "x" * 5000 + "\n", encoding="utf-8")
    limited = migrator(
        "validate", str(long_scalar), "--no-tools", "--limit", "string-length=4KiB", "--format", "json"
    )
    assert rules(limited.json()) == [("LIMIT-STRING-LENGTH", "cm.yaml")]


def test_a_symlink_leading_outside_the_folder_is_reported_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.tf"
    secret.parent.mkdir()
    secret.write_text(
        'resource "aws_instance" "SECRET_CONTENT" {\n  ami = "TOP-SECRET"\n}\n', encoding="utf-8"
    )
    outside_dir = tmp_path / "outside-dir"
    shutil.copytree(GOLDEN / "iac" / "kubevirt" / "wave-01", outside_dir)
    root = tmp_path / "plans"
    wave = root / "wave-01"
    shutil.copytree(GOLDEN / "iac" / "terraform-aws" / "wave-01", wave)
    (wave / "extra.tf").symlink_to(secret)
    library = root / "library"
    library.mkdir()
    clean = root / "wave-03"
    shutil.copytree(GOLDEN / "iac" / "terraform-aws" / "wave-03", clean)
    (clean / "main.tf").rename(library / "main.hcl")
    (clean / "main.tf").symlink_to(library / "main.hcl")  # inside the folder given: read
    (root / "wave-02").symlink_to(outside_dir, target_is_directory=True)
    os.mkfifo(wave / "pipe.tf")  # reading it would block forever
    (wave / "gone.tf").symlink_to(tmp_path / "deleted.tf")  # leads nowhere
    result = migrator("validate", str(root), "--no-tools", "--format", "json")
    assert result.code == 8
    assert "SECRET" not in result.stdout + result.stderr
    found = sorted(rules(result.json()))
    assert found == [
        ("FILE-UNREADABLE", "gone.tf"),
        ("NOT-A-FILE", "pipe.tf"),
        ("PATH-OUTSIDE-FOLDER", "extra.tf"),
        ("PATH-OUTSIDE-FOLDER", "wave-02"),
    ]
    wave_03 = next(r for r in result.json()["reports"] if r["folder"].endswith("wave-03"))
    assert wave_03["valid"] and "policy" in wave_03["checkers"]
    # the same folder given directly: the symlinked file still leaves it
    direct = validate_folder(wave, OFFLINE)
    assert {(d.rule, d.file) for d in direct.diagnostics} >= {("PATH-OUTSIDE-FOLDER", "extra.tf")}


def test_waves_written_by_the_symlink_flip_are_validated_under_their_own_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where a filesystem refuses RENAME_EXCHANGE, `plan` makes wave-NN a symlink to a hidden
    generation folder (migrator/atomic.py): validating the target folder still finds each wave once."""
    monkeypatch.setattr(atomic, "_rename_exchange", refuse_exchange)
    root = tmp_path / "terraform-aws"
    root.mkdir()
    for wave in ("wave-01", "wave-03"):
        staging = staging_path(root / wave)
        shutil.copytree(GOLDEN / "iac" / "terraform-aws" / wave, staging)
        replace_dir(staging, root / wave)
    shutil.copytree(GOLDEN / "iac" / "terraform-aws" / "wave-02", root / "wave-02")  # a plain folder
    (root / "wave-03" / "again").symlink_to("../wave-01", target_is_directory=True)  # leads back inside
    assert (root / "wave-01").is_symlink() and (root / "wave-03").is_symlink()
    result = migrator("validate", str(tmp_path), "--no-tools", "--format", "json")
    assert result.code == 0, result.stderr
    folders = [r["folder"] for r in result.json()["reports"]]
    assert folders == [str(root / w) for w in ("wave-01", "wave-02", "wave-03")]
    assert all(r["valid"] and "policy" in r["checkers"] for r in result.json()["reports"])


def test_two_single_nested_blocks_no_longer_crash_the_run(tmp_path: Path) -> None:
    """Issue 9: two metadata_options made a Rego query return an error value that was parsed
    as JSON ("internal error: JSONDecodeError", exit 1). Now every checker speaks."""
    (tmp_path / "main.tf").write_text(
        'resource "aws_instance" "web" {\n'
        '  ami           = "ami-0123456789abcdef0"\n'
        '  instance_type = "m6i.large"\n'
        '  metadata_options {\n    http_tokens = "required"\n  }\n'
        '  metadata_options {\n    http_tokens = "optional"\n  }\n'
        "}\n",
        encoding="utf-8",
    )
    result = migrator("validate", str(tmp_path), "--no-tools", "--format", "json")
    assert result.code == 8 and "internal error" not in result.stderr, result.stderr
    report = result.json()["reports"][0]
    assert "policy" in report["checkers"] and "terraform" in report["checkers"]
    by_rule = {d["rule"]: d for d in report["diagnostics"]}
    assert by_rule["TF-TOO-MANY-BLOCKS"]["line"] == 7
    # the policy pack judges the first block (policies/lib/common.rego first_block), no conflict
    assert "internal-error" not in by_rule, by_rule["internal-error"]


@pytest.mark.parametrize(
    ("target", "checker"),
    [
        ("agents.validator.load_module", "parse"),
        ("agents.validator.core_validate", "terraform"),
        ("agents.validator.iac_diagnostics", "policy"),
        ("agents.validator.read_sources", "files"),
        ("agents.validator.validate_manifests", "kubernetes-builtin"),
    ],
)
def test_a_crashing_checker_becomes_a_diagnostic_and_the_others_still_run(
    target: str, checker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control flow only: each stage in turn raises as a bug would."""

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("checker bug")

    monkeypatch.setattr(target, boom)
    language = "kubernetes" if checker == "kubernetes-builtin" else "terraform"
    case = GOLDEN / "iac" / ("kubevirt" if language == "kubernetes" else "terraform-aws") / "wave-01"
    report = validate_folder(case, OFFLINE)
    crashes = [d for d in report.diagnostics if d.rule == "internal-error"]
    assert [(d.checker, d.severity) for d in crashes] == [(checker, "error")]
    assert "RuntimeError: checker bug" in crashes[0].message and checker in report.checkers
    if checker in ("terraform", "kubernetes-builtin"):
        assert "policy" in report.checkers  # the stages after it still ran
    if checker == "parse":
        assert "terraform" in report.checkers  # Terraform's own parser still judged the code
