-- Webhook processing.

-- What GitHub deleted (issues, comments, discussions, discussion comments), by GitHub id. Deliveries
-- arrive late and out of order: an `edited` delivery processed after `deleted`, or a sync page read
-- before the deletion, must not bring the row back, so every upsert of these tables skips ids found here.
CREATE TABLE IF NOT EXISTS deleted_github_objects (
    kind        text        NOT NULL CHECK (kind IN ('issue', 'comment', 'discussion', 'discussion_comment')),
    github_id   bigint      NOT NULL,
    deleted_at  timestamptz NOT NULL DEFAULT now(),
    delivery_id text,
    PRIMARY KEY (kind, github_id)
);

-- `unsent`: stored, but the queue refused it; GitHub's redelivery (or the reconciler) of the same
-- X-GitHub-Delivery then claims it again instead of being acknowledged as a duplicate.
ALTER TABLE webhook_deliveries DROP CONSTRAINT IF EXISTS webhook_deliveries_status_check;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_status_check
    CHECK (status IN ('received', 'unsent', 'queued', 'processed', 'failed', 'ignored'));
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS result jsonb;
