-- Serialise acquirers of one (function, key) pair for the rest of the transaction.
SELECT pg_advisory_xact_lock(hashtextextended(%(scope)s || '/' || %(key)s, 0))
