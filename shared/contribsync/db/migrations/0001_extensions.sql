-- Extensions: pgvector for the 384-dimension embeddings (issues, PRs, discussions, repositories).
CREATE EXTENSION IF NOT EXISTS vector;
