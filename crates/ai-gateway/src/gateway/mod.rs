//! The AI gateway (SPEC §6, ARCHITECTURE "The AIGateway is not a singleton").
//!
//! A [`GatewayFactory`] (one per process) owns the long-lived parts: the language model, the
//! repositories, the clock, the pipeline components and the counters.
//! [`GatewayFactory::for_request`] builds an [`AIGateway`] for one request with that request's
//! [`RequestContext`] (the domain's: caller, scopes, request id, trace context); a gateway
//! keeps no mutable state of its own.
//!
//! The pipeline steps are components behind traits (SPEC §6) with one rule-based
//! implementation each; [`GatewayFactory::with_pipeline`] replaces them, which the gateway's
//! orchestration tests do to check what flows between the steps independently of the rules.
//!
//! [`AIGateway::interact`] runs ingestion → governance → cognitive engine → messages → language
//! model (skipped when governance blocks) → traces → risks, and persists the interaction, its
//! traces and its risks with **one** `InteractionRepository::record` call: a failure at any
//! step leaves nothing written. [`AIGateway::interact_stream`] does the same while streaming
//! the answer (see [`InteractionStream`]).

mod assist;
mod error;
mod metrics;
mod stream;
mod turn;

#[cfg(test)]
mod grounding_tests;
#[cfg(test)]
mod seams;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ainative_domain::{Activity, InteractionInput, RequestContext, StudySession};
use ainative_ports::{
    Clock, InteractionRecord, InteractionRepository, MaterialRetriever, Past, RetrievalBudget,
};

use crate::credentials::CredentialRouter;
use crate::llm::LanguageModel;
use crate::pipeline::Pipeline;

pub use error::GatewayError;
pub use metrics::{GatewayMetrics, GatewayMetricsSnapshot, RiskCount, TurnObserver};
pub use stream::{GatewayEvent, InteractionStream};

/// Interactions of the session read as history by the cognitive engine and the risk rules.
pub const HISTORY_LIMIT: u32 = 10;

/// The long-lived parts every gateway of the process shares.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) llm: Arc<dyn LanguageModel>,
    pub(crate) interactions: Arc<dyn InteractionRepository>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pipeline: Pipeline,
    pub(crate) metrics: Arc<GatewayMetrics>,
    pub(crate) observer: Option<Arc<dyn TurnObserver>>,
    /// Routes turns of activities with their own model credential; `None`: every turn
    /// uses `llm`.
    pub(crate) credentials: Option<Arc<CredentialRouter>>,
    /// Course material retrieval for grounded turns; none = no grounding.
    pub(crate) retriever: Option<Arc<dyn MaterialRetriever>>,
    pub(crate) retrieval_budget: RetrievalBudget,
}

/// Builds an [`AIGateway`] per request; one per process.
#[derive(Clone)]
pub struct GatewayFactory {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GatewayFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayFactory")
            .field("provider", &self.shared.llm.provider())
            .field("model", &self.shared.llm.model())
            .finish_non_exhaustive()
    }
}

impl GatewayFactory {
    /// A factory with the default (rule-based) pipeline.
    pub fn new(
        llm: Arc<dyn LanguageModel>,
        interactions: Arc<dyn InteractionRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                llm,
                interactions,
                clock,
                pipeline: Pipeline::default(),
                metrics: Arc::new(GatewayMetrics::default()),
                observer: None,
                credentials: None,
                retriever: None,
                retrieval_budget: RetrievalBudget::default(),
            }),
        }
    }

    /// The same factory routing turns of sessions and activities that name a credential
    /// through `router`.
    pub fn with_credentials(self, router: Arc<CredentialRouter>) -> Self {
        let mut shared = (*self.shared).clone();
        shared.credentials = Some(router);
        Self {
            shared: Arc::new(shared),
        }
    }

    /// The same factory with other pipeline components (counters are kept); tests use it to
    /// replace steps.
    pub fn with_pipeline(self, pipeline: Pipeline) -> Self {
        let mut shared = (*self.shared).clone();
        shared.pipeline = pipeline;
        Self {
            shared: Arc::new(shared),
        }
    }

    /// The same factory reporting each turn's overhead to `observer`.
    pub fn with_observer(self, observer: Arc<dyn TurnObserver>) -> Self {
        let mut shared = (*self.shared).clone();
        shared.observer = Some(observer);
        Self {
            shared: Arc::new(shared),
        }
    }

    /// The same factory grounding tutoring turns in the activity's course material: each
    /// answered turn retrieves passages within `budget` from `retriever`.
    pub fn with_retriever(
        self,
        retriever: Arc<dyn MaterialRetriever>,
        budget: RetrievalBudget,
    ) -> Self {
        let mut shared = (*self.shared).clone();
        shared.retriever = Some(retriever);
        shared.retrieval_budget = budget;
        Self {
            shared: Arc::new(shared),
        }
    }

    /// A gateway for one request.
    pub fn for_request(&self, ctx: RequestContext) -> AIGateway {
        AIGateway {
            shared: Arc::clone(&self.shared),
            ctx,
        }
    }

    /// The counters of every gateway built by this factory.
    pub fn metrics(&self) -> GatewayMetricsSnapshot {
        self.shared.metrics.snapshot()
    }

    /// The language model's provider name.
    pub fn provider(&self) -> &str {
        self.shared.llm.provider()
    }
}

/// The gateway of one request.
pub struct AIGateway {
    shared: Arc<Shared>,
    ctx: RequestContext,
}

impl std::fmt::Debug for AIGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AIGateway")
            .field("ctx", &self.ctx)
            .finish_non_exhaustive()
    }
}

impl AIGateway {
    /// The request this gateway serves.
    pub fn context(&self) -> &RequestContext {
        &self.ctx
    }

    /// Runs the pipeline for one interaction and stores it with its traces and risks.
    ///
    /// The caller has checked that the user may interact with `session` (its student) and
    /// loaded its `activity`. Errors: [`GatewayError::SessionNotActive`] and
    /// [`GatewayError::LimitReached`] (also when the store finds so at write time),
    /// [`GatewayError::Validation`], [`GatewayError::Llm`], [`GatewayError::Storage`];
    /// nothing is stored on error.
    pub async fn interact(
        &self,
        session: &StudySession,
        activity: &Activity,
        input: InteractionInput,
    ) -> Result<InteractionRecord, GatewayError> {
        self.interact_from(session, activity, None, input).await
    }

    /// Like [`AIGateway::interact`], on the session's `past` as the caller read it with the
    /// session (`StudySessionRepository::find_for_turn` with [`HISTORY_LIMIT`]): one read
    /// fewer. A past that is no longer current only costs a re-read when the turn is stored.
    pub async fn interact_after(
        &self,
        session: &StudySession,
        activity: &Activity,
        past: Past,
        input: InteractionInput,
    ) -> Result<InteractionRecord, GatewayError> {
        self.interact_from(session, activity, Some(past), input)
            .await
    }

    async fn interact_from(
        &self,
        session: &StudySession,
        activity: &Activity,
        past: Option<Past>,
        input: InteractionInput,
    ) -> Result<InteractionRecord, GatewayError> {
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let start = turn::TurnStart {
            session,
            activity,
            past,
        };
        let mut turn = turn::PreparedTurn::prepare(&self.shared, &self.ctx, start, input).await?;
        self.route(&mut turn, session, activity).await?;
        let llm = Arc::clone(turn.shared_llm());
        let answer = match turn.plan() {
            turn::Plan::Blocked(text) => turn::Answer::governance(text.clone()),
            turn::Plan::Ask(request) => {
                let asked = Instant::now();
                let completed = llm.complete(request).await?;
                waited = asked.elapsed();
                turn::Answer::from_response(completed.response, completed.source, llm.as_ref())
            }
        };
        let stored = turn.finish(answer).await?;
        if let Some(observer) = &self.shared.observer {
            observer.overhead(started.elapsed().saturating_sub(waited));
        }
        Ok(stored)
    }

    /// Like [`AIGateway::interact`], streaming the answer.
    ///
    /// Checks, ingestion, governance, history reads and opening the provider stream happen
    /// before this returns, so those errors come back here (before any byte is sent). The
    /// returned stream yields [`GatewayEvent::Delta`]s, then one [`GatewayEvent::Done`] with the
    /// stored record (or one error). Dropping it cancels the upstream call and, until `Done`
    /// is produced, writes nothing.
    pub async fn interact_stream(
        &self,
        session: &StudySession,
        activity: &Activity,
        input: InteractionInput,
    ) -> Result<InteractionStream, GatewayError> {
        self.interact_stream_from(session, activity, None, input)
            .await
    }

    /// Like [`AIGateway::interact_stream`], on the session's `past` as the caller read it (see
    /// [`AIGateway::interact_after`]).
    pub async fn interact_stream_after(
        &self,
        session: &StudySession,
        activity: &Activity,
        past: Past,
        input: InteractionInput,
    ) -> Result<InteractionStream, GatewayError> {
        self.interact_stream_from(session, activity, Some(past), input)
            .await
    }

    async fn interact_stream_from(
        &self,
        session: &StudySession,
        activity: &Activity,
        past: Option<Past>,
        input: InteractionInput,
    ) -> Result<InteractionStream, GatewayError> {
        let start = turn::TurnStart {
            session,
            activity,
            past,
        };
        let mut turn = turn::PreparedTurn::prepare(&self.shared, &self.ctx, start, input).await?;
        self.route(&mut turn, session, activity).await?;
        let llm = Arc::clone(turn.shared_llm());
        let upstream = match turn.plan() {
            turn::Plan::Blocked(_) => return Ok(InteractionStream::for_blocked(turn)),
            turn::Plan::Ask(request) => llm.stream(request).await?,
        };
        Ok(InteractionStream::streaming(turn, upstream))
    }

    /// Picks the model of a turn that asks one (a blocked turn spends nothing of the
    /// credential's limits).
    async fn route(
        &self,
        turn: &mut turn::PreparedTurn,
        session: &StudySession,
        activity: &Activity,
    ) -> Result<(), GatewayError> {
        if let (Some(router), turn::Plan::Ask(_)) = (&self.shared.credentials, turn.plan()) {
            let routed = router.route(activity, session).await?;
            turn.route_to(routed);
        }
        Ok(())
    }
}
