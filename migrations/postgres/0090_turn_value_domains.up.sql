-- The fixed vocabularies of the turn's tables as domains instead of CHECK constraints
-- (decision 139). PostgreSQL reads a table's CHECK constraints from their stored text and
-- plans them again in every statement that writes a row; a domain's constraint is read once
-- per connection. A turn writes four tables, so this was a tenth of its database time. The
-- values allowed are the same. Each ALTER TABLE rewrites its table once.
CREATE DOMAIN agent_kind AS TEXT
    CONSTRAINT agent_kind_check CHECK (VALUE IN ('tutor', 'evaluator', 'simulator', 'governance'));
CREATE DOMAIN interaction_intent AS TEXT
    CONSTRAINT interaction_intent_check CHECK (VALUE IN (
        'conceptual_question', 'code_review', 'debugging', 'solution_request', 'clarification',
        'off_topic'
    ));
CREATE DOMAIN help_level AS TEXT
    CONSTRAINT help_level_check CHECK (VALUE IN ('minimal', 'low', 'medium', 'high'));
CREATE DOMAIN trace_level AS TEXT
    CONSTRAINT trace_level_check CHECK (VALUE IN ('n1', 'n2', 'n3', 'n4'));
CREATE DOMAIN trace_kind AS TEXT
    CONSTRAINT trace_kind_check CHECK (VALUE IN (
        'student_prompt', 'ai_response', 'code_submission', 'error_report', 'tutor_intervention',
        'strategy_change', 'self_correction'
    ));
CREATE DOMAIN cognitive_state AS TEXT
    CONSTRAINT cognitive_state_check CHECK (VALUE IN (
        'exploring', 'planning', 'implementing', 'debugging', 'validating', 'reflecting',
        'confused', 'stuck', 'progressing'
    ));
CREATE DOMAIN risk_dimension AS TEXT
    CONSTRAINT risk_dimension_check CHECK (VALUE IN (
        'cognitive', 'ethical', 'epistemic', 'technical', 'governance'
    ));
CREATE DOMAIN risk_level AS TEXT
    CONSTRAINT risk_level_check CHECK (VALUE IN ('info', 'low', 'medium', 'high', 'critical'));
CREATE DOMAIN session_mode AS TEXT
    CONSTRAINT session_mode_check CHECK (VALUE IN ('tutor', 'practice', 'evaluator', 'simulator'));
CREATE DOMAIN simulator_type AS TEXT
    CONSTRAINT simulator_type_check CHECK (VALUE IN (
        'product_owner', 'scrum_master', 'tech_interviewer', 'incident_responder', 'client',
        'devsecops'
    ));
CREATE DOMAIN session_status AS TEXT
    CONSTRAINT session_status_check CHECK (VALUE IN ('active', 'paused', 'completed', 'aborted'));

ALTER TABLE study_sessions
    DROP CONSTRAINT study_sessions_mode_check,
    DROP CONSTRAINT study_sessions_simulator_type_check,
    DROP CONSTRAINT study_sessions_status_check,
    ALTER COLUMN mode TYPE session_mode,
    ALTER COLUMN simulator_type TYPE simulator_type,
    ALTER COLUMN status TYPE session_status;

ALTER TABLE interactions
    DROP CONSTRAINT interactions_agent_check,
    DROP CONSTRAINT interactions_intent_check,
    DROP CONSTRAINT interactions_help_level_check,
    ALTER COLUMN agent TYPE agent_kind,
    ALTER COLUMN intent TYPE interaction_intent,
    ALTER COLUMN help_level TYPE help_level;

ALTER TABLE cognitive_traces
    DROP CONSTRAINT cognitive_traces_level_check,
    DROP CONSTRAINT cognitive_traces_kind_check,
    DROP CONSTRAINT cognitive_traces_state_check,
    DROP CONSTRAINT cognitive_traces_agent_check,
    ALTER COLUMN level TYPE trace_level,
    ALTER COLUMN kind TYPE trace_kind,
    ALTER COLUMN cognitive_state TYPE cognitive_state,
    ALTER COLUMN agent TYPE agent_kind;

ALTER TABLE risks
    DROP CONSTRAINT risks_dimension_check,
    DROP CONSTRAINT risks_level_check,
    ALTER COLUMN dimension TYPE risk_dimension,
    ALTER COLUMN level TYPE risk_level;
