-- The advisory locks this session holds beyond a transaction (a run's claim, run_precheck's): a
-- connection an ended thread left is taken over only when it holds none (Database._adopt).
SELECT count(*)::integer AS held
  FROM pg_locks
 WHERE pid = pg_backend_pid()
   AND locktype = 'advisory'
