-- The durable job queue (docs/jobs.md). A worker claims a due job with a lease; `fence`
-- grows with every claim so that a worker whose lease was taken over cannot change the job.

CREATE TABLE jobs (
    id               UUID        NOT NULL PRIMARY KEY,
    kind             TEXT        NOT NULL,
    payload          JSONB       NOT NULL,
    -- At most one job per (kind, unique_key), ever: a duplicate enqueue is a no-op.
    unique_key       TEXT,
    state            TEXT        NOT NULL,
    attempts         BIGINT      NOT NULL DEFAULT 0,
    max_attempts     BIGINT      NOT NULL,
    run_at           TIMESTAMPTZ NOT NULL,
    lease_owner      TEXT,
    lease_expires_at TIMESTAMPTZ,
    fence            BIGINT      NOT NULL DEFAULT 0,
    last_error       TEXT,
    failed_at        TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ,
    CONSTRAINT jobs_state_check CHECK (state IN ('queued', 'running', 'succeeded', 'dead')),
    CONSTRAINT jobs_attempts_check CHECK (attempts >= 0 AND max_attempts >= 1),
    CONSTRAINT jobs_running_lease_check
        CHECK (state <> 'running' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);

CREATE UNIQUE INDEX jobs_unique_key_idx ON jobs (kind, unique_key) WHERE unique_key IS NOT NULL;
-- The claim: due queued jobs by run_at, and running jobs by lease expiry.
CREATE INDEX jobs_queued_idx ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_running_idx ON jobs (lease_expires_at) WHERE state = 'running';
-- Admin lists (newest first, by state) and the failures of the last hour.
CREATE INDEX jobs_state_created_idx ON jobs (state, created_at DESC, id DESC);
CREATE INDEX jobs_failed_at_idx ON jobs (failed_at) WHERE failed_at IS NOT NULL;
