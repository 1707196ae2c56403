-- GitHub deleted an object (kind: issue | comment | discussion | discussion_comment): remember it, so
-- late deliveries and sync pages cannot bring it back, and remove its row (an issue's or discussion's
-- comments go with it). The caller holds the object's advisory lock, as every single-object writer does.
WITH tombstone AS (
    INSERT INTO deleted_github_objects (kind, github_id, delivery_id)
    VALUES (%(kind)s, %(github_id)s, %(delivery_id)s)
    ON CONFLICT (kind, github_id) DO NOTHING
    RETURNING 1
), issue AS (
    DELETE FROM issues WHERE %(kind)s = 'issue' AND github_id = %(github_id)s RETURNING 1
), comment AS (
    DELETE FROM comments WHERE %(kind)s = 'comment' AND github_id = %(github_id)s RETURNING 1
), discussion AS (
    DELETE FROM discussions WHERE %(kind)s = 'discussion' AND github_id = %(github_id)s RETURNING 1
), discussion_comment AS (
    DELETE FROM discussion_comments WHERE %(kind)s = 'discussion_comment' AND github_id = %(github_id)s RETURNING 1
)
SELECT (SELECT count(*) FROM tombstone) AS tombstoned,
       (SELECT count(*) FROM issue) + (SELECT count(*) FROM comment) + (SELECT count(*) FROM discussion)
       + (SELECT count(*) FROM discussion_comment) AS deleted
