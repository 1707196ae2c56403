-- The newest delivery attempt the last reconciliation of this webhook saw (no row: never checked).
SELECT watermark FROM webhook_reconcile_hooks WHERE hook = %(hook)s
