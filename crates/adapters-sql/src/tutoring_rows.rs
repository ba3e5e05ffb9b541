//! The tutoring tables' columns and how a row of each becomes a domain value.

use ainative_domain::{
    Activity, ActivityDraft, CognitiveTrace, Evaluation, Interaction, Risk, StudySession,
};
use ainative_ports::PortResult;

use crate::columns::Columns;
use crate::dialect::Dialect;

/// The columns of `activities`, in the order [`activity`] reads them.
macro_rules! activity_columns {
    () => {
        "id, title, description, instructions, subject, difficulty, tags, evaluation_criteria, \
         policies, owner_id, status, published_at, created_at, updated_at"
    };
}
pub(crate) use activity_columns;

/// An activity from the columns of [`activity_columns`].
pub(crate) fn activity<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<Activity> {
    Ok(Activity {
        id: c.id()?,
        content: ActivityDraft {
            title: c.get()?,
            description: c.get()?,
            instructions: c.get()?,
            subject: c.get()?,
            difficulty: c.parsed("difficulty")?,
            tags: c.texts()?,
            evaluation_criteria: c.texts()?,
            policies: c.json()?,
        },
        owner_id: c.uuid()?,
        status: c.parsed("status")?,
        published_at: c.get()?,
        created_at: c.get()?,
        updated_at: c.get()?,
    })
}

/// The columns of `study_sessions`, in the order [`study_session`] reads them.
macro_rules! study_session_columns {
    () => {
        "id, student_id, activity_id, mode, simulator_type, status, interaction_count, \
         started_at, ended_at, llm_credential_id"
    };
}
pub(crate) use study_session_columns;

/// A study session from the columns of [`study_session_columns`].
pub(crate) fn study_session<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<StudySession> {
    Ok(StudySession {
        id: c.id()?,
        student_id: c.uuid()?,
        activity_id: c.uuid()?,
        mode: c.parsed("mode")?,
        simulator_type: {
            let name: Option<String> = c.get()?;
            name.map(|name| name.parse().map_err(|e| c.corrupt("simulator type", e)))
                .transpose()?
        },
        status: c.parsed("status")?,
        interaction_count: c.small("interaction count")?,
        started_at: c.get()?,
        ended_at: c.get()?,
        llm_credential_id: c.opt_uuid()?,
    })
}

/// The columns of `evaluations`, in the order [`evaluation`] reads them.
macro_rules! evaluation_columns {
    () => {
        "id, session_id, student_id, overall_score, competency_level, dimensions, \
         ai_dependency_score, key_strengths, improvement_areas, created_at"
    };
}
pub(crate) use evaluation_columns;

/// An evaluation from the columns of [`evaluation_columns`].
pub(crate) fn evaluation<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<Evaluation> {
    Ok(Evaluation {
        id: c.id()?,
        session_id: c.uuid()?,
        student_id: c.uuid()?,
        overall_score: c.get()?,
        competency_level: c.parsed("competency level")?,
        dimensions: c.json()?,
        ai_dependency_score: c.get()?,
        key_strengths: c.json()?,
        improvement_areas: c.json()?,
        created_at: c.get()?,
    })
}

/// The columns of `interactions`, in the order [`interaction`] reads them.
macro_rules! interaction_columns {
    () => {
        "id, session_id, seq, prompt, response, agent, intent, help_level, blocked, cache_hit, \
         provider, model, tokens_in, tokens_out, latency_ms, sources, created_at"
    };
}
pub(crate) use interaction_columns;

/// An interaction from the columns of [`interaction_columns`].
pub(crate) fn interaction<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<Interaction> {
    Ok(Interaction {
        id: c.id()?,
        session_id: c.uuid()?,
        seq: c.small("seq")?,
        prompt: c.get()?,
        response: c.get()?,
        agent: c.parsed("agent")?,
        intent: c.parsed("intent")?,
        help_level: c.parsed("help level")?,
        blocked: c.get()?,
        cache_hit: c.get()?,
        provider: c.get()?,
        model: c.get()?,
        tokens_in: c.small("tokens_in")?,
        tokens_out: c.small("tokens_out")?,
        latency_ms: {
            let latency: i64 = c.get()?;
            u64::try_from(latency).map_err(|e| c.corrupt("latency", e))?
        },
        sources: c.json()?,
        created_at: c.get()?,
    })
}

/// The columns of `cognitive_traces`, in the order [`trace`] reads them.
macro_rules! trace_columns {
    () => {
        "id, session_id, interaction_id, level, kind, cognitive_state, ai_involvement, agent, \
         summary, data, created_at"
    };
}
pub(crate) use trace_columns;

/// A trace from the columns of [`trace_columns`].
pub(crate) fn trace<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<CognitiveTrace> {
    Ok(CognitiveTrace {
        id: c.id()?,
        session_id: c.uuid()?,
        interaction_id: c.uuid()?,
        level: c.parsed("level")?,
        kind: c.parsed("kind")?,
        cognitive_state: c.parsed("cognitive state")?,
        ai_involvement: c.get()?,
        agent: c.parsed("agent")?,
        summary: c.get()?,
        data: c.json()?,
        created_at: c.get()?,
    })
}

/// The columns of `risks`, in the order [`risk`] reads them.
macro_rules! risk_columns {
    () => {
        "id, session_id, student_id, interaction_id, dimension, kind, level, description, \
         evidence_key, evidence, resolved_at, resolved_by, resolution_note, created_at"
    };
}
pub(crate) use risk_columns;

/// A risk from the columns of [`risk_columns`].
pub(crate) fn risk<D: Dialect>(c: &mut Columns<'_, D>) -> PortResult<Risk> {
    Ok(Risk {
        id: c.id()?,
        session_id: c.uuid()?,
        student_id: c.uuid()?,
        interaction_id: c.opt_uuid()?,
        dimension: c.parsed("dimension")?,
        kind: c.parsed("kind")?,
        level: c.parsed("level")?,
        description: c.get()?,
        evidence_key: c.get()?,
        evidence: c.json()?,
        resolved_at: c.get()?,
        resolved_by: c.opt_uuid()?,
        resolution_note: c.get()?,
        created_at: c.get()?,
    })
}
