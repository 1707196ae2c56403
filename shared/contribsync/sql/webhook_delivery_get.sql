-- A stored webhook delivery, for its handler.
SELECT delivery_id, event, action, payload, status FROM webhook_deliveries WHERE delivery_id = %(delivery_id)s
