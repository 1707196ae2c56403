-- Serialise writers of the same GitHub objects until the transaction ends (ids sorted: no deadlocks).
-- Webhook handlers take these before writing or deleting single objects, so a deletion and a
-- concurrent late update cannot interleave and resurrect a row.
SELECT pg_advisory_xact_lock(id) FROM unnest(%(ids)s::bigint[]) AS id ORDER BY id
