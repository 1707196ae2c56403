-- Conditional-request cache for GitHub REST GETs: the ETag and body of the last 200 per URL, so a
-- re-sync in another Lambda invocation can send If-None-Match and get a free 304.
CREATE TABLE IF NOT EXISTS github_etags (
    url       text PRIMARY KEY,
    etag      text        NOT NULL,
    body      jsonb,
    stored_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS github_etags_stored_idx ON github_etags (stored_at);
