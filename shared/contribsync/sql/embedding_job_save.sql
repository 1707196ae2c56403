-- contributor.info's embedding_jobs row for a run (one per event, whatever its attempts): the model,
-- items, tokens, requests and cost so far, and its status.
INSERT INTO embedding_jobs AS j (event_id, repository_id, workspace_id, status, model, dimensions, items_total,
                                 items_processed, tokens_used, cost_usd, requests, error_message, started_at,
                                 completed_at)
VALUES (%(event_id)s, %(repository_id)s, %(workspace_id)s, %(status)s, %(model)s, %(dimensions)s, %(items_total)s,
        %(items_processed)s, %(tokens)s, %(cost)s, %(requests)s, %(error)s, now(),
        CASE WHEN %(status)s IN ('completed', 'failed') THEN now() END)
ON CONFLICT (event_id) DO UPDATE
   SET status = excluded.status, items_total = excluded.items_total, items_processed = excluded.items_processed,
       tokens_used = excluded.tokens_used, cost_usd = excluded.cost_usd, requests = excluded.requests,
       error_message = excluded.error_message, completed_at = excluded.completed_at, updated_at = now()
RETURNING id
