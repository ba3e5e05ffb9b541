-- Tutoring: activities, study sessions, interactions, cognitive traces, risks and evaluations.
-- As in 0001: ids are hyphenated UUID text, timestamps RFC 3339 UTC text, booleans 0/1; lists
-- and documents are JSON text. Enumerations are stored by their wire names (`as_str`) and
-- checked here, except the risk kind, an open list.

CREATE TABLE activities (
    id                  TEXT NOT NULL PRIMARY KEY,
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    instructions        TEXT NOT NULL DEFAULT '',
    subject             TEXT NOT NULL DEFAULT '',
    difficulty          TEXT NOT NULL DEFAULT 'beginner',
    -- JSON array of lower-case tags, at most 20.
    tags                TEXT NOT NULL DEFAULT '[]',
    -- JSON array of strings.
    evaluation_criteria TEXT NOT NULL DEFAULT '[]',
    -- The serialised ActivityPolicies (JSON object).
    policies            TEXT NOT NULL DEFAULT '{}',
    owner_id            TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    status              TEXT NOT NULL DEFAULT 'draft',
    published_at        TEXT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CONSTRAINT activities_difficulty_check
        CHECK (difficulty IN ('beginner', 'intermediate', 'advanced')),
    CONSTRAINT activities_status_check CHECK (status IN ('draft', 'published', 'archived')),
    CONSTRAINT activities_json_check CHECK (
        json_valid(tags) AND json_type(tags) = 'array'
        AND json_valid(evaluation_criteria) AND json_type(evaluation_criteria) = 'array'
        AND json_valid(policies) AND json_type(policies) = 'object'
    )
) STRICT;

-- The list pages newest first, optionally by status or owner.
CREATE INDEX activities_created_at_idx ON activities (created_at DESC, id DESC);
CREATE INDEX activities_status_idx ON activities (status, created_at DESC, id DESC);
CREATE INDEX activities_owner_id_idx ON activities (owner_id);

CREATE TABLE study_sessions (
    id                TEXT    NOT NULL PRIMARY KEY,
    student_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    activity_id       TEXT    NOT NULL REFERENCES activities (id) ON DELETE RESTRICT,
    mode              TEXT    NOT NULL DEFAULT 'tutor',
    simulator_type    TEXT    NULL,
    status            TEXT    NOT NULL DEFAULT 'active',
    interaction_count INTEGER NOT NULL DEFAULT 0,
    started_at        TEXT    NOT NULL,
    ended_at          TEXT    NULL,
    CONSTRAINT study_sessions_mode_check
        CHECK (mode IN ('tutor', 'practice', 'evaluator', 'simulator')),
    CONSTRAINT study_sessions_simulator_type_check CHECK (simulator_type IN (
        'product_owner', 'scrum_master', 'tech_interviewer', 'incident_responder', 'client',
        'devsecops'
    )),
    CONSTRAINT study_sessions_status_check
        CHECK (status IN ('active', 'paused', 'completed', 'aborted')),
    CONSTRAINT study_sessions_interaction_count_check CHECK (interaction_count >= 0)
) STRICT;

-- One active session per student and activity, race-free: of concurrent inserts only one
-- commits, the others fail on this index (reported as Conflict("active_session")).
CREATE UNIQUE INDEX study_sessions_one_active_key ON study_sessions (student_id, activity_id)
    WHERE status = 'active';
CREATE INDEX study_sessions_started_at_idx ON study_sessions (started_at DESC, id DESC);
CREATE INDEX study_sessions_student_id_idx ON study_sessions (student_id, started_at DESC);
CREATE INDEX study_sessions_activity_id_idx ON study_sessions (activity_id, started_at DESC);
CREATE INDEX study_sessions_status_idx ON study_sessions (status);

CREATE TABLE interactions (
    id         TEXT    NOT NULL PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
    -- 1, 2, … within the session; taken from study_sessions.interaction_count.
    seq        INTEGER NOT NULL,
    prompt     TEXT    NOT NULL,
    response   TEXT    NOT NULL,
    agent      TEXT    NOT NULL,
    intent     TEXT    NOT NULL,
    help_level TEXT    NOT NULL,
    blocked    INTEGER NOT NULL DEFAULT 0,
    cache_hit  INTEGER NOT NULL DEFAULT 0,
    provider   TEXT    NOT NULL,
    model      TEXT    NOT NULL,
    tokens_in  INTEGER NOT NULL DEFAULT 0,
    tokens_out INTEGER NOT NULL DEFAULT 0,
    latency_ms INTEGER NOT NULL DEFAULT 0,
    created_at TEXT    NOT NULL,
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
    CONSTRAINT interactions_flags_check CHECK (blocked IN (0, 1) AND cache_hit IN (0, 1)),
    CONSTRAINT interactions_counts_check
        CHECK (tokens_in >= 0 AND tokens_out >= 0 AND latency_ms >= 0)
) STRICT;

-- The implicit rowid gives the insertion order: the last tie-break of the trace list.
CREATE TABLE cognitive_traces (
    id              TEXT NOT NULL PRIMARY KEY,
    session_id      TEXT NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
    interaction_id  TEXT NOT NULL REFERENCES interactions (id) ON DELETE CASCADE,
    level           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    cognitive_state TEXT NOT NULL,
    ai_involvement  REAL NOT NULL,
    agent           TEXT NOT NULL,
    summary         TEXT NOT NULL,
    -- JSON document.
    data            TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL,
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
        CHECK (ai_involvement >= 0 AND ai_involvement <= 1),
    CONSTRAINT cognitive_traces_data_check CHECK (json_valid(data))
) STRICT;

CREATE INDEX cognitive_traces_session_idx ON cognitive_traces (session_id, created_at, level);
CREATE INDEX cognitive_traces_interaction_id_idx ON cognitive_traces (interaction_id);

CREATE TABLE risks (
    id              TEXT NOT NULL PRIMARY KEY,
    session_id      TEXT NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
    student_id      TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    interaction_id  TEXT NULL REFERENCES interactions (id) ON DELETE SET NULL,
    dimension       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    level           TEXT NOT NULL,
    description     TEXT NOT NULL,
    -- With the session and kind, identifies the risk: the same evidence never raises it twice.
    evidence_key    TEXT NOT NULL,
    -- JSON document.
    evidence        TEXT NOT NULL DEFAULT '{}',
    resolved_at     TEXT NULL,
    -- No foreign key, as in the audit log: the resolution outlives its author.
    resolved_by     TEXT NULL,
    resolution_note TEXT NULL,
    created_at      TEXT NOT NULL,
    CONSTRAINT risks_evidence_key UNIQUE (session_id, kind, evidence_key),
    CONSTRAINT risks_dimension_check CHECK (dimension IN (
        'cognitive', 'ethical', 'epistemic', 'technical', 'governance'
    )),
    CONSTRAINT risks_level_check CHECK (level IN ('info', 'low', 'medium', 'high', 'critical')),
    CONSTRAINT risks_evidence_check CHECK (json_valid(evidence))
) STRICT;

CREATE INDEX risks_created_at_idx ON risks (created_at DESC, id DESC);
CREATE INDEX risks_session_created_at_idx ON risks (session_id, created_at, id);
CREATE INDEX risks_student_id_idx ON risks (student_id);
CREATE INDEX risks_interaction_id_idx ON risks (interaction_id);
CREATE INDEX risks_open_idx ON risks (created_at DESC) WHERE resolved_at IS NULL;

CREATE TABLE evaluations (
    id                  TEXT NOT NULL PRIMARY KEY,
    session_id          TEXT NOT NULL REFERENCES study_sessions (id) ON DELETE CASCADE,
    student_id          TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    overall_score       REAL NOT NULL,
    competency_level    TEXT NOT NULL,
    -- JSON array of the serialised DimensionScore values.
    dimensions          TEXT NOT NULL DEFAULT '[]',
    ai_dependency_score REAL NOT NULL,
    -- JSON arrays of strings.
    key_strengths       TEXT NOT NULL DEFAULT '[]',
    improvement_areas   TEXT NOT NULL DEFAULT '[]',
    created_at          TEXT NOT NULL,
    CONSTRAINT evaluations_session_id_key UNIQUE (session_id),
    CONSTRAINT evaluations_competency_level_check
        CHECK (competency_level IN ('initial', 'developing', 'autonomous', 'expert')),
    CONSTRAINT evaluations_json_check CHECK (
        json_valid(dimensions) AND json_type(dimensions) = 'array'
        AND json_valid(key_strengths) AND json_type(key_strengths) = 'array'
        AND json_valid(improvement_areas) AND json_type(improvement_areas) = 'array'
    )
) STRICT;

CREATE INDEX evaluations_student_id_idx ON evaluations (student_id);
