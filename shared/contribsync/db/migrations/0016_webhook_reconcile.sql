-- Missed-delivery reconciliation (reconcile/webhook-deliveries).

-- How far back each webhook's delivery log has been read: the newest attempt the last run saw.
-- `hook` is 'app' (the GitHub App's webhook) or 'owner/repo:hook_id' (a repository webhook).
CREATE TABLE IF NOT EXISTS webhook_reconcile_hooks (
    hook       text PRIMARY KEY,
    watermark  timestamptz NOT NULL,
    checked_at timestamptz NOT NULL
);

-- What the reconciler did about a delivery (by guid, the X-GitHub-Delivery id) that never reached the
-- receiver: the redeliveries it asked GitHub for (bounded across runs) and the attempt the last one was
-- asked from (GitHub's redelivery is logged as a newer attempt), and when it gave up on them and queued
-- a sync of the repository instead. Rows are dropped a month after their last change.
CREATE TABLE IF NOT EXISTS webhook_reconcile_guids (
    hook                 text        NOT NULL,
    guid                 text        NOT NULL,
    repository_github_id bigint,
    redeliveries         integer     NOT NULL DEFAULT 0,
    last_requested_at    timestamptz,
    requested_from       bigint,
    fallback_at          timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hook, guid)
);
CREATE INDEX IF NOT EXISTS webhook_reconcile_guids_updated_idx ON webhook_reconcile_guids (updated_at);
