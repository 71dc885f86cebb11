"""docs/policies.md's reference section, rendered from the policy metadata so it cannot drift.

python -m policies.docs > docs/policies.md      (also: make docs)
"""

from __future__ import annotations

from policies.registry import policies

INTRO = """# Policies

migrator's policy pack is Rego (run in-process by PyPI `regopy`, Microsoft's rego-cpp; no OPA
server). One policy per file under `policies/source/` (migratability of the source VMs, read from
the inventory) and `policies/iac/` (guardrails on generated or hand-edited code), with shared
helpers in `policies/lib/`. Each policy's package has a `metadata` rule (id, severity, title,
description, remediation; source policies add the vSphere property path and what the finding
means on each target, IaC guardrails the languages they apply to and their scope) and a
`findings` rule naming the VM or resource: a set for IaC guardrails, an array comprehension over
`input.vms` for source policies (the order and any repetition do not matter).

An IaC guardrail's **scope** says whose code it judges: `any` (good practice on every folder:
encryption, IMDSv2, no world-open ports, no inline secrets, pinned images, public databases) or
`generated` (migrator's own conventions: its provenance tags and labels, its spread-set tags,
its promise that generated code never runs commands). `migrator validate` runs the `generated`
ones only on files that carry migrator's header, unless told otherwise with `--profile`
([validate.md](validate.md#profiles-whose-code-the-guardrails-judge)).

- `migrator policies list [--format json]` lists them; `migrator policies test` runs every policy
  against `policies/fixtures/<ID>.json`: the `pass` input must give no finding, the `fail` input
  exactly the VMs or resources named in `expect`. Exit 8 when a fixture check fails.
- `migrator findings [VM | --wave N] [--target T] [--format json]` shows source findings. The
  findings of a whole complete snapshot are evaluated once per target and policy pack and kept in
  the workspace database (`findings_cache`, keyed by snapshot, target and the sha256 of the
  source policies and library): the CLI and the dashboard read that entry, a new snapshot or an
  edited policy gets a new one. A VM or a wave without an entry is evaluated on its own.
- **Critical** source findings block a VM: `migrator plan` leaves it out of the generated code and
  lists it, with the finding, under "Blocked VMs" in the wave's REPORT.md. Warnings and info are
  listed there as concerns. Critical IaC findings are errors: the wave is not clean until they
  are gone (exit 7, "needs human"); IaC warnings fail `migrator validate --fail-on warning`.

Writing a policy: add `policies/<family>/<name>.rego` with `package migrator.<family>.<name>`, a
`metadata` rule (an IaC guardrail states its `scope`: `any` unless it checks a convention only
migrator's output follows) and its findings (a source policy:
`findings := [{"vm": vm.name, "message": msg} | some vm in input.vms; ...]`; a guardrail:
`findings contains {...} if {...}`), plus `policies/fixtures/<ID>.json`; then
`make docs` to refresh this page. A source policy reads a field by naming it (`vm.x`, `disk.x`,
`object.get(vm, "x", d)`, or a string in a table of field names): the engine hands the pack only
the VM fields, and the fields of the objects in a VM's lists (disks, NICs), that some identifier
or string of the source pack names, so a policy must not enumerate or print a whole VM, disk or
NIC (a value below them, such as a disk's `rdm`, arrives whole). Build messages from input
values only: rego-cpp 1.5 writes policy-side strings computed by builtins (or `object.get`
defaults) unescaped when they pass through `sprintf`, which corrupts its JSON output
(`tests/test_policies.py` feeds every policy minimal and hostile input to catch this).

How the input reaches the engine: each family's query is compiled once per process, and each
evaluation covers a whole wave (every resource and manifest of the folder) or, for the source
policies, the whole estate in one input: each policy's `findings` is one query over it, an entry
point of one bundle (22 bundles of one query each took 0.5 s of CPU to compile, as each compiled
the whole pack; one bundle of 22 entry points 0.03 s). From 2,000 VMs the estate is cut into
parts that this process and worker processes (spawned, one per further core, at most 4 processes
in all, kept for the life of the process) evaluate at once, each part with every cluster (a
finding depends on its own VM, its cluster and the DRS rules naming it): the workers take parts
from the first, this process from the last, so a worker that starts late (a cold start imports
the program and compiles the pack) takes fewer, and this process never waits idle. A part holds
at most 5,000 VMs: a worker keeps the memory of its largest query, about 40 kB per VM, and the
pool outlives the evaluation (halves of 10,000 VMs left 330 MB workers beside the code generation
that follows, parts of 1,000 about 150 MB), while each part repeats the clusters' input and the
DRS-rule lookups (50,000 VMs in parts of 1,000 took 25.7 s, in parts of 5,000 19.8 s). rego-cpp
inserts into a partial set in time that grows with the set (a `findings contains` rule with
3,500 findings took 27 s over 2,000 VMs, its array form 0.3 s), which is why source findings are
array comprehensions, and why joins are written as lookups (`cluster_messages`,
`unsupported_ids`) rather than a VM-by-cluster or VM-by-rule scan. A lookup copies the rule
value it looks in, so it pays for that value's size once per VM: drs_dpm looks up each cluster's
messages, not whole clusters with their DRS rules (0.74 to 0.36 s of CPU over 10,000 VMs), and
vm_host_affinity, whose set of 200 tied names cost 1.46 s, first searches one string holding
those names a line each (0.29 s). A disk is read in place (`vm.disks[i].independent`) rather
than bound to a variable first: independent_disk 0.59 to 0.41 s, rdm 0.51 to 0.42 s, shared_disk
0.76 to 0.43 s. Over the whole pack one process spent 13.3 s of CPU on the first evaluation of
10,000 VMs before these rewrites and 11.9 s after (`benchmarks/findings.py`, "one process"), of
which building the input took 2.4 s (4.0 s before). `benchmarks/findings.py` times each step
against the old evaluation (50 VMs a query) and `tests/test_findings_whole_estate.py` checks the
findings are identical. The input is handed over as a value built in memory (`regopy.Input`),
which rego-cpp reads two to four times faster than the same JSON text. It is the JSON text's
value exactly: the input goes through a JSON round trip first, every string is passed in its
escaped JSON form (rego-cpp keeps a parsed string that way and its builtins see the escapes),
and an integer beyond 64 bits or a NaN takes the text route (`tests/test_known_parse.py` checks
both routes give the same answers on hostile input).

Re-evaluating a new snapshot: the next discovery of an estate mostly repeats the last one, so a
complete snapshot's first evaluation starts from the newest earlier snapshot that has findings
for the same target and pack in the findings cache. A VM whose name occurred once in both and
whose facts the pack reads (the same fields as above) have the same digest takes its findings
from that entry; changed, new, renamed and same-named VMs are evaluated, and a change to any
cluster means every VM is evaluated again. The result is the whole evaluation's
(`tests/test_findings_whole_estate.py`, `tests/test_findings_cache.py`); `benchmarks/findings.py`
times the next snapshot of its estate with 1% of the VMs changed.

The IaC guardrails over a wave with Terraform resources run as one query for the whole pack (of
the profile's scopes), and the library's `lib.resources(type)` reads an index of the wave's
resources by type (`_resources_by_type`, string types only, each in input order) that rego-cpp
builds once per query: it does not memoise a function, so before this every call (several per
guardrail, one per type) scanned every resource again, and with one query per guardrail the
index would be built 16 times (a 50-VM terraform-aws wave: 0.80 s -> 0.51 s). A manifest-only
input (kubevirt) keeps one query per guardrail, which is faster there.
`tests/test_iac_pack_query.py` checks both give the findings of the old library queried per
guardrail (kept in fixtures/policies/reference/iac-lib/) on every IaC fixture, the golden waves
of all five targets, the broken and foreign IaC, and mutated waves.

## Reference
"""


_SCOPE = {
    "generated": "generated (judges only files carrying migrator's header, or every file under "
    "`--profile generated`)",
    "any": "any (judges every file)",
}


def render_markdown() -> str:
    parts = [INTRO]
    for family, heading in (("source", "Source migratability"), ("iac", "IaC guardrails")):
        parts.append(f"\n### {heading}\n")
        for p in policies(family):
            m = p.metadata
            parts.append(f"\n#### `{p.id}`: {m['title']} ({m['severity']})\n\n")
            parts.append(f"{m['description']}\n\n")
            if family == "source":
                parts.append(f"- vSphere: `{m['vsphere_path']}`\n")
                for target, meaning in sorted(m["targets"].items()):
                    parts.append(f"- On {target}: {meaning}\n")
            else:
                parts.append(f"- Applies to: {', '.join(m['applies_to'])}\n")
                parts.append(f"- Scope: {_SCOPE[m['scope']]}\n")
            parts.append(f"- Remediation: {m['remediation']}\n- File: `policies/{p.file}`\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render_markdown(), end="")
