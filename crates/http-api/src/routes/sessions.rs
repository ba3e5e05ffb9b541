//! `/api/v1/sessions`: tutoring sessions, interactions through the AI gateway, traces, risks,
//! cognitive path and evaluation.

use actix_web::{web, HttpResponse};
use ainative_ai_gateway::tutoring::{SessionService, StartSession};
use ainative_domain::{
    InteractionInput, Page, SessionAction, SessionMode, SessionStatus, SimulatorType, TraceLevel,
    ValidationErrors,
};
use uuid::Uuid;

use super::dto::{PageOf, PageQuery};
use super::resource;
use super::tutoring_dto::{
    EndSessionResponse, EvaluationResponse, InteractionRequest, InteractionResponse,
    InteractionResult, RiskResponse, SessionQuery, SessionResponse, StartSessionRequest,
    TraceQuery, TraceResponse,
};
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{Caller, Json, NoFields, OptionalJson, Query};

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/sessions", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(start)),
    )
    .service(resource("/sessions/{id}", "GET").route(web::get().to(get)))
    .service(resource("/sessions/{id}/end", "POST").route(web::post().to(end)))
    .service(resource("/sessions/{id}/pause", "POST").route(web::post().to(pause)))
    .service(resource("/sessions/{id}/resume", "POST").route(web::post().to(resume)))
    .service(resource("/sessions/{id}/abort", "POST").route(web::post().to(abort)))
    .service(
        resource("/sessions/{id}/interactions", "GET, POST")
            .route(web::get().to(interactions))
            .route(web::post().to(interact)),
    )
    .service(
        resource("/sessions/{id}/interactions/stream", "POST")
            .route(web::post().to(super::stream::interact_stream)),
    )
    .service(resource("/sessions/{id}/traces", "GET").route(web::get().to(traces)))
    .service(resource("/sessions/{id}/cognitive-path", "GET").route(web::get().to(cognitive_path)))
    .service(resource("/sessions/{id}/risks", "GET").route(web::get().to(risks)))
    .service(resource("/sessions/{id}/evaluation", "GET").route(web::get().to(evaluation)));
}

/// Start a session on a published activity (one active session per student and activity).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = [])), request_body = StartSessionRequest,
    responses((status = 201, description = "The session", body = SessionResponse),
              (status = 404, description = "Activity absent or not visible"), (status = 409, description = "Already active or not published"),
              (status = 422, description = "Bad mode, or an `llm_credential_id` the activity does not allow or that is not an active credential of the caller")))]
pub async fn start(
    svc: web::Data<SessionService>,
    caller: Caller,
    body: Json<StartSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut errors = ValidationErrors::new();
    let mode = match body.mode.as_deref() {
        Some(m) => errors.collect("mode", m.parse::<SessionMode>()),
        None => Some(SessionMode::Tutor),
    };
    let simulator_type = body
        .simulator_type
        .as_deref()
        .and_then(|t| errors.collect("simulator_type", t.parse::<SimulatorType>()));
    errors.into_result()?;
    let request = StartSession {
        activity_id: body.activity_id,
        mode: mode.unwrap_or_default(),
        simulator_type,
        llm_credential_id: body.llm_credential_id,
    };
    let session = svc.start(&caller, request).await?;
    Ok(envelope::created(&SessionResponse::from(session)))
}

/// The caller's sessions; instructors also sessions on their activities; admins all.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", security(("bearer" = [])), params(SessionQuery),
    responses((status = 200, description = "A page of sessions", body = PageOf<SessionResponse>)))]
pub async fn list(
    svc: web::Data<SessionService>,
    caller: Caller,
    query: Query<SessionQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (page, mut errors) = super::page_and_errors(query.limit, query.offset);
    let status = query
        .status
        .as_deref()
        .and_then(|s| errors.collect("status", s.parse::<SessionStatus>()));
    errors.into_result()?;
    let sessions = svc.list(&caller, status, query.activity_id, page).await?;
    Ok(envelope::ok(&PageOf::from_domain(
        sessions,
        SessionResponse::from,
    )))
}

/// A session (its student, the activity's owner, admins).
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, description = "The session", body = SessionResponse), (status = 404, description = "Absent or not visible")))]
pub async fn get(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let session = svc.get(&caller, id.into_inner()).await?;
    Ok(envelope::ok(&SessionResponse::from(session)))
}

/// End a session (its student or an admin); runs the evaluator.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/end", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, description = "Session completed, with its evaluation", body = EndSessionResponse),
              (status = 409, description = "Not active")))]
pub async fn end(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
    _body: OptionalJson<NoFields>,
) -> Result<HttpResponse, ApiError> {
    let (session, evaluation) = svc.end(&caller, id.into_inner()).await?;
    Ok(envelope::ok(&EndSessionResponse {
        session: session.into(),
        evaluation: evaluation.into(),
    }))
}

async fn change_status(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
    action: SessionAction,
) -> Result<HttpResponse, ApiError> {
    let session = svc.change_status(&caller, id.into_inner(), action).await?;
    Ok(envelope::ok(&SessionResponse::from(session)))
}

/// Pause an active session (its student or an admin): interactions get 409 until it resumes.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/pause", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, description = "The session, paused", body = SessionResponse),
              (status = 403, description = "Not the session's student or an admin"),
              (status = 404, description = "Absent or not visible"),
              (status = 409, description = "Not active")))]
pub async fn pause(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
    _body: OptionalJson<NoFields>,
) -> Result<HttpResponse, ApiError> {
    change_status(svc, caller, id, SessionAction::Pause).await
}

/// Resume a paused session (its student or an admin).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/resume", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, description = "The session, active again", body = SessionResponse),
              (status = 403, description = "Not the session's student or an admin"),
              (status = 404, description = "Absent or not visible"),
              (status = 409, description = "Not paused")))]
pub async fn resume(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
    _body: OptionalJson<NoFields>,
) -> Result<HttpResponse, ApiError> {
    change_status(svc, caller, id, SessionAction::Resume).await
}

/// Abort an active or paused session (its student, the activity's owner, an admin): final,
/// no evaluation.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/abort", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, description = "The session, aborted", body = SessionResponse),
              (status = 403, description = "Not the session's student, the activity's owner or an admin"),
              (status = 404, description = "Absent or not visible"),
              (status = 409, description = "Already completed or aborted")))]
pub async fn abort(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
    _body: OptionalJson<NoFields>,
) -> Result<HttpResponse, ApiError> {
    change_status(svc, caller, id, SessionAction::Abort).await
}

/// Validates a turn's body.
pub(crate) fn input_of(body: InteractionRequest) -> Result<InteractionInput, ApiError> {
    Ok(InteractionInput::new(
        body.prompt,
        body.code,
        body.error_output,
    )?)
}

/// Send a turn through the AI gateway (the session's student).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/interactions", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")), request_body = InteractionRequest,
    responses((status = 201, description = "Interaction, traces and risks", body = InteractionResult),
              (status = 409, description = "Session not active or interaction limit reached"),
              (status = 502, description = "Language model failed"), (status = 504, description = "Language model timed out")))]
pub async fn interact(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<InteractionRequest>,
) -> Result<HttpResponse, ApiError> {
    let input = input_of(body.into_inner())?;
    let record = svc.interact(&caller, id.into_inner(), input).await?;
    Ok(envelope::created(&InteractionResult::from(record)))
}

/// The session's interactions by `seq`.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/interactions", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id"), PageQuery),
    responses((status = 200, description = "A page of interactions", body = PageOf<InteractionResponse>)))]
pub async fn interactions(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::new(query.limit, query.offset)?;
    let items = svc.interactions(&caller, id.into_inner(), page).await?;
    Ok(envelope::ok(&PageOf::from_domain(
        items,
        InteractionResponse::from,
    )))
}

/// The session's cognitive traces, optionally one level.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/traces", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id"), TraceQuery),
    responses((status = 200, description = "A page of traces", body = PageOf<TraceResponse>)))]
pub async fn traces(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: Query<TraceQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let (page, mut errors) = super::page_and_errors(query.limit, query.offset);
    let level = query
        .level
        .as_deref()
        .and_then(|l| errors.collect("level", l.parse::<TraceLevel>()));
    errors.into_result()?;
    let items = svc.traces(&caller, id.into_inner(), level, page).await?;
    Ok(envelope::ok(&PageOf::from_domain(
        items,
        TraceResponse::from,
    )))
}

/// The reconstructed cognitive path: ordered states, time per state, AI involvement, counts
/// per level.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/cognitive-path", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, description = "The cognitive path")))]
pub async fn cognitive_path(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let path = svc.cognitive_path(&caller, id.into_inner()).await?;
    Ok(envelope::ok(&path))
}

/// The session's risks.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/risks", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id"), PageQuery),
    responses((status = 200, description = "A page of risks", body = PageOf<RiskResponse>)))]
pub async fn risks(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::new(query.limit, query.offset)?;
    let items = svc.risks(&caller, id.into_inner(), page).await?;
    Ok(envelope::ok(&PageOf::from_domain(
        items,
        RiskResponse::from,
    )))
}

/// The session's evaluation; 404 until the session ends.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/evaluation", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, description = "The evaluation", body = EvaluationResponse), (status = 404, description = "Not ended yet or not visible")))]
pub async fn evaluation(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let evaluation = svc.evaluation(&caller, id.into_inner()).await?;
    Ok(envelope::ok(&EvaluationResponse::from(evaluation)))
}
