//! Logging set-up: pretty in development, one JSON object per line in production.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

use crate::settings::{LogFormat, Settings};

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match settings.log_format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
    };
    if result.is_ok() && settings.otel_endpoint.is_some() {
        tracing::warn!("OTEL_EXPORTER_OTLP_ENDPOINT is set, but OTLP export is not part of this release; traces stay local");
    }
}
