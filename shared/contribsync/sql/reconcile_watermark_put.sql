-- Move a webhook's watermark forward (never back: a late, slower run must not re-open what is done).
INSERT INTO webhook_reconcile_hooks AS h (hook, watermark, checked_at)
VALUES (%(hook)s, %(watermark)s, %(now)s)
ON CONFLICT (hook) DO UPDATE
   SET watermark  = greatest(h.watermark, excluded.watermark),
       checked_at = excluded.checked_at
