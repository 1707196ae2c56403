"""``capture/repository.discussions``: a repository's discussions, their authors and AI summaries.

As contributor.info documents the job (``src/lib/inngest/functions/``), in its order: a ``sync_logs`` row
(``repository_discussions``) is opened; the repository is loaded (missing, or discussions disabled:
non-retriable); discussions are paged newest first up to ``maxItems`` with category, answer, counts,
lock and author; authors go through the capture pipeline's contributor upsert; summaries are made and
the page is stored in one statement; the log is closed with counts and API usage. Each page is
checkpointed with its cursor and counters (``run_progress``), so a retried run resumes after the last
stored page. Differences on purpose: ``github_id`` is GitHub's databaseId (contributor.info wrote the
number there), and a summary is only requested when the title or body changed (content hash).

A summary that cannot be made (OpenAI not configured, down, slow, or answering nonsense) leaves the
discussion without one; the run still succeeds, and the reason is logged (never the key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync.ai.summarizer import NoSummaries, Summarizer, content_hash
from contribsync.capture import discussions, repos
from contribsync.capture.rows import Batch
from contribsync.capture.store import Counts, Written, write
from contribsync.capture.synclog import SyncLog
from contribsync.errors import NonRetriable
from contribsync.observability import logger

if TYPE_CHECKING:
    from contribsync.payloads import RepositoryDiscussions
    from contribsync.runtime import RunContext

PAGE_DISCUSSIONS = 50  # contributor.info's page size
def repository_discussions(data: RepositoryDiscussions, ctx: RunContext, *,
                           on_page: Any = None) -> dict[str, Any]:  # noqa: ANN401 - a progress callback
    """Sync up to ``maxItems`` discussions with ``ctx.summarizer``'s summaries; ``on_page(done, total)``
    reports progress (the CLI's progress bar)."""
    repo = repos.find(ctx.db, repository_id=data.repository_id)
    with SyncLog(ctx, "repository_discussions", str(repo["id"]) if repo else None,
                 {"maxItems": data.max_items}) as log:
        if repo is None:
            raise NonRetriable(f"repository not found: {data.repository_id}")
        if not repo["has_discussions"]:
            raise NonRetriable(f"discussions disabled for {repo['full_name']}")
        maker = ctx.summarizer
        progress = ctx.progress() or {"cursor": None, "pages": 0, "processed": 0, "stored": 0, "summaries": 0,
                                      "summaryFailures": 0}
        while progress["processed"] < data.max_items:
            ctx.checkpoint()
            ctx.at(page=progress["pages"] + 1, after=progress["cursor"])
            answer = ctx.github.graphql("discussions_page", {
                "owner": repo["owner"], "name": repo["name"], "after": progress["cursor"],
                "first": min(PAGE_DISCUSSIONS, data.max_items - progress["processed"])})
            repository = answer.data.get("repository")
            if repository is None:
                raise NonRetriable(f"repository {repo['full_name']} is not on GitHub any more")
            page = repository["discussions"]
            rows, written = _prepare_page(ctx, repo, page["nodes"], maker, progress)
            progress.update(cursor=page["pageInfo"]["endCursor"], pages=progress["pages"] + 1,
                            processed=progress["processed"] + len(rows))
            with ctx.db.transaction():  # the page and the cursor after it: stored together or not at all
                results = discussions.upsert(ctx.db, str(repo["id"]), rows)
                progress["stored"] += len(results)
                ctx.db.query("run_progress_save", ctx.progress_params(progress))
            inserted = sum(1 for r in results if r["inserted"])
            written.by_table["discussions"] = Counts(inserted, len(results) - inserted, len(rows) - len(results))
            log.add(written, processed=len(rows))
            if on_page is not None:
                on_page(progress["processed"], min(data.max_items, page.get("totalCount") or 0))
            if not page["pageInfo"]["hasNextPage"]:
                break
        ctx.clear_progress()
    return {"success": True, "repositoryId": str(repo["id"]), "discussionsProcessed": progress["processed"],
            "discussionsStored": progress["stored"], "summariesGenerated": progress["summaries"],
            "summariesFailed": progress["summaryFailures"], "pages": progress["pages"]}


def _prepare_page(ctx: RunContext, repo: dict[str, Any], nodes: list[dict[str, Any]], maker: Summarizer,
                  progress: dict[str, Any]) -> tuple[list[dict[str, Any]], Written]:
    """Store the page's authors, then make summaries for the discussions whose content changed."""
    authors = Batch()
    for node in nodes:
        authors.actor(node.get("author"), node.get("updatedAt"))
    written = write(ctx.db, authors, repository_id=str(repo["id"]), repository_full_name=repo["full_name"])
    done = {r["id"]: r["summary_content_hash"] for r in ctx.db.query(
        "discussions_summary_hashes", {"ids": [n["id"] for n in nodes]})}
    rows = []
    for node in nodes:
        digest = content_hash(node["title"], node.get("body"))
        summary = None
        if done.get(node["id"]) != digest and not isinstance(maker, NoSummaries):
            made = maker.summarize(node["title"], node.get("body"))
            summary = made.text
            if summary is None:
                progress["summaryFailures"] += 1
                logger.warning("discussion stored without a summary",
                               extra={"discussion": node["number"], "reason": made.reason})
            else:
                progress["summaries"] += 1
        rows.append(discussions.graphql_row(node, summary=summary))
    return rows, written


__all__ = ["PAGE_DISCUSSIONS", "repository_discussions"]
