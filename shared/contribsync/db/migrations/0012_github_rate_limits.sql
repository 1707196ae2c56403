-- The GitHub rate-limit budget shared by every function: one row per token and resource (core,
-- graphql, search…). Tokens are stored only as a short sha256 fingerprint, never in clear.
-- `remaining` is decremented when a request is reserved and corrected by GitHub's own headers
-- (never raised within the same window, so a late answer cannot hand out budget twice).
CREATE TABLE IF NOT EXISTS github_rate_limits (
    token_id    text        NOT NULL,
    resource    text        NOT NULL,
    "limit"     integer     NOT NULL,
    remaining   integer     NOT NULL,
    used        integer,
    reset_at    timestamptz NOT NULL,
    observed_at timestamptz NOT NULL DEFAULT now(),
    estimated   boolean     NOT NULL DEFAULT false,   -- a default budget assumed before GitHub's first answer
    PRIMARY KEY (token_id, resource)
);
