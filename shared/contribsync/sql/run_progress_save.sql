-- Record a run's progress after a page is stored (same transaction as the page's rows).
INSERT INTO run_progress (function, event_id, progress, pages, updated_at)
VALUES (%(function)s, %(event_id)s, %(progress)s, 1, now())
ON CONFLICT (function, event_id) DO UPDATE SET
    progress = EXCLUDED.progress, pages = run_progress.pages + 1, updated_at = now()
