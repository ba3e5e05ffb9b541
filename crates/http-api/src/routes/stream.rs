//! `POST /sessions/{id}/interactions/stream`: the answer as server-sent events — `delta`
//! events with text, then one `done` event carrying the stored interaction (or one `error`
//! event). A client that disconnects drops the stream, which cancels the upstream call and
//! writes nothing.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use ainative_ai_gateway::gateway::GatewayEvent;
use ainative_ai_gateway::tutoring::{SessionService, TutoringError};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Serialize;
use uuid::Uuid;

use super::sessions::input_of;
use super::tutoring_dto::{InteractionRequest, InteractionResult};
use crate::error::ApiError;
use crate::extract::{Caller, Json};

fn event(name: &str, data: &impl Serialize) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
    Bytes::from(format!("event: {name}\ndata: {json}\n\n"))
}

/// Stream a turn's answer (the session's student).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/interactions/stream", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")), request_body = InteractionRequest,
    responses((status = 200, description = "`text/event-stream`: `delta` events `{\"text\"}`, then `done` with `{interaction, traces, risks}`, or `error` with `{code, message, request_id}`", content_type = "text/event-stream")))]
pub async fn interact_stream(
    svc: web::Data<SessionService>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Json<InteractionRequest>,
) -> Result<HttpResponse, ApiError> {
    let input = input_of(body.into_inner())?;
    let request_id = caller.request_id.clone();
    let stream = svc.interact_stream(&caller, id.into_inner(), input).await?;
    let events = stream.map(move |item| {
        Ok::<_, actix_web::Error>(match item {
            Ok(GatewayEvent::Delta(text)) => event("delta", &serde_json::json!({ "text": text })),
            Ok(GatewayEvent::Done(record)) => event("done", &InteractionResult::from(*record)),
            Err(err) => {
                let api = ApiError::from(TutoringError::from(err));
                tracing::warn!(request_id = %request_id, error = %ainative_ports::error_chain(&api), "streamed interaction failed");
                event("error", &serde_json::json!({"code": api.code(), "message": api.to_string(), "request_id": request_id}))
            }
        })
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(events))
}
