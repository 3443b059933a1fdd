//! OpenTelemetry for the native services, as users of the SDKs know it: one
//! tracer, logger and meter provider per service, each with its resource
//! (`service.name`, `service.version`, `OTEL_RESOURCE_ATTRIBUTES`), exporting
//! in batches over OTLP to `OTEL_EXPORTER_OTLP_ENDPOINT` (gRPC on
//! localhost:4317 unless `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`).
//!
//! The standard variables are read here or by the SDK itself:
//! `OTEL_SDK_DISABLED`, `OTEL_SERVICE_NAME` (for a service run alone),
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`/`_ARG` (the SDK's
//! default configuration reads them), `OTEL_PROPAGATORS` (`tracecontext`,
//! the default, or `none`), `OTEL_EXPORTER_OTLP_ENDPOINT`,
//! `OTEL_EXPORTER_OTLP_PROTOCOL` and their per-signal forms,
//! `OTEL_TRACES_EXPORTER`/`OTEL_LOGS_EXPORTER`/`OTEL_METRICS_EXPORTER`
//! (`otlp` or `none`).
//!
//! Why the exporters are wrapped: the SDK's batch processors export from a
//! thread of their own, and the gRPC exporter (tonic) needs a tokio reactor
//! there. The private `Exporter` runs each gRPC export on the process's runtime, and
//! for every protocol it watches the results, so that a collector that is
//! not there is said once, clearly, instead of in a warning per batch.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::{Histogram, MeterProvider as _};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tokio::runtime::Handle;
use tracelab_demo::telemetry::Telemetry;
use tracelab_demo::Service;

/// The OTLP protocols the services export with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpProtocol {
    Grpc,
    HttpProtobuf,
}

impl OtlpProtocol {
    fn default_endpoint(self) -> &'static str {
        match self {
            OtlpProtocol::Grpc => "http://localhost:4317",
            OtlpProtocol::HttpProtobuf => "http://localhost:4318",
        }
    }
}

impl fmt::Display for OtlpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OtlpProtocol::Grpc => "grpc",
            OtlpProtocol::HttpProtobuf => "http/protobuf",
        })
    }
}

/// What the environment asks of the SDK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtelSettings {
    /// `OTEL_SDK_DISABLED=true`: no provider, no span, no export; each
    /// service answers uninstrumented, as in step 1 of the lesson.
    pub disabled: bool,
    pub protocol: OtlpProtocol,
    /// Where the exporters send.
    pub endpoint: String,
    /// Whether an `OTEL_EXPORTER_OTLP_…ENDPOINT` variable named it (else
    /// `tracelab up` points the services at its own collector).
    pub endpoint_from_env: bool,
    /// `OTEL_PROPAGATORS` is not `none`.
    pub propagate: bool,
    /// `OTEL_SERVICE_NAME`, when set.
    pub service_name: Option<String>,
    /// `OTEL_TRACES_EXPORTER`, `OTEL_LOGS_EXPORTER`, `OTEL_METRICS_EXPORTER`:
    /// `otlp` (the default) or `none`, which records the signal but sends
    /// it nowhere.
    pub export_traces: bool,
    pub export_logs: bool,
    pub export_metrics: bool,
    /// What was read from the environment that a person should know about
    /// (an unsupported propagator, a protocol spelled oddly).
    pub notes: Vec<String>,
}

impl OtelSettings {
    /// Reads the standard variables. An unusable value is an error that
    /// names the variable and says what it accepts.
    pub fn from_env() -> Result<OtelSettings, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`OtelSettings::from_env`] over any lookup, for tests.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<OtelSettings, String> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let disabled = match get("OTEL_SDK_DISABLED") {
            None => false,
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(format!(
                        "OTEL_SDK_DISABLED is {other:?}; it must be true or false"
                    ))
                }
            },
        };
        let protocol_var = [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ]
        .into_iter()
        .find_map(|name| get(name).map(|value| (name, value)));
        let protocol = match protocol_var {
            None => OtlpProtocol::Grpc,
            Some((name, value)) => match value.trim() {
                "grpc" => OtlpProtocol::Grpc,
                "http/protobuf" => OtlpProtocol::HttpProtobuf,
                other => {
                    return Err(format!(
                        "{name} is {other:?}; tracelab's services export with grpc (the default) or http/protobuf"
                    ))
                }
            },
        };
        let from_env = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .or_else(|| get("OTEL_EXPORTER_OTLP_ENDPOINT"));
        let endpoint_from_env = from_env.is_some();
        let endpoint = from_env.unwrap_or_else(|| protocol.default_endpoint().to_owned());
        let mut notes = Vec::new();
        let mut propagate = true;
        if let Some(list) = get("OTEL_PROPAGATORS") {
            let names: Vec<String> = list
                .split(',')
                .map(|name| name.trim().to_ascii_lowercase())
                .filter(|name| !name.is_empty())
                .collect();
            if names.iter().any(|name| name == "none") {
                propagate = false;
            } else {
                let unsupported: Vec<&str> = names
                    .iter()
                    .map(String::as_str)
                    .filter(|name| *name != "tracecontext")
                    .collect();
                if !unsupported.is_empty() {
                    notes.push(format!(
                        "OTEL_PROPAGATORS names {}, which tracelab does not speak; W3C tracecontext is used",
                        unsupported.join(", ")
                    ));
                }
            }
        }
        let exporter = |name: &str| -> Result<bool, String> {
            match get(name).map(|value| value.trim().to_ascii_lowercase()).as_deref() {
                None | Some("otlp") => Ok(true),
                Some("none") => Ok(false),
                Some(other) => Err(format!(
                    "{name} is {other:?}; tracelab's services export with otlp (the default) or none"
                )),
            }
        };
        Ok(OtelSettings {
            export_traces: exporter("OTEL_TRACES_EXPORTER")?,
            export_logs: exporter("OTEL_LOGS_EXPORTER")?,
            export_metrics: exporter("OTEL_METRICS_EXPORTER")?,
            disabled,
            protocol,
            endpoint,
            endpoint_from_env,
            propagate,
            service_name: get("OTEL_SERVICE_NAME"),
            notes,
        })
    }

    /// One line for the start-up banner.
    pub fn describe(&self) -> String {
        if self.disabled {
            "OpenTelemetry: disabled (OTEL_SDK_DISABLED=true); no span is recorded".to_owned()
        } else {
            format!(
                "OpenTelemetry: exporting traces, logs and metrics over OTLP {} to {}",
                self.protocol, self.endpoint
            )
        }
    }
}

/// Whether the last export reached the collector, so that a failure is said
/// once (and its end once) rather than at every batch.
#[derive(Debug)]
struct Delivery {
    service: String,
    endpoint: String,
    failing: AtomicBool,
}

impl Delivery {
    fn report(&self, signal: &str, result: &OTelSdkResult) {
        match result {
            Ok(()) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(
                        service = %self.service,
                        "telemetry is being delivered to {} again",
                        self.endpoint
                    );
                }
            }
            Err(error) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        service = %self.service,
                        "{signal} are not being delivered to {} ({error}); the service keeps answering, \
                         and says so here when delivery resumes. Is a collector listening there \
                         (tracelab up, or tracelab collector)?",
                        self.endpoint
                    );
                }
            }
        }
    }
}

/// An OTLP exporter with its deliveries watched; gRPC exports run on the
/// process's tokio runtime (see the module's docs).
#[derive(Debug)]
struct Exporter<E> {
    inner: E,
    /// `Some` for gRPC, whose transport needs a reactor.
    runtime: Option<Handle>,
    delivery: Arc<Delivery>,
    signal: &'static str,
}

/// Everything of an [`Exporter`] but the exporter it wraps.
struct ExporterParts {
    runtime: Option<Handle>,
    delivery: Arc<Delivery>,
    signal: &'static str,
}

impl ExporterParts {
    fn around<E>(self, inner: E) -> Exporter<E> {
        Exporter {
            inner,
            runtime: self.runtime,
            delivery: self.delivery,
            signal: self.signal,
        }
    }
}

impl<E> Exporter<E> {
    /// Runs an export future: on the runtime for gRPC (the batch threads are
    /// not runtime threads, so `block_on` is allowed there), in place
    /// otherwise; and reports the result.
    fn run(&self, export: impl std::future::Future<Output = OTelSdkResult>) -> OTelSdkResult {
        let result = match &self.runtime {
            Some(runtime) => runtime.block_on(export),
            None => futures_executor::block_on(export),
        };
        self.delivery.report(self.signal, &result);
        result
    }
}

impl<E: SpanExporter> SpanExporter for Exporter<E> {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.run(self.inner.export(batch)))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: LogExporter> LogExporter for Exporter<E> {
    fn export(
        &self,
        batch: LogBatch<'_>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.run(self.inner.export(batch)))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: PushMetricExporter> PushMetricExporter for Exporter<E> {
    fn export(
        &self,
        metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        std::future::ready(self.run(self.inner.export(metrics)))
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

/// One service's OpenTelemetry: its three providers, and the instruments the
/// HTTP layer records into.
pub struct ServiceOtel {
    pub service: Service,
    /// The `service.name` its resource carries.
    pub name: String,
    tracer_provider: SdkTracerProvider,
    logger_provider: SdkLoggerProvider,
    meter_provider: SdkMeterProvider,
    logger: SdkLogger,
    request_duration: Histogram<f64>,
    /// Made once: see [`ServiceOtel::telemetry`].
    telemetry: Telemetry,
    /// `None` in memory (tests), where nothing is delivered anywhere.
    delivery: Option<Arc<Delivery>>,
}

impl fmt::Debug for ServiceOtel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceOtel")
            .field("service", &self.service)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ServiceOtel {
    /// Starts the providers for `service`; `None` when the SDK is disabled.
    /// `alone` says the process runs this one service, so `OTEL_SERVICE_NAME`
    /// names it (in `tracelab up`, each part keeps its own name).
    pub fn start(
        service: Service,
        settings: &OtelSettings,
        alone: bool,
        runtime: &Handle,
    ) -> Result<Option<ServiceOtel>, String> {
        if settings.disabled {
            return Ok(None);
        }
        let name = match (&settings.service_name, alone) {
            (Some(name), true) => name.clone(),
            _ => service.name().to_owned(),
        };
        // `Resource::builder()` runs the SDK's detectors, which read
        // OTEL_RESOURCE_ATTRIBUTES; the name set here wins over theirs.
        let resource = Resource::builder()
            .with_service_name(name.clone())
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        let delivery = Arc::new(Delivery {
            service: name.clone(),
            endpoint: settings.endpoint.clone(),
            failing: AtomicBool::new(false),
        });
        let grpc = settings.protocol == OtlpProtocol::Grpc;
        let wrap = |signal: &'static str| ExporterParts {
            runtime: grpc.then(|| runtime.clone()),
            delivery: delivery.clone(),
            signal,
        };
        // Building a tonic channel needs the runtime's context.
        let _entered = runtime.enter();
        let endpoint = |suffix: &str| match settings.protocol {
            OtlpProtocol::Grpc => settings.endpoint.clone(),
            OtlpProtocol::HttpProtobuf => {
                format!("{}/v1/{suffix}", settings.endpoint.trim_end_matches('/'))
            }
        };
        let build_error = |signal: &str, error: &dyn fmt::Display| {
            format!("cannot build the OTLP {signal} exporter for {name}: {error}")
        };

        let tracer_provider = SdkTracerProvider::builder().with_resource(resource.clone());
        let tracer_provider = if !settings.export_traces {
            tracer_provider.build()
        } else {
            let spans = if grpc {
                opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(endpoint("traces"))
                    .build()
            } else {
                opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_protocol(Protocol::HttpBinary)
                    .with_endpoint(endpoint("traces"))
                    .build()
            }
            .map_err(|error| build_error("span", &error))?;
            tracer_provider
                .with_batch_exporter(wrap("spans").around(spans))
                .build()
        };

        let logger_provider = SdkLoggerProvider::builder().with_resource(resource.clone());
        let logger_provider = if !settings.export_logs {
            logger_provider.build()
        } else {
            let logs = if grpc {
                opentelemetry_otlp::LogExporter::builder()
                    .with_tonic()
                    .with_endpoint(endpoint("logs"))
                    .build()
            } else {
                opentelemetry_otlp::LogExporter::builder()
                    .with_http()
                    .with_protocol(Protocol::HttpBinary)
                    .with_endpoint(endpoint("logs"))
                    .build()
            }
            .map_err(|error| build_error("log", &error))?;
            logger_provider
                .with_batch_exporter(wrap("logs").around(logs))
                .build()
        };

        let meter_provider = SdkMeterProvider::builder().with_resource(resource);
        let meter_provider = if !settings.export_metrics {
            meter_provider.build()
        } else {
            let metrics = if grpc {
                opentelemetry_otlp::MetricExporter::builder()
                    .with_tonic()
                    .with_endpoint(endpoint("metrics"))
                    .build()
            } else {
                opentelemetry_otlp::MetricExporter::builder()
                    .with_http()
                    .with_protocol(Protocol::HttpBinary)
                    .with_endpoint(endpoint("metrics"))
                    .build()
            }
            .map_err(|error| build_error("metric", &error))?;
            meter_provider
                .with_reader(
                    PeriodicReader::builder(wrap("metrics").around(metrics))
                        .with_interval(Duration::from_secs(10))
                        .build(),
                )
                .build()
        };

        Ok(Some(ServiceOtel::assemble(
            service,
            name,
            tracer_provider,
            logger_provider,
            meter_provider,
            settings.propagate,
            Some(delivery),
        )))
    }

    /// A service whose spans go to `sink` as they end (the simulation's
    /// exporter, behind the simple processor), with random ids and no log
    /// or metric export: for tests that compare native spans with simulated
    /// ones.
    pub fn in_memory(service: Service, sink: tracelab_demo::telemetry::SpanSink) -> ServiceOtel {
        let tracer_provider = SdkTracerProvider::builder()
            .with_resource(tracelab_demo::telemetry::resource(service))
            .with_simple_exporter(tracelab_demo::telemetry::MemoryExporter::new(service, sink))
            .build();
        ServiceOtel::assemble(
            service,
            service.name().to_owned(),
            tracer_provider,
            SdkLoggerProvider::builder().build(),
            SdkMeterProvider::builder().build(),
            true,
            None,
        )
    }

    fn assemble(
        service: Service,
        name: String,
        tracer_provider: SdkTracerProvider,
        logger_provider: SdkLoggerProvider,
        meter_provider: SdkMeterProvider,
        propagate: bool,
        delivery: Option<Arc<Delivery>>,
    ) -> ServiceOtel {
        let scope = tracelab_demo::telemetry::SCOPE_NAME;
        let logger = logger_provider.logger(scope);
        let request_duration = meter_provider
            .meter(scope)
            .f64_histogram("http.server.request.duration")
            .with_unit("s")
            .with_description("Duration of HTTP server requests.")
            .build();
        let mut telemetry = Telemetry::new(service, &tracer_provider);
        telemetry.propagates = propagate;
        ServiceOtel {
            service,
            name,
            tracer_provider,
            logger_provider,
            meter_provider,
            logger,
            request_duration,
            telemetry,
            delivery,
        }
    }

    /// The demo's tracing for this service, through this provider: a copy
    /// of one made at start (a tracer is cheap to copy, costly to make).
    pub fn telemetry(&self) -> Telemetry {
        self.telemetry.clone()
    }

    /// Records one request in the `http.server.request.duration` histogram
    /// (its count is the request count), by route, method and status.
    /// A request that matched no route has no `http.route`.
    pub fn record_request(
        &self,
        route: Option<&'static str>,
        method: &str,
        status: u16,
        seconds: f64,
    ) {
        let mut attributes = vec![
            KeyValue::new("http.request.method", method.to_owned()),
            KeyValue::new("http.response.status_code", i64::from(status)),
        ];
        if let Some(route) = route {
            attributes.push(KeyValue::new("http.route", route));
        }
        self.request_duration.record(seconds, &attributes);
    }

    /// Sends one log line over OTLP with the trace and span ids of `cx`'s
    /// span, so that a trace UI shows it on that span.
    pub fn log(&self, cx: &Context, severity: Severity, message: String) {
        let mut record = self.logger.create_log_record();
        record.set_severity_number(severity);
        record.set_severity_text(severity.name());
        record.set_body(AnyValue::from(message));
        let span = cx.span();
        let span_context = span.span_context();
        if span_context.is_valid() {
            record.set_trace_context(
                span_context.trace_id(),
                span_context.span_id(),
                Some(span_context.trace_flags()),
            );
        }
        self.logger.emit(record);
    }

    /// Exports everything finished and stops the providers. Blocks (the
    /// batch threads flush), so async callers run it with `spawn_blocking`.
    pub fn shutdown(&self) {
        for (what, result) in [
            ("spans", self.tracer_provider.shutdown()),
            ("logs", self.logger_provider.shutdown()),
            ("metrics", self.meter_provider.shutdown()),
        ] {
            // When delivery is already known to fail, that was said once;
            // the last flush failing too is no news.
            let failing = self
                .delivery
                .as_ref()
                .is_some_and(|delivery| delivery.failing.load(Ordering::Relaxed));
            if let (Err(error), false) = (result, failing) {
                tracing::warn!(service = %self.name, "could not flush the last {what}: {error}");
            }
        }
    }

    /// Exports the finished spans now (the client does before it exits).
    pub fn flush(&self) {
        if let Err(error) = self.tracer_provider.force_flush() {
            tracing::warn!(service = %self.name, "could not flush spans: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<OtelSettings, String> {
        OtelSettings::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn defaults_are_grpc_to_localhost_4317() {
        let read = settings(&[]).expect("no variable is fine");
        assert_eq!(read.protocol, OtlpProtocol::Grpc);
        assert_eq!(read.endpoint, "http://localhost:4317");
        assert!(!read.disabled);
        assert!(read.propagate);
    }

    #[test]
    fn the_standard_variables_are_honoured() {
        let read = settings(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_SDK_DISABLED", "TRUE"),
            ("OTEL_PROPAGATORS", "tracecontext,b3"),
            ("OTEL_SERVICE_NAME", "my-bands"),
        ])
        .expect("valid");
        assert_eq!(read.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(read.endpoint, "http://localhost:4318");
        assert!(read.disabled);
        assert_eq!(read.service_name.as_deref(), Some("my-bands"));
        assert!(read.notes[0].contains("b3"), "{:?}", read.notes);
        let none = settings(&[("OTEL_PROPAGATORS", "none")]).expect("valid");
        assert!(!none.propagate);
        let traces_endpoint = settings(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:1"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:2"),
        ])
        .expect("valid");
        assert_eq!(traces_endpoint.endpoint, "http://b:2");
    }

    #[test]
    fn unusable_values_are_errors_that_name_the_variable() {
        let error = settings(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]).unwrap_err();
        assert!(error.contains("OTEL_EXPORTER_OTLP_PROTOCOL"), "{error}");
        assert!(error.contains("http/protobuf"), "{error}");
        let error = settings(&[("OTEL_SDK_DISABLED", "yes")]).unwrap_err();
        assert!(error.contains("OTEL_SDK_DISABLED"), "{error}");
        let error = settings(&[("OTEL_LOGS_EXPORTER", "console")]).unwrap_err();
        assert!(error.contains("OTEL_LOGS_EXPORTER"), "{error}");
        let none = settings(&[("OTEL_LOGS_EXPORTER", "none")]).expect("valid");
        assert!(!none.export_logs && none.export_traces && none.export_metrics);
    }
}
