-- Record a cancel/function request.
INSERT INTO cancellations (function, event_name, match, reason, event_id, created_at)
VALUES (%(function)s, %(event_name)s, %(match)s, %(reason)s, %(event_id)s, %(now)s)
RETURNING id
