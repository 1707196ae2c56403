-- Point replies at their parent's row once the parent is stored (it may come in a later page or run).
UPDATE comments c
   SET in_reply_to_id = parent.id
  FROM comments parent
 WHERE c.repository_id = %(repository_id)s
   AND c.in_reply_to_id IS NULL
   AND c.in_reply_to_github_id IS NOT NULL
   AND parent.github_id = c.in_reply_to_github_id
