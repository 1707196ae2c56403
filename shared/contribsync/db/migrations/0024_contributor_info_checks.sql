-- CHECKs of contributor.info's schema that its own code and GitHub's data break, widened where a
-- database has them (contribsync's own schema has had the wider rules from the start):
-- - pull_requests.state allowed open|closed, while its jobs write 'merged';
-- - contributors.username allowed [a-zA-Z0-9-] only, which refuses GitHub's bot accounts
--   (dependabot[bot]): the format now takes the `[bot]` suffix. Its length rule is kept.
-- Widening keeps every existing row valid; nothing else of theirs is touched.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint
                WHERE conrelid = 'pull_requests'::regclass AND conname = 'pull_requests_state_check'
                  AND pg_get_constraintdef(oid) NOT LIKE '%merged%') THEN
        ALTER TABLE pull_requests DROP CONSTRAINT pull_requests_state_check;
        ALTER TABLE pull_requests ADD CONSTRAINT pull_requests_state_check
            CHECK (state IN ('open', 'closed', 'merged'));
    END IF;
    IF EXISTS (SELECT 1 FROM pg_constraint
                WHERE conrelid = 'contributors'::regclass AND conname = 'contributors_username_format'
                  AND pg_get_constraintdef(oid) NOT LIKE '%bot%') THEN
        ALTER TABLE contributors DROP CONSTRAINT contributors_username_format;
        ALTER TABLE contributors ADD CONSTRAINT contributors_username_format
            CHECK (username ~ '^[a-zA-Z0-9-]+(\[bot\])?$' AND username !~ '^-' AND username !~ '-(\[bot\])?$');
    END IF;
END $$;
