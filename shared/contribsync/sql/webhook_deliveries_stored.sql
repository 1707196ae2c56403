-- Which of these X-GitHub-Delivery ids the receiver stored and handed on. An `unsent` one was stored but
-- never queued: it still needs GitHub's redelivery, which the receiver then claims.
SELECT delivery_id FROM webhook_deliveries
 WHERE delivery_id = ANY(%(ids)s::text[]) AND status <> 'unsent'
