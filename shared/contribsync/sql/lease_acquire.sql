-- Take a concurrency slot if fewer than %(limit)s unexpired leases exist (call under lease_lock).
INSERT INTO concurrency_leases (run_id, scope, key, expires_at)
SELECT %(run_id)s, %(scope)s, %(key)s, %(expires_at)s
 WHERE (SELECT count(*) FROM concurrency_leases
         WHERE scope = %(scope)s AND key = %(key)s AND expires_at > %(now)s) < %(limit)s
RETURNING run_id
