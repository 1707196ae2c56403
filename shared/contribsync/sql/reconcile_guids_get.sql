-- What earlier runs did about these guids of one webhook.
SELECT guid, redeliveries, last_requested_at, requested_from, fallback_at
  FROM webhook_reconcile_guids
 WHERE hook = %(hook)s AND guid = ANY(%(guids)s::text[])
