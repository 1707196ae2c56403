-- Start tracking a discovered repository (new discoveries are high priority, as in contributor.info).
INSERT INTO tracked_repositories (repository_id, organization_name, repository_name, tracking_enabled, priority,
                                  priority_score)
VALUES (%(repository_id)s::uuid, %(owner)s, %(name)s, true, 'high', 100)
ON CONFLICT (repository_id) DO UPDATE SET tracking_enabled = true, updated_at = now()
