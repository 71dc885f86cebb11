"""Untrusted VM text on its way to a model (OWASP LLM01): allow-list, caps, stripping, spotlighting,
and a catalogue of the injection attempts migrator recognises and reports as findings.

Detection is a second line only: the first is that a model can return nothing but schema-checked
facts whose span occurs in the text and whose value is in an allowed set (agents/interpretation.py).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

NAME_CAP, ANNOTATION_CAP, VALUE_CAP, KEY_CAP, MAX_ITEMS = 80, 1500, 200, 40, 16
_KEEP = {"\n", "\t"}
_MARKERS = re.compile(r"<{3,}|>{3,}")

# id -> what the attempt tries to do. Input-side ids (LLM01-*) come from the text; LLM-OUT-* from answers.
CATALOGUE: dict[str, str] = {
    "LLM01-OVERRIDE": "text tries to give the model new instructions",
    "LLM01-BREAKOUT": "text tries to close the data block or impersonate a system/assistant turn",
    "LLM01-NETWORK": "text asks to open ports or networks to the world",
    "LLM01-ENCRYPTION": "text asks to disable encryption",
    "LLM01-USERDATA": "text asks to add user data, provisioners or scripts to run",
    "LLM01-CREDENTIALS": "text asks for or tries to exfiltrate credentials or secrets",
    "LLM01-OTHER-VM": "text tries to change facts of other VMs",
    "LLM01-WAVE": "text tries to move VMs between waves or skip checks",
    "LLM01-PERSUADE": "text tries to persuade reviewers or the model that a change is approved",
    "LLM-OUT-SCHEMA": (
        "the model's answer was not valid for the schema (after one re-ask): deterministic facts used"
    ),
    "LLM-OUT-SPAN": "the model cited a span that does not occur in the VM's text: fact dropped",
    "LLM-OUT-ENUM": "the model returned a value outside the allowed set: fact dropped",
    "LLM-OUT-REFERENCE": "the model named a dependency that is not another VM of the inventory: fact dropped",
    "LLM-OUT-QUARANTINE": "the model's fact came from a field flagged as an injection attempt: fact dropped",
    "LLM-OUT-CONFLICT": "the model contradicts a fact the inventory states: the inventory's fact kept",
}

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (fid, re.compile(rx, re.IGNORECASE))
    for fid, rx in (
        (
            "LLM01-OVERRIDE",
            r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules?|prompt|above|previous|schema|format)"
            r"|\byou are now\b|\bnew instructions?\b|\bsystem prompt\b|\bact as\b|\bdeveloper mode\b",
        ),
        (
            "LLM01-BREAKOUT",
            r"<{3,}|>{3,}|END_VM_DATA|</?(data|system|assistant|user)>|```|\"role\"\s*:"
            r"|^\s*(system|assistant)\s*:|<\|im_(start|end)\|>",
        ),
        (
            "LLM01-NETWORK",
            r"0\.0\.0\.0/0|::/0|\bopen\b.{0,30}\b(ports?|ssh|rdp|22|3389|firewall)\b|\b(to|from) the "
            r"(world|internet)\b|\bany\s*/\s*any\b|security.group.{0,30}\ball\b",
        ),
        (
            "LLM01-ENCRYPTION",
            r"\b(disable|turn off|remove|skip|without|no)\b.{0,20}\bencrypt|encrypted\s*[=:]\s*false"
            r"|\bunencrypted\b|\bplain.?text\b",
        ),
        (
            "LLM01-USERDATA",
            r"\buser[_ -]?data\b|\bprovisioner\b|\bremote-exec\b|\bcloud-init\b|\bcurl\b.{0,80}\|\s*\w*sh"
            r"|\bwget\b|\bstartup script\b|\bbase64\b",
        ),
        (
            "LLM01-CREDENTIALS",
            r"\b(passwords?|api[_ -]?keys?|secrets?|credentials?|tokens?|private key)\b"
            r"|\bexfiltrat|OPENAI_API_KEY|aws_(access|secret)|\bsend\b.{0,40}\bhttps?://",
        ),
        (
            "LLM01-OTHER-VM",
            r"\b(all|every|other)\b.{0,15}\b(vms?|machines?|servers?|hosts?)\b|\bfor vm\b"
            r"|\bset\b.{0,40}\bof\b"
            r".{0,20}\bto\b",
        ),
        (
            "LLM01-WAVE",
            r"\bwaves?\s*#?\d+|\b(move|put|pin|schedule)\b.{0,40}\bwave\b|\bskip\b.{0,20}\b(validation|checks?"
            r"|review|policy|policies)\b|\bmigrate (it )?first\b",
        ),
        (
            "LLM01-PERSUADE",
            r"\breviewers?\b|\bapproved?\b|\blgtm\b|\bsafe to merge\b|\bdo not (flag|review|report)\b"
            r"|\btrust me\b|\bauthori[sz]ed by\b|\bcompliance (has )?signed\b",
        ),
    )
)


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    vm: str
    field: str  # where: "annotation", "custom attribute X", "tag T", "name", or "answer"
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "vm": self.vm, "field": self.field, "detail": self.detail,
                "meaning": CATALOGUE[self.id]}  # fmt: skip


def clean(text: object, cap: int) -> str:
    """Invisible and control characters stripped (newline and tab kept), markers defused, length capped."""
    out = "".join(
        ch
        for ch in str(text)
        if ch in _KEEP or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs", "Cn")
    )
    out = _MARKERS.sub(lambda m: m.group(0)[:2], out)
    return out[:cap]


def allowed_fields(vm: dict[str, Any]) -> dict[str, str]:
    """The only VM text a model ever sees: name, annotation, custom attributes, tags; each cleaned."""
    fields = {"name": clean(vm.get("name") or "", NAME_CAP)}
    if vm.get("annotation"):
        fields["annotation"] = clean(vm["annotation"], ANNOTATION_CAP)
    for key, value in sorted((vm.get("custom_fields") or {}).items())[:MAX_ITEMS]:
        fields[f"custom attribute {clean(key, KEY_CAP)}"] = clean(value, VALUE_CAP)
    for tag in sorted(str(t) for t in vm.get("tags") or [])[:MAX_ITEMS]:
        fields[f"tag {clean(tag, VALUE_CAP)}"] = clean(tag, VALUE_CAP)
    return fields


def spotlight(fields: dict[str, str]) -> tuple[str, str]:
    """(the data block, its nonce). The nonce is a hash of the data, so text cannot forge the end marker."""
    body = json.dumps(fields, ensure_ascii=False, indent=1, sort_keys=True)
    nonce = hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]
    return f"<<<VM_DATA nonce={nonce}>>>\n{body}\n<<<END_VM_DATA nonce={nonce}>>>", nonce


def detect(vm: str, fields: dict[str, str]) -> list[Finding]:
    """Injection attempts in a VM's text, one finding per (kind, field), with the words that matched."""
    found: list[Finding] = []
    for field_name, text in fields.items():
        if field_name == "name" or field_name.startswith("tag "):
            continue  # names and tags are too short to carry instructions; spans still guard them
        for fid, pattern in _PATTERNS:
            match = pattern.search(text)
            if match:
                found.append(Finding(fid, vm, field_name, f"matched '{match.group(0)[:60]}'"))
    return found
