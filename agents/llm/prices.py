"""Cost per million tokens, with where each number came from.

The built-in table holds OpenAI's published list prices (openai.com/api/pricing, as read when this
table was written); prices change, so MIGRATOR_LLM_PRICES may name a JSON file
{"MODEL": {"input_per_mtok": X, "output_per_mtok": Y, "source": "..."}} that overrides it.
A model in neither table (a local server) costs 0 with provenance "unknown price: counted as 0".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from migrator.errors import UsageError


@dataclass(frozen=True, slots=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float
    source: str

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1e6


_OPENAI = "OpenAI list price, openai.com/api/pricing (built-in table; override with MIGRATOR_LLM_PRICES)"
BUILT_IN: dict[str, Price] = {
    "gpt-4o-mini": Price(0.15, 0.60, _OPENAI),
    "gpt-4o": Price(2.50, 10.00, _OPENAI),
    "gpt-4.1-mini": Price(0.40, 1.60, _OPENAI),
    "gpt-4.1": Price(2.00, 8.00, _OPENAI),
}
UNKNOWN = Price(0.0, 0.0, "unknown price: counted as 0")


def price_of(model: str, table_path: str | None = None) -> Price:
    path = table_path if table_path is not None else os.environ.get("MIGRATOR_LLM_PRICES")
    if path:
        table = _load(Path(path))
        if model in table:
            return table[model]
    return BUILT_IN.get(model, UNKNOWN)


def _load(path: Path) -> dict[str, Price]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(name): Price(
                float(row["input_per_mtok"]),
                float(row["output_per_mtok"]),
                str(row.get("source") or f"price table {path.name}"),
            )
            for name, row in raw.items()
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise UsageError(f"MIGRATOR_LLM_PRICES {path.name}: not a price table ({exc})") from None
