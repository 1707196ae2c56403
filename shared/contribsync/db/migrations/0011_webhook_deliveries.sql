-- Every GitHub webhook delivery the receiver accepted, keyed on X-GitHub-Delivery so a redelivery
-- is acknowledged without being stored or processed twice. `status` tracks its processing:
-- received → queued → processed | failed | ignored (event types nothing handles).
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    delivery_id            text PRIMARY KEY,
    event                  text        NOT NULL,
    action                 text,
    installation_target_id bigint,
    repository_github_id   bigint,
    payload                jsonb       NOT NULL,
    status                 text        NOT NULL DEFAULT 'received'
                               CHECK (status IN ('received', 'queued', 'processed', 'failed', 'ignored')),
    error                  text,
    received_at            timestamptz NOT NULL DEFAULT now(),
    processed_at           timestamptz
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_status_idx ON webhook_deliveries (status, received_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_repo_idx ON webhook_deliveries (repository_github_id, received_at);
