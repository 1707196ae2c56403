-- Give a concurrency slot back, and drop leases that expired (their Lambda died or timed out).
DELETE FROM concurrency_leases
 WHERE run_id = %(run_id)s OR (scope = %(scope)s AND expires_at <= %(now)s)
