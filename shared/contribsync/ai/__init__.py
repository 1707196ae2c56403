"""The OpenAI clients: discussion summaries (``summarizer``) and embeddings (``embedder``), both on the
official ``openai`` package through one lazily made client (``openai_client``).

Nothing here imports ``openai``: the first request does (see ``contribsync.ai.openai_client``). The
embeddings *service*, which decides what to embed and stores the vectors, is
``contribsync.services.embeddings``.

Each module has its own ``content_hash`` (what a summary, or a vector, was made from): import it from
the module whose it is.
"""

from contribsync.ai.embedder import Embedded, Embedder, OpenAIEmbedder, embedder_from_settings
from contribsync.ai.openai_client import OpenAIClient
from contribsync.ai.summarizer import (
    NoSummaries,
    OpenAISummarizer,
    Summarizer,
    Summary,
    summarizer_from_settings,
)

__all__ = [
    "Embedded",
    "Embedder",
    "NoSummaries",
    "OpenAIClient",
    "OpenAIEmbedder",
    "OpenAISummarizer",
    "Summarizer",
    "Summary",
    "embedder_from_settings",
    "summarizer_from_settings",
]
