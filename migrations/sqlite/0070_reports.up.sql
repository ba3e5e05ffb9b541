-- Course reports (SPEC §10.5): one row per requested report, its status and, once built, its
-- aggregates as a JSON document. As in 0001: ids and times as text. Deleting an activity
-- deletes its reports (they are derived data; a running job then finds nothing to do).

CREATE TABLE reports (
    id           TEXT NOT NULL PRIMARY KEY,
    activity_id  TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    -- No foreign key, as in the audit log: the report outlives its requester.
    requested_by TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    error        TEXT NULL,
    -- The ReportBody (JSON object), set when completed.
    body         TEXT NULL,
    created_at   TEXT NOT NULL,
    started_at   TEXT NULL,
    finished_at  TEXT NULL,
    CONSTRAINT reports_status_check
        CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    CONSTRAINT reports_body_check CHECK (body IS NULL OR json_valid(body))
) STRICT;

-- The list of an activity's reports, newest first.
CREATE INDEX reports_activity_idx ON reports (activity_id, created_at DESC, id DESC);
