-- Stars and forks from GitHub's events API, all in one statement; an event is stored once: its key is
-- (event_id, created_at), which a month-partitioned table can hold (migration 0025).
INSERT INTO github_events_cache (event_id, event_type, actor_login, repository_owner, repository_name, payload,
                                 created_at)
SELECT e.event_id, e.event_type, e.actor_login, %(owner)s, %(name)s, e.payload, e.created_at
  FROM jsonb_to_recordset(%(events)s::jsonb)
       AS e(event_id text, event_type text, actor_login text, payload jsonb, created_at timestamptz)
ON CONFLICT (event_id, created_at) DO NOTHING
RETURNING event_id
