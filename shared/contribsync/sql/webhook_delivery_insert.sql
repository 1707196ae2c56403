-- Store a delivery once. A redelivery (same X-GitHub-Delivery) returns no row, unless the first copy
-- was stored but never queued (`unsent`): then the redelivery claims it and is queued.
INSERT INTO webhook_deliveries AS w (delivery_id, event, action, installation_target_id, repository_github_id,
                                     payload, status)
VALUES (%(delivery_id)s, %(event)s, %(action)s, %(installation_target_id)s, %(repository_github_id)s,
        %(payload)s::jsonb, %(status)s)
ON CONFLICT (delivery_id) DO UPDATE SET status = EXCLUDED.status, error = NULL, received_at = now()
 WHERE w.status = 'unsent'
RETURNING delivery_id
