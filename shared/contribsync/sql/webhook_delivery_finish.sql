-- How a delivery's processing ended (processed | failed), with the handler's result or error.
UPDATE webhook_deliveries
   SET status = %(status)s, error = %(error)s, result = %(result)s::jsonb, processed_at = now()
 WHERE delivery_id = %(delivery_id)s
