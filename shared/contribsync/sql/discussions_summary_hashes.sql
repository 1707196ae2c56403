-- The content hash each stored discussion's summary was made from (a summary is only regenerated
-- when the title or body changed).
SELECT id, summary_content_hash FROM discussions WHERE id = ANY(%(ids)s::varchar[]) AND summary IS NOT NULL
