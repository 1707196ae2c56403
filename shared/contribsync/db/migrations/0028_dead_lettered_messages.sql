-- The runtime drops a redelivered SQS message it already moved to its DLQ (SQS delivers at least once);
-- this partial index answers that lookup without scanning the run history.
CREATE INDEX IF NOT EXISTS function_runs_dead_lettered_message_idx
    ON function_runs (message_id) WHERE dead_lettered;
