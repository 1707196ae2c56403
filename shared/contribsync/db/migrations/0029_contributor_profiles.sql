-- contributor.info's repository sync fills a contributor's followers, following and public_repos
-- (GraphQL's followers, following and repositories totalCount). contribsync reads them in a query of
-- their own, by node id, for the people a sync saw whose counts are missing or older than a week:
-- node_id keeps GitHub's global id (GraphQL's id, REST's node_id), profile_synced_at when the counts
-- were read. Both are contribsync's own columns on their table (only added, never retyped).
ALTER TABLE contributors ADD COLUMN IF NOT EXISTS node_id text;
ALTER TABLE contributors ADD COLUMN IF NOT EXISTS profile_synced_at timestamptz;
