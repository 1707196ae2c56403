-- Where a previous attempt at this event stopped (none: start from the beginning).
SELECT progress, pages FROM run_progress WHERE function = %(function)s AND event_id = %(event_id)s
