//! Logs and traces: a `tracing` subscriber with an environment filter writing to standard
//! error and, when an OTLP endpoint is configured, exporting spans as OpenTelemetry traces
//! (OTLP over HTTP, protobuf) in batches from a thread of their own. An incoming W3C
//! `traceparent` header makes a request's span a child of the caller's trace.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider, Resource};
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

/// Flushes the traces still held when it is dropped (at the end of the command).
#[must_use = "dropping it at once stops the trace export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(e) = provider.shutdown() {
                eprintln!("traces could not all be exported: {e}");
            }
        }
    }
}

/// Installs the global subscriber once; later calls (as in tests) are ignored.
pub fn init(filter: &str) {
    // Without an exporter there is nothing to flush.
    std::mem::forget(init_with(filter, None));
}

/// Installs the global subscriber, exporting traces to `otlp` (e.g.
/// `http://collector:4318`) when given; the error when that address is not usable.
pub fn init_with(filter: &str, otlp: Option<&str>) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let log = fmt::layer()
        .with_target(false)
        // Colour codes only on a terminal, never in files or log collectors.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let provider = otlp.map(exporter).transpose()?;
    let traces = provider.as_ref().map(|provider| {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("qii"))
            .boxed()
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(log)
        .with(traces)
        .try_init();
    Ok(Telemetry { provider })
}

fn exporter(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let endpoint = endpoint.trim_end_matches('/');
    let url = if endpoint.ends_with("/v1/traces") {
        endpoint.to_owned()
    } else {
        format!("{endpoint}/v1/traces")
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(url.clone())
        .build()
        .map_err(|e| anyhow::anyhow!("QII_OTLP_ENDPOINT `{url}` cannot be used: {e}"))?;
    let resource = Resource::builder()
        .with_service_name("qii")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Makes `span` a child of the trace a request's `traceparent` header names, when traces
/// are exported and the header is there.
pub fn continue_trace(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    struct Headers<'a>(&'a axum::http::HeaderMap);
    impl opentelemetry::propagation::Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }
    if !headers.contains_key("traceparent") {
        return;
    }
    let context = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&Headers(headers))
    });
    let _ = span.set_parent(context);
}
