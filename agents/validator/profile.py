"""Whose code the guardrails judge: migrator's own output (profile `generated`) or anyone's (`any`).

Some guardrails check migrator's conventions rather than good practice: its provenance tags
(`source-moref`, ...), its promise never to emit executable text. Their metadata says
`scope: generated`; on code migrator did not write they have nothing to say, and do not run.

The profile is chosen per file. `auto` (the default) reads the file's first line: every file a
transpiler writes starts with its header (transpilers/base.py `header`), naming a registered
target. `generated` or `any` given by the user applies to every file (migrator's output whose
header a formatter dropped; a fork judged only by the general guardrails).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from transpilers.base import TARGET_IDS, generated_by

GENERATED, ANY, AUTO = "generated", "any", "auto"
CHOICES = (AUTO, GENERATED, ANY)


def file_profile(text: str, chosen: str = AUTO) -> str:
    """The profile one file is judged with."""
    if chosen != AUTO:
        return chosen
    return GENERATED if generated_by(text) in TARGET_IDS else ANY


@dataclass
class Profiles:
    chosen: str = AUTO  # auto | generated | any: what the user asked for
    files: dict[str, str] = field(default_factory=dict)  # file -> generated | any

    def add(self, texts: Mapping[str, str]) -> None:
        self.files.update({name: file_profile(text, self.chosen) for name, text in texts.items()})

    def generated(self, file: str) -> bool:
        return self.files.get(file) == GENERATED

    @property
    def scopes(self) -> tuple[str, ...]:
        """The guardrail scopes worth loading: `generated` ones only when a file is generated."""
        return (GENERATED, ANY) if GENERATED in self.files.values() else (ANY,)

    @property
    def summary(self) -> str:
        """generated | any | mixed (some files each way) | "" (no file judged)."""
        kinds = set(self.files.values())
        return "mixed" if len(kinds) > 1 else next(iter(kinds), "")

    def describe(self) -> str:
        """One line for the text report."""
        if self.chosen != AUTO:
            return f"{self.chosen} (given)"
        how = "detected per file from migrator's header"
        if self.summary == GENERATED:
            return "generated (every file carries migrator's header)"
        if self.summary == ANY:
            return "any (no file carries migrator's header)"
        generated = sorted(f for f, p in self.files.items() if p == GENERATED)
        other = sorted(f for f, p in self.files.items() if p == ANY)
        return f"mixed ({how}): generated for {', '.join(generated)}; any for {', '.join(other)}"
