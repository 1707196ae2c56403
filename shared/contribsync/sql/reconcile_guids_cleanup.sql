-- Forget guids nothing happened to for a while: GitHub keeps no delivery that old to redeliver.
DELETE FROM webhook_reconcile_guids WHERE updated_at < %(before)s
