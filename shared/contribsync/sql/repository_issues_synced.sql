-- An issues sync finished: every issue updated up to the watermark is stored.
UPDATE repositories
   SET issues_synced_through = GREATEST(COALESCE(issues_synced_through, %(through)s::timestamptz),
                                        %(through)s::timestamptz)
 WHERE id = %(repository_id)s::uuid
