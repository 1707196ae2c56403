-- Memory for this transaction's sorts and hashes: the aggregation groups a few hundred thousand rows
-- per workspace (about 40 MB for 50,000 PRs), which spill to disk at the default 4 MB.
SELECT set_config('work_mem', '64MB', true) AS work_mem
