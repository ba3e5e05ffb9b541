-- Server errors of every instance, for `GET /admin/errors`: the newest 100 are kept (the
-- store deletes older rows on each insert, by `seq`).

CREATE TABLE server_errors (
    -- The rowid: each insert takes the largest plus one.
    seq         INTEGER NOT NULL PRIMARY KEY,
    -- Chosen by the recording instance; a retried insert of the same error is skipped.
    id          TEXT    NOT NULL,
    instance    TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    method      TEXT    NOT NULL,
    route       TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    detail      TEXT    NOT NULL,
    occurred_at TEXT    NOT NULL,
    CONSTRAINT server_errors_id_key UNIQUE (id),
    CONSTRAINT server_errors_status_check CHECK (status BETWEEN 500 AND 599)
) STRICT;
