//! Logging and tracing set-up: pretty logs in development, one JSON object per line in
//! production; OpenTelemetry spans exported over OTLP/gRPC when `OTEL_EXPORTER_OTLP_ENDPOINT`
//! is set.
//!
//! - The log layer keeps the `LOG_LEVEL` filter.
//! - The OpenTelemetry layer has a filter of its own, [`TRACE_FILTER`], so traces do not
//!   depend on log verbosity: every `info` span, and the `debug` spans of this project's crates
//!   (database and Redis calls).
//! - Spans go through a batch processor running on the Tokio runtime; the resource names the
//!   service (`service.name=ainative`, `service.version`). The W3C TraceContext propagator is
//!   installed globally, so an incoming `traceparent` is honoured and outgoing LLM calls carry
//!   one.
//! - Without an endpoint there is no exporter, no propagator and no OpenTelemetry layer.
//! - Log lines are formatted on the thread that logs but written by a background thread
//!   (`tracing_appender::non_blocking`) through a buffer, so a request never waits on a
//!   `write(2)` to stdout. The queue applies back-pressure instead of dropping lines when it
//!   is full; [`TelemetryGuard::shutdown`] flushes it. ANSI colours only on a terminal.

use std::io::{BufWriter, IsTerminal, Write};
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::{runtime, Resource};
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{fmt, prelude::*, EnvFilter, Layer, Registry};

use crate::settings::{LogFormat, Settings};

/// The `service.name` of exported spans.
pub const SERVICE_NAME: &str = "ainative";

/// Which spans are exported: `info` and above everywhere, `debug` for this project's crates.
pub const TRACE_FILTER: &str = "info,ainative=debug";

/// How long one export to the collector may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`TelemetryGuard::shutdown`] waits for the last spans to be flushed.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(6);

/// Log lines the writer thread may hold before a logging thread waits for it.
const LOG_QUEUE_LINES: usize = 64 * 1024;

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// What [`init`] installed; [`TelemetryGuard::shutdown`] flushes the spans not yet exported
/// and the log lines not yet written.
#[derive(Debug, Default)]
#[must_use = "call `shutdown` on exit so that the last spans and log lines are written"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    log_writer: Option<WorkerGuard>,
}

impl TelemetryGuard {
    /// Whether spans are exported over OTLP.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Flushes and stops the exporter (at most a few seconds), then the log writer.
    pub async fn shutdown(self) {
        let Self {
            provider,
            log_writer,
        } = self;
        if let Some(provider) = provider {
            shutdown_provider(provider).await;
        }
        // Dropping the guard writes the queued lines (bounded by tracing-appender).
        drop(log_writer);
    }
}

/// Log lines go to `out` through a buffer that the writer thread flushes once the queue is
/// empty: one `write(2)` per batch of lines instead of one per line.
fn background_writer(out: impl Write + Send + 'static) -> (NonBlocking, WorkerGuard) {
    NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .thread_name("ainative-log")
        .finish(BufWriter::new(out))
}

async fn shutdown_provider(provider: SdkTracerProvider) {
    // The SDK blocks on the flush: run it off the runtime's worker threads.
    let flush = tokio::task::spawn_blocking(move || provider.shutdown());
    match tokio::time::timeout(SHUTDOWN_TIMEOUT, flush).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => eprintln!("telemetry: flushing spans failed: {error}"),
        Ok(Err(error)) => eprintln!("telemetry: flushing spans failed: {error}"),
        Err(_) => eprintln!("telemetry: flushing spans timed out"),
    }
}

/// Installs the global subscriber and, when an OTLP endpoint is configured, the span exporter
/// and the TraceContext propagator. Safe to call more than once: once a subscriber is
/// installed, later calls install nothing and return an empty guard.
pub fn init(settings: &Settings) -> TelemetryGuard {
    init_with_writer(settings, std::io::stdout(), std::io::stdout().is_terminal())
}

/// [`init`] with log lines written to `out` (colours when `ansi`): benchmarks measure the
/// server's logging into a sink this way.
pub fn init_with_writer(
    settings: &Settings,
    out: impl Write + Send + 'static,
    ansi: bool,
) -> TelemetryGuard {
    let filter = EnvFilter::try_new(&settings.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, log_writer) = background_writer(out);
    let log_layer: BoxedLayer = match settings.log_format {
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => fmt::layer()
            .compact()
            .with_ansi(ansi)
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
    };
    let mut layers = vec![log_layer];

    let mut otlp_error = None;
    let provider = match settings.otel_endpoint.as_deref().map(str::trim) {
        Some(endpoint) if !endpoint.is_empty() => match otlp_provider(endpoint) {
            Ok(provider) => Some(provider),
            Err(error) => {
                otlp_error = Some(error);
                None
            }
        },
        _ => None,
    };
    if let Some(provider) = &provider {
        let tracer = provider.tracer(SERVICE_NAME);
        layers.push(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(EnvFilter::new(TRACE_FILTER))
                .boxed(),
        );
    }

    if tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .is_err()
    {
        // Another subscriber won the race: nothing of ours is installed.
        if let Some(provider) = provider {
            discard(provider);
        }
        return TelemetryGuard::default();
    }
    if let Some(error) = otlp_error {
        tracing::warn!(%error, "OTLP span export is disabled: the exporter could not be built");
    }
    if let Some(provider) = &provider {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        opentelemetry::global::set_tracer_provider(provider.clone());
        tracing::info!("exporting spans over OTLP/gRPC");
    }
    TelemetryGuard {
        provider,
        log_writer: Some(log_writer),
    }
}

/// A tracer provider exporting to `endpoint` over OTLP/gRPC in batches on the Tokio runtime.
///
/// The connection is lazy: an unreachable collector is not an error here (exports fail and
/// are dropped later). Needs a Tokio runtime.
pub fn otlp_provider(endpoint: &str) -> Result<SdkTracerProvider, String> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err("no Tokio runtime to run the exporter on".to_owned());
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let processor = BatchSpanProcessor::builder(exporter, runtime::Tokio).build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(resource())
        .build())
}

/// `service.name` and `service.version` (plus what `OTEL_RESOURCE_ATTRIBUTES` adds).
fn resource() -> Resource {
    Resource::builder()
        .with_service_name(SERVICE_NAME)
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Shuts an unused provider down off the runtime's worker threads (its shutdown blocks).
fn discard(provider: SdkTracerProvider) {
    drop(tokio::task::spawn_blocking(move || provider.shutdown()));
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let dir = std::env::temp_dir().join(format!("ainative-telemetry-{}", uuid::Uuid::new_v4()));
        let env = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<HashMap<_, _>>();
        Settings::from_layers(env, &dir.join("config"), &dir.join("data")).expect("settings")
    }

    #[tokio::test]
    async fn init_without_an_endpoint_can_run_twice() {
        let settings = settings(&[("LOG_LEVEL", "warn")]);
        assert!(settings.otel_endpoint.is_none());
        let first = init(&settings);
        let second = init(&settings);
        assert!(!first.exporting());
        assert!(!second.exporting());
        first.shutdown().await;
        second.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn init_with_an_endpoint_after_another_subscriber_installs_nothing() {
        let _ = tracing_subscriber::registry().try_init();
        let settings = settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")]);
        let guard = init(&settings);
        assert!(!guard.exporting());
        guard.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_otlp_provider_builds_lazily_and_shuts_down_quickly() {
        // Nothing listens on port 1: building must not connect, and a shutdown with no span
        // to export must not wait for the collector.
        let provider = otlp_provider("http://127.0.0.1:1").expect("provider");
        let guard = TelemetryGuard {
            provider: Some(provider),
            log_writer: None,
        };
        assert!(guard.exporting());
        tokio::time::timeout(Duration::from_secs(10), guard.shutdown())
            .await
            .expect("shutdown is bounded");
    }

    #[test]
    fn the_otlp_provider_needs_a_runtime() {
        assert!(otlp_provider("http://127.0.0.1:1").is_err());
    }

    #[test]
    fn the_resource_names_the_service() {
        let resource = resource();
        let value = |key: &'static str| {
            resource
                .get(&opentelemetry::Key::from_static_str(key))
                .map(|v| v.to_string())
        };
        assert_eq!(value("service.name").as_deref(), Some(SERVICE_NAME));
        assert_eq!(
            value("service.version").as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );
    }
}
