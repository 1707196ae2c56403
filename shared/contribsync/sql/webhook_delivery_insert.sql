-- Store a delivery once; a redelivery (same X-GitHub-Delivery) returns no row.
INSERT INTO webhook_deliveries (delivery_id, event, action, installation_target_id, repository_github_id,
                                payload, status)
VALUES (%(delivery_id)s, %(event)s, %(action)s, %(installation_target_id)s, %(repository_github_id)s,
        %(payload)s::jsonb, %(status)s)
ON CONFLICT (delivery_id) DO NOTHING
RETURNING delivery_id
