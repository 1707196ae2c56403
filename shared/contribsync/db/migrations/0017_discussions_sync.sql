-- Discussions sync.

-- The documents' monitoring queries filter sync_logs on `entity_type`; contributor.info's code writes
-- `sync_type`. Both names work: entity_type is sync_type, generated.
ALTER TABLE sync_logs ADD COLUMN IF NOT EXISTS entity_type text GENERATED ALWAYS AS (sync_type) STORED;
CREATE INDEX IF NOT EXISTS sync_logs_entity_started_idx ON sync_logs (entity_type, started_at DESC);
