//! The streamed interaction.

use std::pin::Pin;
use std::task::{Context, Poll};

use ainative_ports::{InteractionRecord, LlmError, LlmStream, StreamEvent, UpstreamKind};
use futures::stream::{BoxStream, Stream, StreamExt};

use super::turn::{Answer, Plan, PreparedTurn};
use super::GatewayError;
use crate::llm::{AnswerSource, CompletionStream};

/// One event of a streamed interaction.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayEvent {
    /// A piece of the answer (an SSE `delta` event).
    Delta(String),
    /// The stored interaction with its traces and risks (the SSE `done` event); last event.
    Done(Box<InteractionRecord>),
}

/// A streamed interaction: [`GatewayEvent::Delta`]s, then one [`GatewayEvent::Done`] — or one
/// `Err` (the language model failed mid-stream, or storing failed), after which it ends.
///
/// The interaction is stored when the upstream answer is complete, just before `Done` is
/// yielded. Dropping the stream earlier (client disconnect) drops the upstream stream, which
/// cancels the provider call, and stores nothing.
pub struct InteractionStream {
    inner: BoxStream<'static, Result<GatewayEvent, GatewayError>>,
    cache_hit: bool,
    blocked: bool,
}

impl std::fmt::Debug for InteractionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InteractionStream")
            .field("cache_hit", &self.cache_hit)
            .field("blocked", &self.blocked)
            .finish_non_exhaustive()
    }
}

enum State {
    Streaming {
        upstream: LlmStream,
        turn: Box<PreparedTurn>,
        source: AnswerSource,
    },
    Finish {
        turn: Box<PreparedTurn>,
        answer: Answer,
    },
    Ended,
}

impl InteractionStream {
    /// A blocked turn: the governance answer as one delta, then `Done`.
    pub(crate) fn for_blocked(turn: PreparedTurn) -> Self {
        let text = match turn.plan() {
            Plan::Blocked(text) => text.clone(),
            Plan::Ask(_) => String::new(),
        };
        let answer = Answer::governance(text.clone());
        let finish = State::Finish {
            turn: Box::new(turn),
            answer,
        };
        let first = futures::stream::once(async move { Ok(GatewayEvent::Delta(text)) });
        Self {
            inner: first.chain(drive(finish)).boxed(),
            cache_hit: false,
            blocked: true,
        }
    }

    /// A turn answered by the language model's stream.
    pub(crate) fn streaming(turn: PreparedTurn, upstream: CompletionStream) -> Self {
        let source = upstream.source;
        let state = State::Streaming {
            upstream: upstream.events,
            turn: Box::new(turn),
            source,
        };
        Self {
            inner: drive(state).boxed(),
            cache_hit: source.is_shared(),
            blocked: false,
        }
    }

    /// Whether the answer is replayed from the response cache.
    pub fn cache_hit(&self) -> bool {
        self.cache_hit
    }

    /// Whether governance blocked the turn (the answer is the governance agent's).
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }
}

impl Stream for InteractionStream {
    type Item = Result<GatewayEvent, GatewayError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

fn drive(state: State) -> impl Stream<Item = Result<GatewayEvent, GatewayError>> + Send {
    futures::stream::unfold(state, |state| async move {
        match state {
            State::Ended => None,
            State::Finish { turn, answer } => {
                let event = turn
                    .finish(answer)
                    .await
                    .map(|record| GatewayEvent::Done(Box::new(record)));
                Some((event, State::Ended))
            }
            State::Streaming {
                mut upstream,
                turn,
                source,
            } => match upstream.next().await {
                Some(Ok(StreamEvent::Delta(text))) => Some((
                    Ok(GatewayEvent::Delta(text)),
                    State::Streaming {
                        upstream,
                        turn,
                        source,
                    },
                )),
                Some(Ok(StreamEvent::Done(response))) => {
                    drop(upstream);
                    let answer =
                        Answer::from_response(response, source, turn.shared_llm().as_ref());
                    let event = turn
                        .finish(answer)
                        .await
                        .map(|record| GatewayEvent::Done(Box::new(record)));
                    Some((event, State::Ended))
                }
                Some(Err(error)) => Some((Err(GatewayError::Llm(error)), State::Ended)),
                None => Some((
                    Err(GatewayError::Llm(LlmError::upstream(
                        UpstreamKind::Interrupted,
                        "the stream ended without a final answer",
                    ))),
                    State::Ended,
                )),
            },
        }
    })
}
