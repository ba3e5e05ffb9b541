-- Tutoring: activities, study sessions, interactions, cognitive traces, risks and evaluations.
-- Enumerations are stored by their wire names (`as_str`) and checked here, except the risk
-- kind, an open list.

CREATE TABLE activities (
    id                  UUID        PRIMARY KEY,
    title               TEXT        NOT NULL,
    description         TEXT        NOT NULL DEFAULT '',
    instructions        TEXT        NOT NULL DEFAULT '',
    subject             TEXT        NOT NULL DEFAULT '',
    difficulty          TEXT        NOT NULL DEFAULT 'beginner',
    -- Lower-case tags, at most 20.
    tags                TEXT[]      NOT NULL DEFAULT ARRAY[]::TEXT[],
    evaluation_criteria TEXT[]      NOT NULL DEFAULT ARRAY[]::TEXT[],
    -- The serialised ActivityPolicies.
    policies            JSONB       NOT NULL DEFAULT '{}'::JSONB,
    owner_id            UUID        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    status              TEXT        NOT NULL DEFAULT 'draft',
    published_at        TIMESTAMPTZ NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT activities_difficulty_check
        CHECK (difficulty IN ('beginner', 'intermediate', 'advanced')),
    CONSTRAINT activities_status_check CHECK (status IN ('draft', 'published', 'archived')),
    CONSTRAINT activities_policies_check CHECK (jsonb_typeof(policies) = 'object')
);

-- The list pages newest first, optionally by status, owner or tag.
CREATE INDEX activities_created_at_idx ON activities (created_at DESC, id DESC);
CREATE INDEX activities_status_idx ON activities (status, created_at DESC, id DESC);
CREATE INDEX activities_owner_id_idx ON activities (owner_id);
CREATE INDEX activities_tags_idx ON activities USING GIN (tags);

CREATE TABLE study_sessions (
    id                UUID        PRIMARY KEY,
    student_id        UUID        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    activity_id       UUID        NOT NULL REFERENCES activities (id) ON DELETE RESTRICT,
    mode              TEXT        NOT NULL DEFAULT 'tutor',
    simulator_type    TEXT        NULL,
    status            TEXT        NOT NULL DEFAULT 'active',
    interaction_count BIGINT      NOT NULL DEFAULT 0,
    started_at        TIMESTAMPTZ NOT NULL,
    ended_at          TIMESTAMPTZ NULL,
    CONSTRAINT study_sessions_mode_check
        CHECK (mode IN ('tutor', 'practice', 'evaluator', 'simulator')),
    CONSTRAINT study_sessions_simulator_type_check CHECK (simulator_type IN (
        'product_owner', 'scrum_master', 'tech_interviewer', 'incident_responder', 'client',
        'devsecops'
    )),
    CONSTRAINT study_sessions_status_check
        CHECK (status IN ('active', 'paused', 'completed', 'aborted')),
    CONSTRAINT study_sessions_interaction_count_check CHECK (interaction_count >= 0)
);

-- One active session per student and activity, race-free: of concurrent inserts only one
-- commits, the others fail on this index (reported as Conflict("active_session")).
CREATE UNIQUE INDEX study_sessions_one_active_key ON study_sessions (student_id, activity_id)
    WHERE status = 'active';
CREATE INDEX study_sessions_started_at_idx ON study_sessions (started_at DESC, id DESC);
CREATE INDEX study_sessions_student_id_idx ON study_sessions (student_id, started_at DESC);
CREATE INDEX study_sessions_activity_id_idx ON study_sessions (activity_id, started_at DESC);
CREATE INDEX study_sessions_status_idx ON study_sessions (status);

CREATE TABLE interactions (
    id         UUID        PRIMARY KEY,
    session_id UUID        NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
    -- 1, 2, … within the session; taken from study_sessions.interaction_count.
    seq        BIGINT      NOT NULL,
    prompt     TEXT        NOT NULL,
    response   TEXT        NOT NULL,
    agent      TEXT        NOT NULL,
    intent     TEXT        NOT NULL,
    help_level TEXT        NOT NULL,
    blocked    BOOLEAN     NOT NULL DEFAULT FALSE,
    cache_hit  BOOLEAN     NOT NULL DEFAULT FALSE,
    provider   TEXT        NOT NULL,
    model      TEXT        NOT NULL,
    tokens_in  BIGINT      NOT NULL DEFAULT 0,
    tokens_out BIGINT      NOT NULL DEFAULT 0,
    latency_ms BIGINT      NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT interactions_session_seq_key UNIQUE (session_id, seq),
    CONSTRAINT interactions_seq_check CHECK (seq >= 1),
    CONSTRAINT interactions_agent_check
        CHECK (agent IN ('tutor', 'evaluator', 'simulator', 'governance')),
    CONSTRAINT interactions_intent_check CHECK (intent IN (
        'conceptual_question', 'code_review', 'debugging', 'solution_request', 'clarification',
        'off_topic'
    )),
    CONSTRAINT interactions_help_level_check
        CHECK (help_level IN ('minimal', 'low', 'medium', 'high')),
    CONSTRAINT interactions_counts_check
        CHECK (tokens_in >= 0 AND tokens_out >= 0 AND latency_ms >= 0)
);

CREATE TABLE cognitive_traces (
    id              UUID             PRIMARY KEY,
    -- Insertion order: the last tie-break of the trace list.
    position        BIGINT           GENERATED ALWAYS AS IDENTITY,
    session_id      UUID             NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
    interaction_id  UUID             NOT NULL REFERENCES interactions (id) ON DELETE CASCADE,
    level           TEXT             NOT NULL,
    kind            TEXT             NOT NULL,
    cognitive_state TEXT             NOT NULL,
    ai_involvement  DOUBLE PRECISION NOT NULL,
    agent           TEXT             NOT NULL,
    summary         TEXT             NOT NULL,
    data            JSONB            NOT NULL DEFAULT '{}'::JSONB,
    created_at      TIMESTAMPTZ      NOT NULL,
    CONSTRAINT cognitive_traces_level_check CHECK (level IN ('n1', 'n2', 'n3', 'n4')),
    CONSTRAINT cognitive_traces_kind_check CHECK (kind IN (
        'student_prompt', 'ai_response', 'code_submission', 'error_report', 'tutor_intervention',
        'strategy_change', 'self_correction'
    )),
    CONSTRAINT cognitive_traces_state_check CHECK (cognitive_state IN (
        'exploring', 'planning', 'implementing', 'debugging', 'validating', 'reflecting',
        'confused', 'stuck', 'progressing'
    )),
    CONSTRAINT cognitive_traces_agent_check
        CHECK (agent IN ('tutor', 'evaluator', 'simulator', 'governance')),
    CONSTRAINT cognitive_traces_ai_involvement_check
        CHECK (ai_involvement >= 0 AND ai_involvement <= 1)
);

CREATE INDEX cognitive_traces_session_idx
    ON cognitive_traces (session_id, created_at, level, position);
CREATE INDEX cognitive_traces_interaction_id_idx ON cognitive_traces (interaction_id);

CREATE TABLE risks (
    id              UUID        PRIMARY KEY,
    session_id      UUID        NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
    student_id      UUID        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    interaction_id  UUID        NULL REFERENCES interactions (id) ON DELETE SET NULL,
    dimension       TEXT        NOT NULL,
    kind            TEXT        NOT NULL,
    level           TEXT        NOT NULL,
    description     TEXT        NOT NULL,
    -- With the session and kind, identifies the risk: the same evidence never raises it twice.
    evidence_key    TEXT        NOT NULL,
    evidence        JSONB       NOT NULL DEFAULT '{}'::JSONB,
    resolved_at     TIMESTAMPTZ NULL,
    -- No foreign key, as in the audit log: the resolution outlives its author.
    resolved_by     UUID        NULL,
    resolution_note TEXT        NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT risks_evidence_key UNIQUE (session_id, kind, evidence_key),
    CONSTRAINT risks_dimension_check CHECK (dimension IN (
        'cognitive', 'ethical', 'epistemic', 'technical', 'governance'
    )),
    CONSTRAINT risks_level_check CHECK (level IN ('info', 'low', 'medium', 'high', 'critical'))
);

CREATE INDEX risks_created_at_idx ON risks (created_at DESC, id DESC);
CREATE INDEX risks_session_created_at_idx ON risks (session_id, created_at, id);
CREATE INDEX risks_student_id_idx ON risks (student_id);
CREATE INDEX risks_interaction_id_idx ON risks (interaction_id);
CREATE INDEX risks_open_idx ON risks (created_at DESC) WHERE resolved_at IS NULL;

CREATE TABLE evaluations (
    id                  UUID             PRIMARY KEY,
    session_id          UUID             NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
    student_id          UUID             NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    overall_score       DOUBLE PRECISION NOT NULL,
    competency_level    TEXT             NOT NULL,
    -- The serialised DimensionScore list.
    dimensions          JSONB            NOT NULL DEFAULT '[]'::JSONB,
    ai_dependency_score DOUBLE PRECISION NOT NULL,
    key_strengths       JSONB            NOT NULL DEFAULT '[]'::JSONB,
    improvement_areas   JSONB            NOT NULL DEFAULT '[]'::JSONB,
    created_at          TIMESTAMPTZ      NOT NULL,
    CONSTRAINT evaluations_session_id_key UNIQUE (session_id),
    CONSTRAINT evaluations_competency_level_check
        CHECK (competency_level IN ('initial', 'developing', 'autonomous', 'expert')),
    CONSTRAINT evaluations_json_check CHECK (
        jsonb_typeof(dimensions) = 'array'
        AND jsonb_typeof(key_strengths) = 'array'
        AND jsonb_typeof(improvement_areas) = 'array'
    )
);

CREATE INDEX evaluations_student_id_idx ON evaluations (student_id);
