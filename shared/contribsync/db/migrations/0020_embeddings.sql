-- Embeddings (issue 9): which model made each stored vector, so a model switch re-embeds instead of
-- mixing vector spaces (contributor.info queried with another model than it stored with), and the run
-- bookkeeping contributor.info keeps in embedding_jobs.
ALTER TABLE issues ADD COLUMN IF NOT EXISTS embedding_model text;
ALTER TABLE pull_requests ADD COLUMN IF NOT EXISTS embedding_model text;
ALTER TABLE discussions ADD COLUMN IF NOT EXISTS embedding_model text;
ALTER TABLE embedding_jobs ADD COLUMN IF NOT EXISTS event_id text;
ALTER TABLE embedding_jobs ADD COLUMN IF NOT EXISTS requests integer NOT NULL DEFAULT 0;
ALTER TABLE embedding_jobs ADD COLUMN IF NOT EXISTS dimensions integer;
CREATE UNIQUE INDEX IF NOT EXISTS embedding_jobs_event_idx ON embedding_jobs (event_id);

-- contribsync_content_hash: contributor.info's embeddings content_hash, sha256 of "{title}:{body}" in hex,
-- first 16 characters (contribsync.embeddings.content_hash computes the same in Python).
CREATE OR REPLACE FUNCTION contribsync_content_hash(title text, body text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT left(encode(sha256(convert_to(coalesce(title, '') || ':' || coalesce(body, ''), 'UTF8')), 'hex'), 16)
$$;
