-- Token bucket: refill by elapsed time, then take one token if there is one. The row lock taken by
-- ON CONFLICT serialises concurrent takers; `granted` says whether this take succeeded.
INSERT INTO throttle_buckets AS b (scope, key, tokens, granted, refreshed_at)
VALUES (%(scope)s, %(key)s, %(capacity)s::double precision - 1, true, %(now)s)
ON CONFLICT (scope, key) DO UPDATE
   SET (tokens, granted) = (
         SELECT CASE WHEN s.level >= 1 THEN s.level - 1 ELSE s.level END, s.level >= 1
           FROM (SELECT least(%(capacity)s::double precision,
                              b.tokens + %(rate)s::double precision
                                * greatest(0, extract(epoch FROM (%(now)s::timestamptz - b.refreshed_at))))
                        AS level) AS s),
       refreshed_at = greatest(b.refreshed_at, %(now)s::timestamptz)
RETURNING tokens, granted
