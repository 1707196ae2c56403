"""Similar issues, pull requests and discussions: nearest stored vectors by cosine distance (pgvector).

Only vectors of one model are compared (``embedding_model``): the query side uses the model the items
were stored with, which contributor.info did not (it stored OpenAI vectors and queried with MiniLM).
``similar_to_item`` needs no API call; ``similar_to_text`` embeds the text with the same ``Embedder``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contribsync.ai.embedder import MODEL, embedding_input, vector_literal
from contribsync.errors import NonRetriable

if TYPE_CHECKING:
    from uuid import UUID

    from contribsync.ai.embedder import Embedder
    from contribsync.db import Database


def find_item(db: Database, repository_id: UUID | str, number: int) -> dict[str, Any] | None:
    """The issue, pull request or discussion ``number`` of a repository (they share GitHub's numbering)."""
    return db.query_one("embeddings_item", {"repository_id": str(repository_id), "number": number})


def similar_to_item(db: Database, item: dict[str, Any], *, limit: int = 10,
                    all_repositories: bool = False) -> list[dict[str, Any]]:
    """The ``limit`` items nearest to ``item`` (a ``find_item`` row), best first, with ``score`` = cosine
    similarity; in its repository unless ``all_repositories``."""
    stored = db.query_one("embeddings_item_vector", {"item_type": item["item_type"], "id": item["id"]})
    if stored is None:
        raise NonRetriable(f"{item['item_type']} #{item['number']} has no embedding yet: run "
                           "embeddings/process.repository for its repository first")
    return _nearest(db, stored["vector"], stored["embedding_model"], None if all_repositories
                    else item["repository_id"], item["id"], limit)


def similar_to_text(db: Database, embedder: Embedder, text: str, *, repository_id: UUID | str | None = None,
                    limit: int = 10) -> list[dict[str, Any]]:
    """The items nearest to a free text (e.g. a new issue's title and body), embedded like an issue."""
    vector = embedder.embed([embedding_input("issue", text, None)]).vectors[0]
    return _nearest(db, vector_literal(vector), embedder.model, repository_id, "", limit)


def _nearest(db: Database, vector: str, model: str | None, repository_id: UUID | str | None, exclude: str,
             limit: int) -> list[dict[str, Any]]:
    return db.query("embeddings_similar", {
        "vector": vector, "model": model or MODEL, "repository_id": str(repository_id) if repository_id else None,
        "exclude": exclude, "limit": limit})


__all__ = ["find_item", "similar_to_item", "similar_to_text"]
