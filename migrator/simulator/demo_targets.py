"""The demo's landing step: every registered target's waves planned and landed as pull requests.

The targets come from the transpiler registry, in its order, so a target registered there is in
the demo without an edit here; a target needing demo-specific flags (KubeVirt's vCenter SDK URL)
gets them from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from migrator.simulator.learning_demo import Run
from transpilers.registry import TARGETS


def land_every_target(
    run: Run, out: Path, target_flags: Mapping[str, Sequence[str]], extra: Sequence[str] = ()
) -> tuple[str, ...]:
    """`migrator plan --target T --land` for each registered target; each clean wave of each
    target becomes its own pull request (branch migrator/<target>/wave-NN). Returns the targets."""
    for target in TARGETS:
        flags = target_flags.get(target, ())
        run("plan", "--target", target, "--out", str(out), "--land", *flags, *extra)
    return TARGETS
