-- Course material (SPEC §10.5): uploads, the status of their five stages, and what each
-- stage produced (chunks with their quality, concepts, the concept graph, vectors).
-- Deleting a material deletes everything below it; deleting an activity is refused while it
-- has material (as while it has sessions).

CREATE TABLE materials (
    id             UUID             PRIMARY KEY,
    activity_id    UUID             NOT NULL REFERENCES activities (id) ON DELETE RESTRICT,
    title          TEXT             NOT NULL,
    content_type   TEXT             NOT NULL,
    size_bytes     BIGINT           NOT NULL,
    content        BYTEA            NOT NULL,
    created_by     UUID             NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    -- The overall status of the stages, kept with every stage change.
    status         TEXT             NOT NULL DEFAULT 'pending',
    language       TEXT             NULL,
    quality_score  DOUBLE PRECISION NULL,
    -- The whole quality report (per-chunk verdicts, language shares), for the later stages;
    -- JSON null before the quality stage.
    quality        JSONB            NOT NULL DEFAULT 'null'::JSONB,
    tags           TEXT[]           NOT NULL DEFAULT ARRAY[]::TEXT[],
    -- The embedding stage's kind (lexical, vector), analyser or model, vector length.
    embedding_kind TEXT             NULL,
    embedding_model TEXT            NULL,
    created_at     TIMESTAMPTZ      NOT NULL,
    updated_at     TIMESTAMPTZ      NOT NULL,
    CONSTRAINT materials_content_type_check
        CHECK (content_type IN ('text/markdown', 'text/plain', 'application/pdf')),
    CONSTRAINT materials_status_check
        CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    CONSTRAINT materials_size_check CHECK (size_bytes >= 0)
);

-- The list of an activity, newest first; the corpus version of an activity.
CREATE INDEX materials_activity_idx ON materials (activity_id, created_at DESC, id DESC);
CREATE INDEX materials_completed_idx ON materials (activity_id, updated_at)
    WHERE status = 'completed';

CREATE TABLE material_stages (
    material_id UUID             NOT NULL REFERENCES materials (id) ON DELETE CASCADE,
    stage       TEXT             NOT NULL,
    -- 0 for ingestion … 4 for embedding.
    ordinal     BIGINT           NOT NULL,
    status      TEXT             NOT NULL DEFAULT 'pending',
    progress    DOUBLE PRECISION NOT NULL DEFAULT 0,
    started_at  TIMESTAMPTZ      NULL,
    finished_at TIMESTAMPTZ      NULL,
    error       TEXT             NULL,
    PRIMARY KEY (material_id, stage),
    CONSTRAINT material_stages_stage_check
        CHECK (stage IN ('ingestion', 'quality', 'taxonomy', 'graph', 'embedding')),
    CONSTRAINT material_stages_status_check
        CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    CONSTRAINT material_stages_progress_check CHECK (progress >= 0 AND progress <= 1)
);

CREATE TABLE material_chunks (
    id             UUID             PRIMARY KEY,
    material_id    UUID             NOT NULL REFERENCES materials (id) ON DELETE CASCADE,
    ordinal        BIGINT           NOT NULL,
    section        TEXT             NULL,
    text           TEXT             NOT NULL,
    tokens         BIGINT           NOT NULL,
    overlap_tokens BIGINT           NOT NULL,
    -- Set by the quality stage: dropped chunks stay for the report, never for retrieval.
    kept           BOOLEAN          NOT NULL DEFAULT TRUE,
    quality_score  DOUBLE PRECISION NULL,
    language       TEXT             NULL,
    -- The embedding stage's vector (a JSON array of numbers) when an endpoint is set, else
    -- JSON null.
    vector         JSONB            NOT NULL DEFAULT 'null'::JSONB,
    CONSTRAINT material_chunks_ordinal_key UNIQUE (material_id, ordinal)
);

CREATE TABLE material_concepts (
    material_id UUID             NOT NULL REFERENCES materials (id) ON DELETE CASCADE,
    key         TEXT             NOT NULL,
    -- Position in the taxonomy (0 = most relevant).
    rank        BIGINT           NOT NULL,
    label       TEXT             NOT NULL,
    score       DOUBLE PRECISION NOT NULL,
    occurrences BIGINT           NOT NULL,
    chunks      BIGINT           NOT NULL,
    PRIMARY KEY (material_id, key)
);

CREATE TABLE material_graph_nodes (
    material_id UUID             NOT NULL REFERENCES materials (id) ON DELETE CASCADE,
    node_id     TEXT             NOT NULL,
    rank        BIGINT           NOT NULL,
    label       TEXT             NOT NULL,
    weight      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (material_id, node_id)
);

CREATE TABLE material_graph_edges (
    material_id UUID             NOT NULL REFERENCES materials (id) ON DELETE CASCADE,
    source      TEXT             NOT NULL,
    target      TEXT             NOT NULL,
    rank        BIGINT           NOT NULL,
    weight      DOUBLE PRECISION NOT NULL,
    count       BIGINT           NOT NULL,
    PRIMARY KEY (material_id, source, target)
);

-- The chunks that grounded an interaction: [{material_id, chunk_id, score}].
ALTER TABLE interactions ADD COLUMN sources JSONB NOT NULL DEFAULT '[]'::JSONB;
