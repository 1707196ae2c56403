-- Run ids starting with a prefix (as `contribsync runs` prints them); two rows mean it is ambiguous.
SELECT id FROM function_runs WHERE starts_with(id::text, lower(%(prefix)s)) ORDER BY started_at DESC LIMIT 2
