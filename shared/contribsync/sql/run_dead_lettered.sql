-- Whether a run of this SQS message moved it to its DLQ (a partial index keeps this one lookup).
SELECT EXISTS (SELECT 1 FROM function_runs WHERE message_id = %(message_id)s AND dead_lettered) AS found
