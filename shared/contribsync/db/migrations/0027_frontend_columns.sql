-- Two columns contributor.info's frontend reads that its databases lack, added where missing:
-- - issues.linked_prs (useWorkspaceIssues): its RPC batch_update_issues_linked_prs writes it (jsonb,
--   [{number, url, state}, ...]), but its migration ran before the issues table existed;
-- - pull_requests.author_login (use-my-work): no migration of its creates it.
ALTER TABLE issues ADD COLUMN IF NOT EXISTS linked_prs jsonb;
ALTER TABLE pull_requests ADD COLUMN IF NOT EXISTS author_login text;
