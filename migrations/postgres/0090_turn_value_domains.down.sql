-- Reverts 0090_turn_value_domains.up.sql: the columns back to TEXT with their CHECKs.
ALTER TABLE risks
    ALTER COLUMN dimension TYPE TEXT,
    ALTER COLUMN level TYPE TEXT,
    ADD CONSTRAINT risks_dimension_check CHECK (dimension IN (
        'cognitive', 'ethical', 'epistemic', 'technical', 'governance'
    )),
    ADD CONSTRAINT risks_level_check CHECK (level IN ('info', 'low', 'medium', 'high', 'critical'));

ALTER TABLE cognitive_traces
    ALTER COLUMN level TYPE TEXT,
    ALTER COLUMN kind TYPE TEXT,
    ALTER COLUMN cognitive_state TYPE TEXT,
    ALTER COLUMN agent TYPE TEXT,
    ADD CONSTRAINT cognitive_traces_level_check CHECK (level IN ('n1', 'n2', 'n3', 'n4')),
    ADD CONSTRAINT cognitive_traces_kind_check CHECK (kind IN (
        'student_prompt', 'ai_response', 'code_submission', 'error_report', 'tutor_intervention',
        'strategy_change', 'self_correction'
    )),
    ADD CONSTRAINT cognitive_traces_state_check CHECK (cognitive_state IN (
        'exploring', 'planning', 'implementing', 'debugging', 'validating', 'reflecting',
        'confused', 'stuck', 'progressing'
    )),
    ADD CONSTRAINT cognitive_traces_agent_check
        CHECK (agent IN ('tutor', 'evaluator', 'simulator', 'governance'));

ALTER TABLE interactions
    ALTER COLUMN agent TYPE TEXT,
    ALTER COLUMN intent TYPE TEXT,
    ALTER COLUMN help_level TYPE TEXT,
    ADD CONSTRAINT interactions_agent_check
        CHECK (agent IN ('tutor', 'evaluator', 'simulator', 'governance')),
    ADD CONSTRAINT interactions_intent_check CHECK (intent IN (
        'conceptual_question', 'code_review', 'debugging', 'solution_request', 'clarification',
        'off_topic'
    )),
    ADD CONSTRAINT interactions_help_level_check
        CHECK (help_level IN ('minimal', 'low', 'medium', 'high'));

ALTER TABLE study_sessions
    ALTER COLUMN mode TYPE TEXT,
    ALTER COLUMN simulator_type TYPE TEXT,
    ALTER COLUMN status TYPE TEXT,
    ADD CONSTRAINT study_sessions_mode_check
        CHECK (mode IN ('tutor', 'practice', 'evaluator', 'simulator')),
    ADD CONSTRAINT study_sessions_simulator_type_check CHECK (simulator_type IN (
        'product_owner', 'scrum_master', 'tech_interviewer', 'incident_responder', 'client',
        'devsecops'
    )),
    ADD CONSTRAINT study_sessions_status_check
        CHECK (status IN ('active', 'paused', 'completed', 'aborted'));

DROP DOMAIN session_status;
DROP DOMAIN simulator_type;
DROP DOMAIN session_mode;
DROP DOMAIN risk_level;
DROP DOMAIN risk_dimension;
DROP DOMAIN cognitive_state;
DROP DOMAIN trace_kind;
DROP DOMAIN trace_level;
DROP DOMAIN help_level;
DROP DOMAIN interaction_intent;
DROP DOMAIN agent_kind;
