"""The injection detector against two corpora: 24 hostile annotations, each caught as its own kind
of attack, and realistic notes from real estates (backup windows, owners, change tickets, "do not
power off", "ignore" in its ordinary sense, passwords in a vault, reviews, waves of a past move)
that raise nothing, so a model's facts from them are not quarantined."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents.interpreter.interpretation import with_model
from agents.interpreter.safety import allowed_fields, detect
from tests.llm_helpers import scripted_client
from tests.test_interpret import PARAMS, names, vm

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
HOSTILE = json.loads((ROOT / "annotations.json").read_text(encoding="utf-8"))
BENIGN = json.loads((ROOT / "benign-annotations.json").read_text(encoding="utf-8"))
KIND_OF = {"net": "NETWORK", "enc": "ENCRYPTION", "userdata": "USERDATA", "cred": "CREDENTIALS",
           "othervm": "OTHER-VM", "wave": "WAVE", "persuade": "PERSUADE", "breakout": "BREAKOUT",
           "invisible": "OVERRIDE", "plain": "OVERRIDE", "act": "OVERRIDE"}  # fmt: skip


def _ids(annotation: str) -> set[str]:
    return {f.id for f in detect("vm", allowed_fields({"name": "vm", "annotation": annotation}))}


def test_the_corpora_are_large_enough() -> None:
    assert len(HOSTILE) >= 20 and len(BENIGN) >= 20
    assert len({e["id"] for e in BENIGN}) == len(BENIGN)


@pytest.mark.parametrize("entry", HOSTILE, ids=[e["id"] for e in HOSTILE])
def test_each_hostile_annotation_is_caught_as_its_kind(entry: dict[str, Any]) -> None:
    assert f"LLM01-{KIND_OF[entry['id'].split('-')[0]]}" in _ids(entry["annotation"])


@pytest.mark.parametrize("entry", BENIGN, ids=[e["id"] for e in BENIGN])
def test_each_benign_annotation_raises_nothing(entry: dict[str, Any]) -> None:
    assert _ids(entry["annotation"]) == set(), entry["annotation"]


def test_a_model_fact_from_a_benign_note_is_not_quarantined() -> None:
    """The false positive that mattered: a note naming a password vault used to flag the whole
    annotation (LLM01-CREDENTIALS), and every model fact read from it was dropped."""
    note = next(e["annotation"] for e in BENIGN if e["id"] == "ssl-cert")
    answer = {"facts": [{"kind": "role", "value": "proxy", "span": "Nginx reverse proxy", "confidence": 0.9}]}
    client, _ = scripted_client([answer])
    it = with_model(vm("Lagerverwaltung Prüfstand 01", annotation=note), PARAMS, names(), client)
    assert it.findings == []
    assert [(f.kind, f.value, f.span) for f in it.facts if f.origin.startswith("model:")] == [
        ("role", "proxy", "Nginx reverse proxy")
    ]
