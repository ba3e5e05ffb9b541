-- Server errors of every instance, for `GET /admin/errors`: the newest 100 are kept (the
-- store deletes older rows on each insert, by `seq`).

CREATE TABLE server_errors (
    seq         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Chosen by the recording instance; a retried insert of the same error is skipped.
    id          UUID        NOT NULL,
    instance    TEXT        NOT NULL,
    request_id  TEXT        NOT NULL,
    method      TEXT        NOT NULL,
    route       TEXT        NOT NULL,
    status      BIGINT      NOT NULL,
    detail      TEXT        NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT server_errors_id_key UNIQUE (id),
    CONSTRAINT server_errors_status_check CHECK (status BETWEEN 500 AND 599)
);
