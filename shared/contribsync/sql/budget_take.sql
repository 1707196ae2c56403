-- Token bucket of %(capacity)s that refills at %(rate)s per second: take %(amount)s if the level allows,
-- else take nothing. Shared by every Lambda instance (the row lock serialises takers); the level says
-- how long to wait when refused. Used for OpenAI's requests and tokens per minute. A negative amount
-- gives back what an estimate over-charged (never above capacity).
INSERT INTO throttle_buckets AS b (scope, key, tokens, granted, refreshed_at)
VALUES (%(scope)s, %(key)s, %(capacity)s::double precision - %(amount)s::double precision, true, %(now)s)
ON CONFLICT (scope, key) DO UPDATE
   SET (tokens, granted) = (
         SELECT CASE WHEN s.level >= %(amount)s
                     THEN least(%(capacity)s::double precision, s.level - %(amount)s) ELSE s.level END,
                s.level >= %(amount)s
           FROM (SELECT least(%(capacity)s::double precision,
                              b.tokens + %(rate)s::double precision
                                * greatest(0, extract(epoch FROM (%(now)s::timestamptz - b.refreshed_at))))
                        AS level) AS s),
       refreshed_at = greatest(b.refreshed_at, %(now)s::timestamptz)
RETURNING tokens, granted
