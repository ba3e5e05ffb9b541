-- Course reports (SPEC §10.5): one row per requested report, its status and, once built, its
-- aggregates as a JSON document. Deleting an activity deletes its reports (they are derived
-- data; a running job then finds nothing to do).

CREATE TABLE reports (
    id           UUID        PRIMARY KEY,
    activity_id  UUID        NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    -- No foreign key, as in the audit log: the report outlives its requester.
    requested_by UUID        NOT NULL,
    status       TEXT        NOT NULL DEFAULT 'pending',
    error        TEXT        NULL,
    -- The ReportBody, set when completed.
    body         JSONB       NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ NULL,
    finished_at  TIMESTAMPTZ NULL,
    CONSTRAINT reports_status_check
        CHECK (status IN ('pending', 'running', 'completed', 'failed'))
);

-- The list of an activity's reports, newest first.
CREATE INDEX reports_activity_idx ON reports (activity_id, created_at DESC, id DESC);
