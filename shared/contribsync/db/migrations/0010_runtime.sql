-- The runtime's own tables: run history (the Inngest dashboard's data), per-key concurrency leases,
-- throttle token buckets and cancellations. They live in Postgres so that limits hold across Lambda
-- instances and pollers, and survive restarts.

CREATE TABLE IF NOT EXISTS function_runs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id        text        NOT NULL,
    event_name      text        NOT NULL,          -- the name as sent (may be an alias)
    function        text        NOT NULL,
    concurrency_key text,
    attempt         integer     NOT NULL CHECK (attempt >= 1),
    status          text        NOT NULL CHECK (status IN
                        ('running', 'completed', 'failed', 'retrying', 'deferred', 'cancelled', 'skipped')),
    started_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    duration_ms     integer,
    error_type      text,
    error           text,
    result          jsonb,
    data            jsonb,
    message_id      text,
    next_attempt_at timestamptz,                   -- when a retried or deferred message becomes visible
    dead_lettered   boolean     NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS function_runs_function_started_idx ON function_runs (function, started_at DESC);
CREATE INDEX IF NOT EXISTS function_runs_event_idx ON function_runs (event_id, function);
CREATE INDEX IF NOT EXISTS function_runs_status_started_idx ON function_runs (status, started_at DESC);

-- One row per running run that counts against a concurrency limit. A lease expires with the
-- function's timeout, so a crashed Lambda cannot hold its slot forever.
CREATE TABLE IF NOT EXISTS concurrency_leases (
    run_id     uuid PRIMARY KEY,
    scope      text        NOT NULL,               -- the function
    key        text        NOT NULL DEFAULT '',    -- the concurrency key's value ('' = global)
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS concurrency_leases_scope_key_idx ON concurrency_leases (scope, key, expires_at);

-- Token buckets: capacity = the throttle's limit, refilled at limit/period tokens per second.
CREATE TABLE IF NOT EXISTS throttle_buckets (
    scope        text             NOT NULL,
    key          text             NOT NULL DEFAULT '',
    tokens       double precision NOT NULL,
    granted      boolean          NOT NULL,        -- whether the last take succeeded
    refreshed_at timestamptz      NOT NULL,
    PRIMARY KEY (scope, key)
);

-- cancel/function: runs of `function` (and `event_name` when given) whose data contains `match`
-- and whose event was sent before `created_at` are skipped, or stopped at their next checkpoint.
CREATE TABLE IF NOT EXISTS cancellations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    function   text        NOT NULL,
    event_name text,
    match      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    reason     text,
    event_id   text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL DEFAULT now() + interval '7 days'
);
CREATE INDEX IF NOT EXISTS cancellations_function_idx ON cancellations (function, created_at);
