//! End-to-end test of OpenTelemetry traces (SPEC §7): the test binary installs a subscriber
//! with an OpenTelemetry layer over an in-memory exporter and the W3C TraceContext
//! propagator, starts the real application against a fake OpenAI-compatible upstream, and
//! checks that a request's `traceparent` is honoured, that the trace reaches the upstream
//! call, that database and LLM spans join it, and that no secret lands in a span.

use std::sync::OnceLock;
use std::time::Duration;

use ainative_test_support::fake::openai_completion as completion;
use ainative_test_support::fixtures::{data, instructor, published_activity};
use ainative_test_support::{wait_for, Backend, TestApp, PASSWORD};
use opentelemetry::trace::{SpanId, SpanKind, TraceId, TracerProvider as _};
use opentelemetry::Value as OtelValue;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The exporter every span of this test binary ends in (installed once per process).
fn exporter() -> InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER
        .get_or_init(|| {
            let exporter = InMemorySpanExporter::default();
            let provider = SdkTracerProvider::builder()
                .with_simple_exporter(exporter.clone())
                .build();
            let tracer = provider.tracer("e2e");
            opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
            opentelemetry::global::set_tracer_provider(provider);
            tracing_subscriber::registry()
                .with(
                    tracing_opentelemetry::layer()
                        .with_tracer(tracer)
                        // The filter the server's own exporter uses.
                        .with_filter(EnvFilter::new(ainative_server::telemetry::TRACE_FILTER)),
                )
                .try_init()
                .expect("the only subscriber of this test binary");
            exporter
        })
        .clone()
}

/// A trace context as a caller would send it: random trace and parent span ids, sampled.
fn caller_context() -> (String, String) {
    let trace_id = Uuid::new_v4().simple().to_string();
    let span_id = Uuid::new_v4().simple().to_string()[..16].to_owned();
    (trace_id, span_id)
}

fn text(value: &OtelValue) -> String {
    value.as_str().into_owned()
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| text(&kv.value))
}

/// Every string recorded on a span: name, attribute keys and values, event names and
/// attributes, status.
fn recorded_strings(span: &SpanData) -> Vec<String> {
    let mut out = vec![span.name.to_string(), format!("{:?}", span.status)];
    for kv in &span.attributes {
        out.push(kv.key.as_str().to_owned());
        out.push(text(&kv.value));
    }
    for event in span.events.iter() {
        out.push(event.name.to_string());
        for kv in &event.attributes {
            out.push(kv.key.as_str().to_owned());
            out.push(text(&kv.value));
        }
    }
    out
}

/// The finished spans of `trace_id`, waiting (a little) for `name` to be among them.
async fn spans_of(exporter: &InMemorySpanExporter, trace_id: TraceId, name: &str) -> Vec<SpanData> {
    wait_for(
        Duration::from_secs(5),
        &format!("a {name} span is exported in trace {trace_id}"),
        || async move {
            let spans: Vec<SpanData> = exporter
                .get_finished_spans()
                .expect("finished spans")
                .into_iter()
                .filter(|s| s.span_context.trace_id() == trace_id)
                .collect();
            spans.iter().any(|s| s.name == name).then_some(spans)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_is_one_trace_from_the_caller_to_the_upstream_model() {
    let exporter = exporter();
    let upstream = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(completion("What does the loop hold?")),
        )
        .mount(&upstream)
        .await;
    let base = format!("{}/v1", upstream.uri());
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("LLM_PROVIDER", "openai"),
            ("LLM_BASE_URL", &base),
            ("LLM_MODEL", "test-model"),
            ("LLM_API_KEY", "sk-test-upstream-key"),
            ("LLM_TIMEOUT_SECS", "5"),
            ("LLM_MAX_RETRIES", "1"),
        ],
    )
    .await;

    let admin = app.admin("root").await;
    let admin_token = admin["access_token"].as_str().expect("token").to_owned();
    let teacher = instructor(&app, &admin_token, "teacher").await;
    let activity = published_activity(&app, &teacher, json!({})).await;
    let student = app.register("student").await;
    let student_token = student["access_token"].as_str().expect("token").to_owned();
    let refresh_token = student["refresh_token"].as_str().unwrap_or("").to_owned();
    let student_id = student["user"]["id"].as_str().expect("id").to_owned();
    let session = data(
        app.post(
            "/api/v1/sessions",
            Some(&student_token),
            &json!({"activity_id": activity}),
        )
        .await,
        201,
    )
    .await["id"]
        .as_str()
        .expect("session id")
        .to_owned();

    let (trace_hex, parent_hex) = caller_context();
    let res = app
        .client
        .post(app.url(&format!("/api/v1/sessions/{session}/interactions")))
        .bearer_auth(&student_token)
        .header("traceparent", format!("00-{trace_hex}-{parent_hex}-01"))
        .json(&json!({"prompt": "What is a for loop?"}))
        .send()
        .await
        .expect("turn sent");
    let out = data(res, 201).await;
    assert_eq!(out["interaction"]["provider"], "openai");

    let trace_id = TraceId::from_hex(&trace_hex).expect("trace id");
    let parent_id = SpanId::from_hex(&parent_hex).expect("span id");
    let spans = spans_of(&exporter, trace_id, "http.request").await;
    let spans = if spans.iter().any(|s| s.name == "llm.complete") {
        spans
    } else {
        spans_of(&exporter, trace_id, "llm.complete").await
    };
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();

    // The request span continues the caller's trace and describes the request.
    let request = spans
        .iter()
        .find(|s| s.name == "http.request")
        .expect("http.request span");
    assert_eq!(
        request.parent_span_id, parent_id,
        "child of the caller's span"
    );
    assert!(request.parent_span_is_remote);
    assert_eq!(request.span_kind, SpanKind::Server);
    assert_eq!(attribute(request, "method").as_deref(), Some("POST"));
    let route = attribute(request, "route").expect("route");
    assert!(route.ends_with("/interactions"), "{route}");
    assert!(!route.contains(&session), "a template, not a path: {route}");
    assert_eq!(attribute(request, "status").as_deref(), Some("201"));
    assert_eq!(attribute(request, "user_id"), Some(student_id));
    assert!(attribute(request, "request_id").is_some_and(|id| !id.is_empty()));

    // Database and LLM work of the request joined the trace.
    assert!(names.iter().any(|n| n.starts_with("db.")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("llm.")), "{names:?}");
    let llm = spans
        .iter()
        .find(|s| s.name == "llm.complete")
        .expect("llm.complete span");
    assert_eq!(attribute(llm, "provider").as_deref(), Some("openai"));
    assert_eq!(attribute(llm, "model").as_deref(), Some("test-model"));

    // The upstream call carried the same trace, from the provider's span.
    let received = upstream.received_requests().await.expect("recording");
    assert_eq!(received.len(), 1);
    let traceparent = received[0]
        .headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .expect("traceparent sent upstream")
        .to_owned();
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[1], trace_hex, "same trace upstream");
    assert_eq!(
        parts[2],
        llm.span_context.span_id().to_string(),
        "the upstream call is a child of llm.complete"
    );

    // No secret in any span of the process.
    let secrets = [
        PASSWORD,
        student_token.as_str(),
        admin_token.as_str(),
        teacher.as_str(),
        "sk-test-upstream-key",
    ];
    let all = exporter.get_finished_spans().expect("finished spans");
    assert!(!all.is_empty());
    for span in &all {
        for value in recorded_strings(span) {
            for secret in secrets {
                assert!(
                    !value.contains(secret),
                    "span {} records a secret: {value}",
                    span.name
                );
            }
            if !refresh_token.is_empty() {
                assert!(!value.contains(&refresh_token), "span {}", span.name);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_traceparent_starts_a_trace_of_its_own() {
    let exporter = exporter();
    let app = TestApp::spawn(Backend::Sqlite).await;
    let res = app
        .client
        .get(app.url("/api/v1/health/live"))
        .header("x-request-id", "no-parent-here")
        .send()
        .await
        .expect("request sent");
    assert_eq!(res.status(), 200);
    let root = wait_for(
        Duration::from_secs(5),
        "the root http.request span is exported",
        || async {
            exporter
                .get_finished_spans()
                .expect("finished spans")
                .into_iter()
                .find(|s| {
                    s.name == "http.request"
                        && attribute(s, "request_id").as_deref() == Some("no-parent-here")
                })
        },
    )
    .await;
    assert_eq!(root.parent_span_id, SpanId::INVALID, "a root span");
    assert!(root.span_context.is_sampled());
    assert_eq!(attribute(&root, "status").as_deref(), Some("200"));
    assert_eq!(attribute(&root, "user_id"), None, "anonymous");
}
