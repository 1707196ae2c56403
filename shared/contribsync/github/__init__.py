"""GitHub access: GraphQL documents, the httpx client, and the shared rate-limit budget."""

from contribsync.github.documents import document

__all__ = ["document"]
