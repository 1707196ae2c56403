"""``embeddings/process.workspace`` and ``embeddings/process.repository``: vectors for what needs one.

Items come in priority order (``embeddings_pending.sql``): the active workspaces' first, then issues,
pull requests, discussions. An item whose text is unchanged since its vector was made only has its
time moved (no request, no cost); the others go to OpenAI in requests of up to 2,048 inputs and
250,000 estimated tokens, as fast as the shared requests/tokens-per-minute budget allows.

Each request's vectors are stored with the run's tallies (``run_progress``) in one transaction, so a
run that fails halfway resumes with what is left and never pays twice for an item. A run near its
time budget queues its own continuation. The cost (tokens OpenAI counted x the configured price) is in
the run's result, in the run history, and in contributor.info's ``embedding_jobs``.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from contribsync.ai.embedder import (
    MAX_INPUTS,
    MAX_REQUEST_TOKENS,
    Embedder,
    OpenAIBudget,
    embedding_input,
    estimate_tokens,
    vector_literal,
)
from contribsync.errors import ContribsyncError, Deferred
from contribsync.observability import logger, metrics

if TYPE_CHECKING:
    from uuid import UUID

    from contribsync.payloads import EmbeddingsRepository, EmbeddingsWorkspace
    from contribsync.runtime import RunContext
    from contribsync.settings import Settings

PAGE = 4 * MAX_INPUTS  # candidates read per query
TIME_BUDGET_S = 600.0  # then a continuation is queued (the functions' timeout is 900 s)
NO_KEY = "OPENAI_API_KEY is not set: no embeddings computed (set it, or OPENAI_API_KEY_PARAMETER on AWS)"


@dataclass(frozen=True)
class Scope:
    workspace_id: UUID | None = None
    repository_id: UUID | None = None
    item_types: tuple[str, ...] | None = None
    force: bool = False


def process_workspace(data: EmbeddingsWorkspace, ctx: RunContext) -> dict[str, Any]:
    """One workspace's items (or, with neither id, everything: the 6-hourly cron)."""
    scope = Scope(data.workspace_id, data.repository_id, data.item_types, data.force_regenerate)
    return embed_pending(ctx, scope, batch_size=data.batch_size, delay_ms=data.delay_ms)


def process_repository(data: EmbeddingsRepository, ctx: RunContext) -> dict[str, Any]:
    """One repository's items that need a vector. contributor.info's per-item, batch and similarity
    events name a repository too: its pending items are embedded, the named ones among them (an
    unchanged item keeps its vector), and similarity is read from the vectors at query time. Without a
    repository, the event is ``embedding/progress.update``: the progress of the job it names."""
    if data.repository_id is None:
        return _job_progress(data, ctx)
    return embed_pending(ctx, Scope(repository_id=data.repository_id, force=data.force_regenerate),
                         batch_size=data.batch_size)


def _job_progress(data: EmbeddingsRepository, ctx: RunContext) -> dict[str, Any]:
    try:
        job_id = uuid.UUID(str(data.job_id))
    except ValueError:
        return {"jobId": data.job_id, "updated": False, "reason": "not an embedding job id"}
    row = ctx.db.query_one("embedding_job_progress", {"job_id": job_id, "processed": data.processed,
                                                      "total": data.total, "status": data.status})
    if row is None:
        return {"jobId": str(job_id), "updated": False, "reason": "no such job, or it has ended"}
    return {"jobId": str(job_id), "updated": True, "status": row["status"],
            "processed": row["items_processed"], "total": row["items_total"]}


def embed_pending(ctx: RunContext, scope: Scope, *, batch_size: int | None = None, delay_ms: int | None = None,
                  budget: OpenAIBudget | None = None) -> dict[str, Any]:
    """Embed every item of ``scope`` that needs it with ``ctx.embedder`` (any ``Embedder``)."""
    embedder = ctx.embedder
    if embedder is None:
        logger.warning("embeddings skipped", extra={"reason": NO_KEY})
        return {"skipped": NO_KEY}
    job = _EmbeddingJob(ctx, scope, embedder, ctx.settings, batch_size=batch_size or MAX_INPUTS,
                        delay_s=(delay_ms or 0) / 1000, budget=budget)
    try:
        return job.run()
    except Deferred as exc:  # comes back later, with its tallies
        job.save_job("pending", error=str(exc))
        raise
    except ContribsyncError as exc:
        job.save_job("failed", error=str(exc))
        raise


class _EmbeddingJob:
    """One run's embedding of a scope's pending items: its pages and batches, its OpenAI budget, and its
    tallies (kept in ``run_progress`` and in contributor.info's ``embedding_jobs``)."""

    def __init__(self, ctx: RunContext, scope: Scope, embedder: Embedder, settings: Settings, *,
                 batch_size: int, delay_s: float, budget: OpenAIBudget | None) -> None:
        self.ctx, self.scope, self.embedder = ctx, scope, embedder
        self.batch_size = min(batch_size, MAX_INPUTS)
        self.delay_s = delay_s
        self.price = settings.embedding_price_per_mtok
        self.max_tokens = int(min(MAX_REQUEST_TOKENS, settings.embedding_tokens_per_minute))
        self.budget = budget or OpenAIBudget(ctx.db, model=embedder.model,
                                       requests_per_minute=settings.embedding_requests_per_minute,
                                       tokens_per_minute=settings.embedding_tokens_per_minute)
        # tallies carry over from earlier attempts of this event (saved with each stored request)
        self.p: dict[str, Any] = ctx.progress() or {
            "startedAt": datetime.now(UTC).isoformat(), "embedded": 0, "touched": 0, "requests": 0, "tokens": 0,
            "continuation": int(ctx.data.get("continuation", 0) or 0)}
        self.seen: set[str] = set()

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        self.save_job("processing")
        while page := self._page():
            if all(item["id"] in self.seen for item in page):  # an item that cannot be stored: stop, loudly
                logger.error("embeddings made no progress", extra={"items": len(page)})
                break
            self._touch([i for i in page if i["unchanged"] and not self.scope.force])
            for batch in self._batches([i for i in page if self.scope.force or not i["unchanged"]]):
                self.ctx.checkpoint()
                with self.ctx.step(request=self.p["requests"] + 1, items=len(batch)):  # the n-th, over attempts
                    self._embed(batch)
            if time.monotonic() - started > TIME_BUDGET_S and self._page(limit=1):
                return self._continue()
        return self._finish()

    def _page(self, limit: int = PAGE) -> list[dict[str, Any]]:
        s = self.scope
        rows = self.ctx.db.query("embeddings_pending", {
            "workspace_id": s.workspace_id, "repository_id": s.repository_id, "model": self.embedder.model,
            "item_types": list(s.item_types) if s.item_types else None, "limit": limit,
            "force_before": self.p["startedAt"] if s.force else None})
        return rows

    def _batches(self, items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        batches: list[list[dict[str, Any]]] = []
        current: list[dict[str, Any]] = []
        tokens = 0
        for item in items:
            item["input"] = embedding_input(item["item_type"], item["title"], item["body"])
            estimate = estimate_tokens(item["input"])
            if current and (len(current) >= self.batch_size or tokens + estimate > self.max_tokens):
                batches.append(current)
                current, tokens = [], 0
            current.append(item)
            tokens += estimate
        return [*batches, current] if current else batches

    def _embed(self, batch: list[dict[str, Any]]) -> None:
        estimated = sum(estimate_tokens(i["input"]) for i in batch)
        self.budget.take(estimated)
        if self.delay_s and self.p["requests"]:
            time.sleep(self.delay_s)
        result = self.embedder.embed([i["input"] for i in batch])
        self.budget.settle(estimated, result.tokens)
        rows = [{"item_type": i["item_type"], "id": i["id"], "embedding": vector_literal(v),
                 "content_hash": i["content_hash"]} for i, v in zip(batch, result.vectors, strict=True)]
        self.p["requests"] += 1
        self.p["tokens"] += result.tokens
        with self.ctx.db.transaction():  # the vectors and the tallies that paid for them, together
            stored = self.ctx.db.query("embeddings_store", {
                "rows": json.dumps(rows), "model": self.embedder.model, "now": datetime.now(UTC)})
            self.p["embedded"] += len(stored)
            self.ctx.db.query("run_progress_save", self.ctx.progress_params(self.p))
        self.seen.update(i["id"] for i in batch)
        logger.info("embeddings stored", extra={"items": len(stored), "tokens": result.tokens})

    def _touch(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        rows = [{"item_type": i["item_type"], "id": i["id"]} for i in items]
        with self.ctx.db.transaction():
            touched = self.ctx.db.query("embeddings_touch", {"rows": json.dumps(rows), "now": datetime.now(UTC)})
            self.p["touched"] += len(touched)
            self.ctx.db.query("run_progress_save", self.ctx.progress_params(self.p))
        self.seen.update(i["id"] for i in items)

    def _summary(self) -> dict[str, Any]:
        return {"model": self.embedder.model, "dimensions": self.embedder.dimensions,
                "embedded": self.p["embedded"], "unchangedTouched": self.p["touched"],
                "requests": self.p["requests"], "tokens": self.p["tokens"], "pricePerMillionTokens": self.price,
                "costUsd": round(self.p["tokens"] * self.price / 1_000_000, 8),
                "budgetWaitS": round(self.budget.waited_s, 2),
                **{k: str(v) for k, v in (("workspaceId", self.scope.workspace_id),
                                          ("repositoryId", self.scope.repository_id)) if v}}

    def _finish(self) -> dict[str, Any]:
        summary = self._summary()
        self.save_job("completed")
        self.ctx.clear_progress()
        metrics.add_metric(name="EmbeddingTokens", unit="Count", value=self.p["tokens"])
        logger.info("embeddings run finished", extra=summary)
        return summary

    def _continue(self) -> dict[str, Any]:
        """Out of time with items left: queue the same request again (its own tallies) and stop here."""
        following = {**self.ctx.data, "continuation": self.p["continuation"] + 1}
        self.ctx.send(self.ctx.event_name, following)
        summary = {**self._summary(), "continued": True}
        self.save_job("completed")
        self.ctx.clear_progress()
        return summary

    def save_job(self, status: str, *, error: str | None = None) -> None:
        self.ctx.db.query("embedding_job_save", {
            "event_id": self.ctx.event_id, "repository_id": self.scope.repository_id,
            "workspace_id": self.scope.workspace_id, "status": status, "model": self.embedder.model,
            "dimensions": self.embedder.dimensions, "items_total": self.p["embedded"] + self.p["touched"],
            "items_processed": self.p["embedded"] + self.p["touched"], "tokens": self.p["tokens"],
            "cost": self.p["tokens"] * self.price / 1_000_000, "requests": self.p["requests"],
            "error": self.ctx.mask(error)[:1000] if error else None})
