-- Remember the latest ETag and body of a URL.
INSERT INTO github_etags (url, etag, body, stored_at)
VALUES (%(url)s, %(etag)s, %(body)s::jsonb, now())
ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, body = excluded.body, stored_at = excluded.stored_at
