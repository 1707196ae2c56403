-- A failed or retried run keeps more than its error's type and message (error_type, error, unchanged):
-- error_traceback, its traceback trimmed to contribsync's own frames (file, line, function and source
-- line, never local variables; most recent call last, at most 20 frames and 4 KB), and error_step, the
-- step it failed at as the service said it (e.g. {"stream": "MERGED", "page": 2}, {"pr": 42}), with the
-- GitHub request that failed and GitHub's request id ("github_request", "github_request_id") when the
-- error carried them. Secrets are masked before either is written (contribsync.runtime.failure).
-- Only added, on contribsync's own table: its row-level security (0025) covers the new columns.
ALTER TABLE function_runs ADD COLUMN IF NOT EXISTS error_traceback text;
ALTER TABLE function_runs ADD COLUMN IF NOT EXISTS error_step jsonb;
