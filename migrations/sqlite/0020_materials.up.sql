-- Course material (SPEC §10.5): uploads, the status of their five stages, and what each
-- stage produced (chunks with their quality, concepts, the concept graph, vectors).
-- As in 0001: UUIDs and times as text, booleans 0/1, lists and documents as JSON text.
-- Deleting a material deletes everything below it; deleting an activity is refused while it
-- has material (as while it has sessions).

CREATE TABLE materials (
    id              TEXT    NOT NULL PRIMARY KEY,
    activity_id     TEXT    NOT NULL REFERENCES activities (id) ON DELETE RESTRICT,
    title           TEXT    NOT NULL,
    content_type    TEXT    NOT NULL,
    size_bytes      INTEGER NOT NULL,
    content         BLOB    NOT NULL,
    created_by      TEXT    NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    -- The overall status of the stages, kept with every stage change.
    status          TEXT    NOT NULL DEFAULT 'pending',
    language        TEXT    NULL,
    quality_score   REAL    NULL,
    -- The whole quality report (per-chunk verdicts, language shares), for the later stages;
    -- JSON null before the quality stage.
    quality         TEXT    NOT NULL DEFAULT 'null',
    -- JSON array of tags.
    tags            TEXT    NOT NULL DEFAULT '[]',
    -- The embedding stage's kind (lexical, vector), analyser or model.
    embedding_kind  TEXT    NULL,
    embedding_model TEXT    NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    CONSTRAINT materials_content_type_check
        CHECK (content_type IN ('text/markdown', 'text/plain', 'application/pdf')),
    CONSTRAINT materials_status_check
        CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    CONSTRAINT materials_size_check CHECK (size_bytes >= 0),
    CONSTRAINT materials_json_check CHECK (json_valid(tags) AND json_type(tags) = 'array')
) STRICT;

-- The list of an activity, newest first; the corpus version of an activity.
CREATE INDEX materials_activity_idx ON materials (activity_id, created_at DESC, id DESC);
CREATE INDEX materials_completed_idx ON materials (activity_id, updated_at)
    WHERE status = 'completed';

CREATE TABLE material_stages (
    material_id TEXT    NOT NULL REFERENCES materials (id) ON DELETE CASCADE,
    stage       TEXT    NOT NULL,
    -- 0 for ingestion … 4 for embedding.
    ordinal     INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending',
    progress    REAL    NOT NULL DEFAULT 0,
    started_at  TEXT    NULL,
    finished_at TEXT    NULL,
    error       TEXT    NULL,
    PRIMARY KEY (material_id, stage),
    CONSTRAINT material_stages_stage_check
        CHECK (stage IN ('ingestion', 'quality', 'taxonomy', 'graph', 'embedding')),
    CONSTRAINT material_stages_status_check
        CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    CONSTRAINT material_stages_progress_check CHECK (progress >= 0 AND progress <= 1)
) STRICT;

CREATE TABLE material_chunks (
    id             TEXT    NOT NULL PRIMARY KEY,
    material_id    TEXT    NOT NULL REFERENCES materials (id) ON DELETE CASCADE,
    ordinal        INTEGER NOT NULL,
    section        TEXT    NULL,
    text           TEXT    NOT NULL,
    tokens         INTEGER NOT NULL,
    overlap_tokens INTEGER NOT NULL,
    -- Set by the quality stage: dropped chunks stay for the report, never for retrieval.
    kept           INTEGER NOT NULL DEFAULT 1,
    quality_score  REAL    NULL,
    language       TEXT    NULL,
    -- The embedding stage's vector (a JSON array of numbers) when an endpoint is set, else
    -- JSON null.
    vector         TEXT    NOT NULL DEFAULT 'null',
    CONSTRAINT material_chunks_ordinal_key UNIQUE (material_id, ordinal),
    CONSTRAINT material_chunks_kept_check CHECK (kept IN (0, 1))
) STRICT;

CREATE TABLE material_concepts (
    material_id TEXT    NOT NULL REFERENCES materials (id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    -- Position in the taxonomy (0 = most relevant).
    rank        INTEGER NOT NULL,
    label       TEXT    NOT NULL,
    score       REAL    NOT NULL,
    occurrences INTEGER NOT NULL,
    chunks      INTEGER NOT NULL,
    PRIMARY KEY (material_id, key)
) STRICT;

CREATE TABLE material_graph_nodes (
    material_id TEXT    NOT NULL REFERENCES materials (id) ON DELETE CASCADE,
    node_id     TEXT    NOT NULL,
    rank        INTEGER NOT NULL,
    label       TEXT    NOT NULL,
    weight      REAL    NOT NULL,
    PRIMARY KEY (material_id, node_id)
) STRICT;

CREATE TABLE material_graph_edges (
    material_id TEXT    NOT NULL REFERENCES materials (id) ON DELETE CASCADE,
    source      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    rank        INTEGER NOT NULL,
    weight      REAL    NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (material_id, source, target)
) STRICT;

-- The chunks that grounded an interaction: JSON [{material_id, chunk_id, score}].
ALTER TABLE interactions ADD COLUMN sources TEXT NOT NULL DEFAULT '[]';
