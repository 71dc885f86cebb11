"""Chat-model interactions and the response cache (agents/llm records into these)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from migrator.errors import StoreError
from migrator.store.models import LLMCacheEntry, LLMInteraction
from migrator.store.snapshots import _table
from migrator.timefmt import iso_utc

INTERACTIONS = _table(LLMInteraction)
CACHE = _table(LLMCacheEntry)
OUTPUT_CAP = 16_000


class LLMStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def cached(self, key: str) -> str | None:
        with Session(self.engine) as session:
            row = session.get(LLMCacheEntry, key)
            return row.output if row else None

    def remember(self, key: str, model: str, prompt_version: str, output: str) -> None:
        entry = LLMCacheEntry(
            key=key, model=model, prompt_version=prompt_version, output=output, created_at=datetime.now(UTC)
        )
        try:
            with Session(self.engine) as session, session.begin():
                session.add(entry)
        except IntegrityError:
            pass  # another process cached the same answer first: equally good
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the model answer cache: {type(exc).__name__}") from None

    def record(self, row: LLMInteraction) -> int:
        row.output = row.output[:OUTPUT_CAP]
        try:
            with Session(self.engine) as session, session.begin():
                session.add(row)
                session.flush()
                return int(row.id or 0)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not record the model interaction: {type(exc).__name__}") from None

    def interactions(self, limit: int = 100) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            rows = session.scalars(
                select(LLMInteraction).order_by(INTERACTIONS.c.id.desc()).limit(limit)
            ).all()
        return [{**row.model_dump(), "at": iso_utc(row.at)} for row in rows]

    def usage(self) -> list[dict[str, Any]]:
        """Totals per plan, command and model: calls, cache hits, tokens, cost, latency."""
        c = INTERACTIONS.c
        query = (
            select(
                c.plan_id,
                c.command,
                c.model,
                func.count(),
                func.sum(c.calls),
                func.sum(case((c.cache_hit, 1), else_=0)),
                func.sum(case((c.semantic_hit, 1), else_=0)),
                func.sum(c.prompt_tokens),
                func.sum(c.completion_tokens),
                func.sum(c.cost_usd),
                func.sum(c.latency_ms),
                func.max(c.price_source),
            )
            .group_by(c.plan_id, c.command, c.model)
            .order_by(c.plan_id, c.command, c.model)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        keys = ("plan_id", "command", "model", "interactions", "calls", "cache_hits", "semantic_hits",
                "prompt_tokens", "completion_tokens", "cost_usd", "latency_ms", "price_source")  # fmt: skip
        return [
            {k: (round(float(v or 0), 6) if k == "cost_usd" else v) for k, v in zip(keys, row, strict=True)}
            for row in rows
        ]

    def latest_answer(self, task: str, snapshot: int, vm: str) -> dict[str, Any] | None:
        """The newest accepted (schema-valid) answer of `task` about one VM of one snapshot."""
        c = INTERACTIONS.c
        query = (
            select(c.model, c.prompt_version, c.output, c.at, c.id)
            .where(c.task == task, c.outcome.in_(("valid", "valid-after-reask")))
            .where(c.provenance["vm"].as_string() == vm, c.provenance["snapshot"].as_integer() == snapshot)
            .order_by(c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return {"model": row.model, "prompt_version": row.prompt_version, "output": row.output,
                "at": iso_utc(row.at), "interaction": row.id}  # fmt: skip

    def for_plan(self, plan_id: int, snapshot: int) -> list[dict[str, Any]]:
        """Every interaction that shaped one plan: asked for it (refine) or about its snapshot (interpret)."""
        c = INTERACTIONS.c
        query = select(LLMInteraction).where(
            (c.plan_id == plan_id)
            | ((c.task == "interpret") & (c.provenance["snapshot"].as_integer() == snapshot))
        )
        with Session(self.engine) as session:
            rows = session.scalars(query.order_by(c.id)).all()
        return [row.model_dump() for row in rows]
