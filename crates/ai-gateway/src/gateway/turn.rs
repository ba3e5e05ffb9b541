//! One interaction between its preparation (steps 1–4) and its storage (steps 5–7).

use std::sync::Arc;
use std::time::Instant;

use ainative_domain::{
    turn_row_id, Activity, ActivityPolicies, ChunkSource, Interaction, InteractionInput,
    RequestContext, StudySession, TraceLevel, ValidationErrors,
};
use ainative_ports::{
    error_chain, Conflict, InteractionRecord, LlmRequest, LlmResponse, Past, PortError,
    RetrievedPassage, RuleState,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{GatewayError, Shared, HISTORY_LIMIT};
use crate::llm::{AnswerSource, LanguageModel};
use crate::pipeline::risk::{RunningState, TurnFacts, RISK_TRACES};
use crate::pipeline::{Assessment, Governed, MessageContext, RiskContext, TurnRecord, Verdict};

/// Provider recorded on blocked turns.
pub const GOVERNANCE_PROVIDER: &str = "governance";
/// Model recorded on blocked turns.
pub const GOVERNANCE_MODEL: &str = "rules";

/// The answer of a turn, from the language model or from governance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    content: String,
    provider: String,
    model: String,
    tokens_in: u32,
    tokens_out: u32,
    cache_hit: bool,
}

impl Answer {
    /// The governance agent's answer to a blocked turn.
    pub(crate) fn governance(content: String) -> Self {
        Self {
            content,
            provider: GOVERNANCE_PROVIDER.to_owned(),
            model: GOVERNANCE_MODEL.to_owned(),
            tokens_in: 0,
            tokens_out: 0,
            cache_hit: false,
        }
    }

    /// A language model's answer. One that cost no provider call of its own (from the cache
    /// or an identical call in flight) is a `cache_hit` and records no tokens, so summing the
    /// interactions' tokens gives the provider's usage.
    pub(crate) fn from_response(
        response: LlmResponse,
        source: AnswerSource,
        llm: &dyn LanguageModel,
    ) -> Self {
        let shared = source.is_shared();
        let model = if response.model.is_empty() {
            llm.model().to_owned()
        } else {
            response.model
        };
        Self {
            content: response.content,
            provider: llm.provider().to_owned(),
            model,
            tokens_in: if shared { 0 } else { response.tokens_in },
            tokens_out: if shared { 0 } else { response.tokens_out },
            cache_hit: shared,
        }
    }
}

/// The passages of the activity's material for `prompt`; none without a retriever, and none
/// (logged) when retrieval fails: a turn is answered without grounding rather than failed.
async fn retrieve(
    shared: &Shared,
    ctx: &RequestContext,
    activity: &Activity,
    prompt: &str,
) -> Vec<RetrievedPassage> {
    let Some(retriever) = &shared.retriever else {
        return Vec::new();
    };
    match retriever
        .retrieve(activity.id, prompt, shared.retrieval_budget)
        .await
    {
        Ok(passages) => passages,
        Err(error) => {
            tracing::warn!(
                request_id = %ctx.request_id,
                activity_id = %activity.id,
                error = %error_chain(&error),
                "course material retrieval failed; answering without grounding"
            );
            Vec::new()
        }
    }
}

/// What a turn starts from: the session, its activity and, when the caller read it with
/// them, the session's past (read here otherwise).
pub(crate) struct TurnStart<'a> {
    pub(crate) session: &'a StudySession,
    pub(crate) activity: &'a Activity,
    pub(crate) past: Option<Past>,
}

/// A turn after steps 1–4: everything owned, so it can outlive the request's borrows (the
/// streaming response).
pub(crate) struct PreparedTurn {
    shared: Arc<Shared>,
    ctx: RequestContext,
    session: StudySession,
    policies: ActivityPolicies,
    governed: Governed,
    assessment: Assessment,
    history: Vec<Interaction>,
    state: RunningState,
    /// Interactions folded into `state`.
    turns: u32,
    received_at: DateTime<Utc>,
    started: Instant,
    plan: Plan,
    /// The model that answers: the factory's, or the activity's own credential's.
    llm: Arc<dyn LanguageModel>,
    /// The credential's concurrency slot, held until the turn is stored or dropped.
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
    sources: Vec<ChunkSource>,
}

/// Who answers a prepared turn.
pub(crate) enum Plan {
    /// Governance blocked it: this text, no language model.
    Blocked(String),
    /// The language model, with this request.
    Ask(LlmRequest),
}

impl PreparedTurn {
    /// Checks the session and runs ingestion, governance, the cognitive engine and the
    /// message builder; reads the session's history, traces and risks.
    ///
    /// The check of the session's status and limit here is the interaction path's only early
    /// one: it spares a provider call for a turn that cannot be stored. The store repeats it
    /// atomically when recording, which settles races between concurrent turns.
    pub(crate) async fn prepare(
        shared: &Arc<Shared>,
        ctx: &RequestContext,
        turn: TurnStart<'_>,
        input: InteractionInput,
    ) -> Result<Self, GatewayError> {
        let TurnStart {
            session,
            activity,
            past,
        } = turn;
        if session.activity_id != activity.id {
            return Err(ValidationErrors::single(
                "activity_id",
                "is not the activity of the session",
            )
            .into());
        }
        let policies = &activity.content.policies;
        session.accepts_turn(policies.max_interactions)?;
        let started = Instant::now();
        let received_at = shared.clock.now();
        let p = &shared.pipeline;
        let ingested = p.ingestion.ingest(input, activity)?;
        let governed = p.governance.review(ingested, policies);
        let (history, state, turns) = match past {
            Some(past) => use_past(shared, session.id, Some(past), policies).await?,
            None => read_past(shared, session.id, policies).await?,
        };
        let assessment = p.cognitive.assess(&governed, &history, session, policies);
        let mut grounding = Vec::new();
        let plan = match &governed.verdict {
            Verdict::Block { response, .. } => Plan::Blocked(response.clone()),
            Verdict::Allow => {
                grounding = retrieve(shared, ctx, activity, &governed.input.prompt).await;
                Plan::Ask(p.messages.build(&MessageContext {
                    session,
                    activity,
                    turn: &governed,
                    assessment: &assessment,
                    history: &history,
                    grounding: &grounding,
                }))
            }
        };
        tracing::debug!(
            request_id = %ctx.request_id,
            user_id = %ctx.user_id,
            trace_id = ctx.trace.as_ref().map_or("-", |t| t.trace_id()),
            session_id = %session.id,
            intent = %governed.intent,
            state = %assessment.state,
            help_level = %assessment.help_level,
            blocked = governed.verdict.is_blocked(),
            "interaction prepared"
        );
        Ok(Self {
            shared: Arc::clone(shared),
            ctx: ctx.clone(),
            session: session.clone(),
            policies: policies.clone(),
            governed,
            assessment,
            history,
            state,
            turns,
            received_at,
            started,
            plan,
            llm: Arc::clone(&shared.llm),
            _permit: None,
            sources: grounding.into_iter().map(|p| p.source).collect(),
        })
    }

    /// Sends the turn to the activity's own credential (`None`: the factory's model).
    pub(crate) fn route_to(&mut self, routed: Option<crate::credentials::Routed>) {
        if let Some(routed) = routed {
            self.llm = routed.llm;
            self._permit = Some(routed.permit);
        }
    }

    /// The language model that answers this turn.
    pub(crate) fn shared_llm(&self) -> &Arc<dyn LanguageModel> {
        &self.llm
    }

    /// What answers this turn.
    pub(crate) fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Steps 5–7: builds the interaction, its traces and risks, and stores them in one call.
    ///
    /// When another turn of the session was stored since the past was read (the store's
    /// `StaleTurnState`), the past is read again and steps 5–6 rebuilt on it, a few times.
    pub(crate) async fn finish(
        mut self,
        answer: Answer,
    ) -> Result<InteractionRecord, GatewayError> {
        let responded_at = self.shared.clock.now().max(self.received_at);
        let latency_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let interaction = Interaction {
            id: turn_row_id(),
            session_id: self.session.id,
            seq: 0,
            prompt: self.governed.input.prompt.clone(),
            response: answer.content,
            agent: self.assessment.agent,
            intent: self.governed.intent,
            help_level: self.assessment.help_level,
            blocked: self.governed.verdict.is_blocked(),
            cache_hit: answer.cache_hit,
            provider: answer.provider,
            model: answer.model,
            tokens_in: answer.tokens_in,
            tokens_out: answer.tokens_out,
            latency_ms,
            sources: self.sources.clone(),
            created_at: responded_at,
        };
        let mut attempt = 1;
        let stored = loop {
            let record = self.build(interaction.clone());
            match self
                .shared
                .interactions
                .record(record, self.policies.max_interactions)
                .await
            {
                Err(PortError::Conflict(Conflict::StaleTurnState)) if attempt < STALE_RETRIES => {
                    attempt += 1;
                    (self.history, self.state, self.turns) =
                        read_past(&self.shared, self.session.id, &self.policies).await?;
                }
                result => break result.map_err(GatewayError::from_record)?,
            }
        };
        self.shared.metrics.observe(&stored);
        tracing::debug!(
            request_id = %self.ctx.request_id,
            session_id = %self.session.id,
            seq = stored.interaction.seq,
            traces = stored.traces.len(),
            risks = stored.risks.len(),
            "interaction stored"
        );
        Ok(stored)
    }

    /// Steps 5 and 6 on the past as read: the record to store, with the next rule state.
    fn build(&self, interaction: Interaction) -> InteractionRecord {
        let p = &self.shared.pipeline;
        let traces = p.traces.traces(&TurnRecord {
            session: &self.session,
            interaction: &interaction,
            input: &self.governed.input,
            assessment: &self.assessment,
            verdict: &self.governed.verdict,
            redactions: self.governed.redactions,
            previous: self.history.last(),
            received_at: self.received_at,
        });
        let involvement = traces
            .iter()
            .find(|t| t.level == TraceLevel::N4)
            .map(|t| t.ai_involvement);
        let facts = TurnFacts::of(&interaction, involvement, self.received_at);
        let next = self
            .state
            .advance(&facts, self.policies.ai_dependency_threshold());
        let risks = p.risks.analyze(&RiskContext {
            session: &self.session,
            policies: &self.policies,
            interaction: &interaction,
            input: &self.governed.input,
            verdict: &self.governed.verdict,
            assessment: &self.assessment,
            traces: &traces,
            state: &self.state,
            next: &next,
            history: &self.history,
            received_at: self.received_at,
        });
        // A state that cannot be serialised is not stored; the next turn rebuilds it.
        let rule_state = serde_json::to_value(&next).ok().map(|data| RuleState {
            turns: self.turns + 1,
            data,
        });
        InteractionRecord {
            interaction,
            traces,
            risks,
            rule_state,
        }
    }
}

/// Times a turn is built and offered to the store when concurrent turns keep moving the
/// session past the state it read.
const STALE_RETRIES: u32 = 4;

/// The session's recent interactions and its rule state with the number of interactions it
/// folds: one row, or, for a session without a current state, a replay of its traces.
async fn read_past(
    shared: &Shared,
    session_id: Uuid,
    policies: &ActivityPolicies,
) -> Result<(Vec<Interaction>, RunningState, u32), GatewayError> {
    let past = shared.interactions.past(session_id, HISTORY_LIMIT).await?;
    use_past(shared, session_id, past, policies).await
}

/// [`read_past`] on a past already read.
async fn use_past(
    shared: &Shared,
    session_id: Uuid,
    past: Option<Past>,
    policies: &ActivityPolicies,
) -> Result<(Vec<Interaction>, RunningState, u32), GatewayError> {
    // An unknown session has no past; storing the turn will say it does not exist.
    let Past {
        recent: history,
        rule_state: stored,
    } = past.unwrap_or(Past {
        recent: Vec::new(),
        rule_state: RuleState {
            turns: 0,
            data: serde_json::json!({}),
        },
    });
    if !stored.data.is_null() {
        if let Ok(state) = serde_json::from_value::<RunningState>(stored.data) {
            return Ok((history, state, stored.turns));
        }
    }
    let traces = shared
        .interactions
        .selected_traces(session_id, &RISK_TRACES)
        .await?;
    let state = RunningState::replay(&traces, &history, policies.ai_dependency_threshold());
    let turns = stored.turns;
    Ok((history, state, turns))
}
