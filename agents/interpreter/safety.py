"""Untrusted VM text on its way to a model (OWASP LLM01): allow-list, caps, stripping, spotlighting,
and a catalogue of the injection attempts migrator recognises and reports as findings.

Detection is a second line only: the first is that a model can return nothing but schema-checked
facts whose span occurs in the text and whose value is in an allowed set
(agents/interpreter/interpretation.py).
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

# Each pattern wants the imperative or the attack's own vocabulary, not the topic: estates' notes
# talk about passwords, reviews, waves, user data and encryption all the time (tests/test_safety.py
# holds a benign corpus of such notes next to the hostile one).
_VERB_CRED = r"\b(send|post|upload|e-?mail|leak|reveal|print|put|copy|paste|dump|include)\b"
_SECRET = r"\b(passwords?|api[_ -]?keys?|secrets?|credentials?|tokens?|private keys?)\b"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (fid, re.compile(rx, re.IGNORECASE | re.MULTILINE))
    for fid, rx in (
        (
            "LLM01-OVERRIDE",
            r"\b(ignore|disregard|forget|override)\b.{0,30}\b(instructions?|prompts?|schema|(the )?above"
            r"|previous (instructions?|rules?|messages?|text)|(answer|output) format)\b"
            r"|\byou are now\b|\bnew instructions?\b|\bdeveloper mode\b"
            r"|(^|[.!?:;]\s*)act as (the|a|an) (planner|model|assistant|ai|system|admin|root|user)\b"
            r"|\b(new|updated|real)\s+system prompt\b"
            r"|\b(reveal|print|show|repeat|ignore)\b.{0,30}\bsystem prompt\b",
        ),
        (
            "LLM01-BREAKOUT",
            r"<{3,}|>{3,}|END_VM_DATA|</?(data|system|assistant|user)>|```|\"role\"\s*:"
            r"|(?-i:^\s*(SYSTEM|ASSISTANT|system|assistant)\s*:)|<\|im_(start|end)\|>",  # not "System: SAP"
        ),
        (
            "LLM01-NETWORK",
            r"0\.0\.0\.0/0|::/0|\bany\s*/\s*any\b|security.group.{0,30}\ball traffic\b"
            r"|\b(allow|open|expose|permit)\b.{0,40}\b(to|from) (the )?(world|internet|anywhere|everyone)\b",
        ),
        (
            "LLM01-ENCRYPTION",
            r"\b(disable|turn off|remove|drop|skip|switch off)\b.{0,20}\bencrypt|encrypted\s*[=:]\s*false"
            r"|\b(keep|make|leave|store)\b.{0,20}\bunencrypted\b",
        ),
        (
            "LLM01-USERDATA",
            r"\buser_data\b|\b(add|set|inject|include|put)\b.{0,20}\buser[ -]?data\b|\bprovisioner\b"
            r"|\b(remote|local)-exec\b|\b(add|run|inject)\b.{0,20}\bcloud-init\b"
            r"|\b(curl|wget)\b.{0,80}\|\s*\w*sh\b|\b(add|run|install)\b.{0,20}\bstartup script\b"
            r"|\bbase64\s+(-d|--decode)\b",
        ),
        (
            "LLM01-CREDENTIALS",
            rf"\bexfiltrat|\b\w*_API_KEY\b|\baws_(access|secret)_|{_VERB_CRED}.{{0,40}}{_SECRET}"
            r"|\b(send|post|upload)\b.{0,40}\bhttps?://|\bghp_[A-Za-z0-9]+",
        ),
        (
            "LLM01-OTHER-VM",
            r"\b(all|every)\s+(the\s+)?other\s+(vms?|machines?|servers?)\b"
            r"|^\s*for vm\b|\b(for|of) vm [\w.-]+\s*:"
            r"|\b(set|change|make|mark)\b.{0,40}\b(of|for)\b.{0,30}\b(vms?|machines?|servers?|hosts?)\b.{0,20}\bto\b"
            r"|\bdepends on (every|all)\b|\b(add|include) them all\b",
        ),
        (
            "LLM01-WAVE",
            r"\b(move|put|pin|schedule|place|assign)\b.{0,40}\bwave\b"
            r"|\bskip\b.{0,20}\b(validation|review|polic(y|ies)|guardrails?)\b|\bmigrate (it )?first\b",
        ),
        (
            "LLM01-PERSUADE",
            r"\blgtm\b|\bsafe to merge\b|\bdo not (flag|review|report)\b|\btrust me\b"
            r"|\b(pre-?approved|already approved|auto-?approved?)\b"
            r"|\b(note |message )?(for|to) the reviewers?\b"
            r"|^\s*reviewers?\s*:|\bcompliance (has )?signed off\b|\bno (need|reason) to (review|check)\b",
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
