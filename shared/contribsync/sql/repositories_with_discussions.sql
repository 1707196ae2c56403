-- Repositories the discussions cron syncs: active, with discussions enabled.
SELECT id FROM repositories WHERE has_discussions AND is_active ORDER BY full_name
