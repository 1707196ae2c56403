-- The queue refused a stored delivery: a redelivery of the same X-GitHub-Delivery may claim it again.
UPDATE webhook_deliveries SET status = 'unsent', error = %(error)s WHERE delivery_id = %(delivery_id)s
