-- The cached ETag and body of a URL.
SELECT etag, body FROM github_etags WHERE url = %(url)s
