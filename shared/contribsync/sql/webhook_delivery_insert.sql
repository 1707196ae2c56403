-- Store a delivery once. A redelivery (same X-GitHub-Delivery) returns no row, unless the first copy
-- was stored but never queued (`unsent`): then the redelivery claims it and is queued. received_at is the
-- receiver's clock (a scaled one in the fleet), which sync/workspace-priorities compares with its fire times.
INSERT INTO webhook_deliveries AS w (delivery_id, event, action, installation_target_id, repository_github_id,
                                     payload, status, received_at)
VALUES (%(delivery_id)s, %(event)s, %(action)s, %(installation_target_id)s, %(repository_github_id)s,
        %(payload)s::jsonb, %(status)s, %(received_at)s)
ON CONFLICT (delivery_id) DO UPDATE SET status = EXCLUDED.status, error = NULL, received_at = EXCLUDED.received_at
 WHERE w.status = 'unsent'
RETURNING delivery_id
