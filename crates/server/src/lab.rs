//! `tracelab up`, `tracelab bands`, `tracelab reviews` and `tracelab
//! collector`: the demo's services and the embedded collector with its
//! store and UI, started from the command line's options, stopped by Ctrl-C
//! or SIGTERM after every finished span is flushed and stored.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderValue;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracelab_demo::{lesson, Endpoint, ReviewsDb, Service, Switches, Topology};

use crate::cli::{CollectorArgs, DataArgs, LabArgs};
use crate::collector::{self, Receiver, ReceiverLimits};
use crate::native::{HttpTransport, SqliteReviews, SystemClock};
use crate::otel::{OtelSettings, ServiceOtel};
use crate::serve::{self, Limits};
use crate::services::{self, Lab, ServiceApp, Switchboard};
use crate::ui::{self, AppFiles, UiState};

/// `host:port` as an [`Endpoint`], or an error naming the option.
pub fn endpoint(option: &str, text: &str) -> Result<Endpoint, String> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{option} {text:?} is not HOST:PORT (such as 127.0.0.1:8000)"))?;
    let port: u16 = port.parse().map_err(|_| {
        format!("{option} {text:?}: the port {port:?} is not a number from 0 to 65535")
    })?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{option} {text:?} names no host"));
    }
    Ok(Endpoint::new(host, port))
}

/// The switches a lab starts with: the step's preset, then each `--switch`.
pub fn starting_switches(args: &LabArgs) -> Result<Switches, String> {
    let mut switches = lesson::step(args.step)
        .map(|step| step.switches())
        .ok_or_else(|| format!("--step {}: the lesson has steps 1 to 6", args.step))?;
    for text in &args.switches {
        let (name, value) = text.split_once('=').ok_or_else(|| {
            format!("--switch {text:?} is not NAME=VALUE (such as pause-bands=false)")
        })?;
        let name = name.trim();
        let value = match (name, value.trim()) {
            // Its values read as words even when they are digits ("500").
            (Switches::FAIL_REVIEWS_KEY, other) => serde_json::Value::String(other.to_owned()),
            (_, "true" | "on") => serde_json::Value::Bool(true),
            (_, "false" | "off") => serde_json::Value::Bool(false),
            (_, other) => match other.parse::<u64>() {
                Ok(number) => serde_json::Value::from(number),
                Err(_) => serde_json::Value::String(other.to_owned()),
            },
        };
        let mut one = serde_json::Map::new();
        one.insert(name.to_owned(), value);
        switches
            .apply_json(&serde_json::Value::Object(one))
            .map_err(|error| format!("--switch {text:?}: {error}"))?;
    }
    Ok(switches)
}

/// Where the data directory is: the option (or `TRACELAB_DATA_DIR`), else
/// the user's data directory (`$XDG_DATA_HOME/tracelab`, or
/// `~/.local/share/tracelab`).
pub fn data_dir(args: &DataArgs) -> Option<PathBuf> {
    if args.in_memory {
        return None;
    }
    if let Some(dir) = &args.data_dir {
        return Some(dir.clone());
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    Some(base.join("tracelab"))
}

/// The browser origins allowed to call the services: the UI's, written
/// both with `localhost` and `127.0.0.1`, since a person may open either.
fn cors_origins(ui_url: &str) -> Vec<HeaderValue> {
    let origin = ui_url.trim_end_matches('/');
    let mut origins = vec![origin.to_owned()];
    if origin.contains("://localhost") {
        origins.push(origin.replacen("://localhost", "://127.0.0.1", 1));
    } else if origin.contains("://127.0.0.1") {
        origins.push(origin.replacen("://127.0.0.1", "://localhost", 1));
    }
    origins
        .into_iter()
        .filter_map(|origin| HeaderValue::from_str(&origin).ok())
        .collect()
}

/// A tokio runtime on threads of its own, for the work of a process that
/// comes in large batches: the exporters encoding a batch of spans, and in
/// `tracelab up` the collector decoding and storing one. Off the runtime
/// that serves the demo's requests, that work no longer holds a request
/// worker for a whole batch, and the traced chain served 7 to 13% more
/// requests a second for 8 to 12% less CPU each (BENCHMARKS.md, "The native
/// chain"). The runtime's threads are named, so a profile or
/// `/proc/PID/task` tells whose CPU is whose.
pub struct SideRuntime(Option<tokio::runtime::Runtime>);

impl SideRuntime {
    /// A multi-threaded runtime of `workers` threads named `name` (at most
    /// 15 bytes, Linux's limit for a thread's name).
    pub fn new(name: &str, workers: usize) -> Result<SideRuntime, String> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(name)
            .enable_all()
            .build()
            .map(|runtime| SideRuntime(Some(runtime)))
            .map_err(|error| format!("cannot start the {name} runtime: {error}"))
    }

    pub fn handle(&self) -> Option<&tokio::runtime::Handle> {
        self.0.as_ref().map(tokio::runtime::Runtime::handle)
    }
}

impl Drop for SideRuntime {
    /// Dropped from async code too, where a runtime may not block: whoever
    /// owns it has already waited for what must finish (the servers'
    /// requests in flight, the exporters' last flush).
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Where the services' telemetry goes.
pub enum Export {
    /// OTLP, as the environment's variables say.
    Otlp(OtelSettings),
    /// Spans into a shared list, as the simulation keeps them (tests).
    Memory(tracelab_demo::telemetry::SpanSink),
}

/// The services of one process, bound and ready to serve.
pub struct RunningLab {
    /// The address each service really listens on (a port 0 in the options
    /// is a free port chosen by the system).
    pub addrs: Vec<(Service, SocketAddr)>,
    /// Where everything is, with the real ports.
    pub topology: Topology,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    otel: Vec<Arc<ServiceOtel>>,
    /// Where the OTLP exporters' gRPC calls run; after `otel` in the
    /// struct so that it outlives their last flush.
    export_runtime: Option<SideRuntime>,
}

impl RunningLab {
    /// Binds and starts `which` of the services, exporting as the
    /// environment says.
    pub async fn start(
        which: &[Service],
        args: &LabArgs,
        data: &DataArgs,
    ) -> Result<RunningLab, String> {
        let settings = OtelSettings::from_env()?;
        for note in &settings.notes {
            tracing::warn!("{note}");
        }
        Self::start_with(which, args, data, Export::Otlp(settings)).await
    }

    /// [`RunningLab::start`] with the spans going where `export` says.
    pub async fn start_with(
        which: &[Service],
        args: &LabArgs,
        data: &DataArgs,
        export: Export,
    ) -> Result<RunningLab, String> {
        let switches = starting_switches(args)?;
        let mut topology = Topology {
            bands: endpoint("--bands-addr", &args.bands_addr)?,
            reviews: endpoint("--reviews-addr", &args.reviews_addr)?,
            trace_ui: args.ui_url.trim_end_matches('/').to_owned(),
        };
        // Bind first, so that a port 0 becomes a real one before anything
        // (a span's server.port, the other service's calls) names it.
        let mut listeners = Vec::new();
        for &service in which {
            let wanted = match topology.endpoint(service) {
                Some(endpoint) => endpoint.authority(),
                None => continue,
            };
            let listener = serve::bind(&wanted, service.name()).await?;
            let local = listener
                .local_addr()
                .map_err(|error| format!("{service} has no local address: {error}"))?;
            if let Some(endpoint) = match service {
                Service::Bands => Some(&mut topology.bands),
                Service::Reviews => Some(&mut topology.reviews),
                Service::Client => None,
            } {
                endpoint.port = local.port();
            }
            listeners.push((service, listener, local));
        }
        let lab = Lab {
            transport: HttpTransport::new(topology.clone())?,
            topology,
            clock: SystemClock,
            switches: Switchboard::new(switches),
            cors_origins: cors_origins(&args.ui_url),
        };
        let reviews_db: Arc<dyn ReviewsDb> =
            Arc::new(SqliteReviews::open(data_dir(data).as_deref())?);
        let export_runtime = match &export {
            Export::Otlp(settings) if !settings.disabled => {
                Some(SideRuntime::new("otel-export", 1)?)
            }
            _ => None,
        };
        let runtime = export_runtime
            .as_ref()
            .and_then(SideRuntime::handle)
            .cloned()
            .unwrap_or_else(tokio::runtime::Handle::current);
        let alone = which.len() == 1;
        let (stop, stopped) = watch::channel(false);
        let started_unix_nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
            });
        let mut running = RunningLab {
            addrs: Vec::new(),
            topology: lab.topology.clone(),
            stop,
            tasks: Vec::new(),
            otel: Vec::new(),
            export_runtime,
        };
        for (service, listener, local) in listeners {
            let otel = match &export {
                Export::Otlp(settings) => ServiceOtel::start(service, settings, alone, &runtime)?,
                Export::Memory(sink) => Some(ServiceOtel::in_memory(service, sink.clone())),
            }
            .map(Arc::new);
            if let Some(otel) = &otel {
                running.otel.push(otel.clone());
            }
            let app = Arc::new(ServiceApp {
                service,
                lab: lab.clone(),
                otel,
                reviews_db: Some(reviews_db.clone()),
                started_unix_nanos,
            });
            running.addrs.push((service, local));
            running
                .tasks
                .push(spawn(listener, services::router(app), stopped.clone()));
        }
        match &export {
            Export::Otlp(settings) => tracing::info!("{}", settings.describe()),
            Export::Memory(_) => tracing::info!("OpenTelemetry: spans kept in memory"),
        }
        Ok(running)
    }

    /// Stops accepting, lets requests in flight finish, then flushes and
    /// stops every service's OpenTelemetry.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        let otel = self.otel;
        // Shutting the providers down blocks while their threads export.
        let _ = tokio::task::spawn_blocking(move || {
            for otel in otel {
                otel.shutdown();
            }
        })
        .await;
        drop(self.export_runtime);
    }
}

fn spawn(
    listener: TcpListener,
    router: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(serve::serve(
        listener,
        router,
        Limits::default(),
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        },
    ))
}

/// The embedded collector: the OTLP receivers, the span store and the UI
/// with the query API, bound and serving.
pub struct RunningCollector {
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub ui_addr: SocketAddr,
    pub store: Arc<tracelab_store::Store>,
    /// Set once the services beside it listen (see [`RunningCollector::announce`]).
    services: Arc<std::sync::OnceLock<Vec<ui::LabService>>>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The runtime it serves on when it shares the process with the
    /// services (see [`RunningCollector::start_apart`]).
    runtime: Option<SideRuntime>,
}

impl RunningCollector {
    /// [`RunningCollector::start`] on a runtime of its own (one worker
    /// thread, named `collector`, and its blocking pool), as `tracelab up`
    /// runs it beside the services: decoding and storing a batch of spans
    /// then never holds up a thread that serves the demo's requests.
    pub async fn start_apart(
        args: &CollectorArgs,
        data: &DataArgs,
    ) -> Result<RunningCollector, String> {
        let runtime = SideRuntime::new("collector", 1)?;
        let handle = runtime
            .handle()
            .cloned()
            .ok_or("the collector's runtime is gone")?;
        let (args, data) = (args.clone(), data.clone());
        let mut collector = handle
            .spawn(async move { RunningCollector::start(&args, &data).await })
            .await
            .map_err(|error| format!("the collector failed to start: {error}"))??;
        collector.runtime = Some(runtime);
        Ok(collector)
    }

    /// Opens the store and binds the three ports.
    pub async fn start(args: &CollectorArgs, data: &DataArgs) -> Result<RunningCollector, String> {
        let retention = tracelab_store::Retention {
            max_age: parse_age("--max-age", &args.max_age)?,
            max_bytes: parse_size("--max-size", &args.max_size)?,
        };
        let max_body = parse_size("--max-body", &args.max_body)?
            .ok_or("--max-body must be a size such as 20MiB; the collector needs a limit")?;
        let store = match data_dir(data) {
            Some(dir) => tracelab_store::Store::open(&dir.join("traces.db")),
            None => tracelab_store::Store::open_in_memory(),
        }
        .map_err(|error| error.to_string())?
        .with_retention(retention);
        let store = Arc::new(store);
        let app = match &args.ui_dir {
            Some(dir) => AppFiles::Dir(dir.clone()),
            None => AppFiles::Embedded,
        };
        if !app.available() {
            tracing::warn!(
                "this tracelab was built without the app: the query API answers on /api/, \
                 but there is no UI (build it with `trunk build --release` and rebuild tracelab, \
                 or pass --ui-dir)"
            );
        }
        let mut receiver = Receiver::new(
            store.clone(),
            ReceiverLimits {
                max_body_bytes: usize::try_from(max_body).unwrap_or(usize::MAX),
                ..ReceiverLimits::default()
            },
        );
        let live = Arc::new(ui::live::LiveFeed::default());
        receiver = receiver.with_live_feed(live.clone());
        let mut forward_stats = None;
        if let Some(target) = &args.forward {
            let forwarder = collector::forward::Forwarder::start(target)?;
            tracing::info!("forwarding everything received to {target} (OTLP/HTTP protobuf)");
            forward_stats = Some((target.clone(), forwarder.stats.clone()));
            receiver = receiver.with_forwarder(forwarder);
        }
        let grpc = serve::bind(&args.otlp_grpc_addr, "OTLP/gRPC").await?;
        let http = serve::bind(&args.otlp_http_addr, "OTLP/HTTP").await?;
        let ui_listener = serve::bind(&args.ui_addr, "the UI").await?;
        let local = |listener: &TcpListener, what: &str| {
            listener
                .local_addr()
                .map_err(|error| format!("{what} has no local address: {error}"))
        };
        let (grpc_addr, http_addr, ui_addr) = (
            local(&grpc, "OTLP/gRPC")?,
            local(&http, "OTLP/HTTP")?,
            local(&ui_listener, "the UI")?,
        );
        let (stop, stopped) = watch::channel(false);
        let services: Arc<std::sync::OnceLock<Vec<ui::LabService>>> = Arc::default();
        let tasks = vec![
            spawn(
                grpc,
                collector::grpc::router(receiver.clone()),
                stopped.clone(),
            ),
            spawn(
                http,
                collector::http::router(receiver.clone()),
                stopped.clone(),
            ),
            spawn(
                ui_listener,
                ui::router(UiState {
                    store: store.clone(),
                    app,
                    forward: forward_stats,
                    live: live.clone(),
                    services: services.clone(),
                })
                // OTLP/HTTP on the UI's port too: the app exports the spans
                // of the calls it makes from the browser to its own origin,
                // which needs no CORS and no second port open to pages.
                .merge(collector::http::router(receiver)),
                stopped.clone(),
            ),
            tokio::spawn(live.run(store.clone(), stopped.clone())),
            tokio::spawn(enforce_retention(store.clone(), stopped)),
        ];
        tracing::info!("{}", store.describe_limits());
        Ok(RunningCollector {
            grpc_addr,
            http_addr,
            ui_addr,
            store,
            services,
            stop,
            tasks,
            runtime: None,
        })
    }

    /// Tells the UI where the demo's services listen, so that the Live page
    /// can call them and flip their switches. The first call counts.
    pub fn announce(&self, topology: &Topology, which: &[Service]) {
        let services = which
            .iter()
            .filter_map(|&service| {
                let endpoint = topology.endpoint(service)?;
                Some(ui::LabService {
                    name: service.name().to_owned(),
                    url: endpoint.base_url(),
                    host: endpoint.host.clone(),
                    port: endpoint.port,
                })
            })
            .collect();
        let _ = self.services.set(services);
    }

    /// Stops accepting; requests in flight are answered (and their data
    /// committed) first.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        drop(self.runtime);
    }
}

/// How often retention runs.
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Evicts what the store's retention no longer allows, once a minute.
async fn enforce_retention(store: Arc<tracelab_store::Store>, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(RETENTION_EVERY) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
        let store = store.clone();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
            });
        match tokio::task::spawn_blocking(move || store.enforce_retention(now)).await {
            Ok(Ok(report)) if report.traces_evicted > 0 => tracing::info!(
                "retention evicted {} traces ({} spans)",
                report.traces_evicted,
                report.spans_evicted
            ),
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!("retention could not run: {error}"),
            Err(error) => tracing::warn!("retention's task failed: {error}"),
        }
    }
}

/// `72h`, `30m`, `7d`, `90s`, or `none`.
pub fn parse_age(option: &str, text: &str) -> Result<Option<std::time::Duration>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let bad = || format!("{option} {text:?} is not an age such as 30m, 12h or 7d (or none)");
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    Ok(Some(std::time::Duration::from_secs(
        number.saturating_mul(seconds),
    )))
}

/// `500MB`, `2GiB`, `64KiB`, `1000000` (bytes), or `none`.
pub fn parse_size(option: &str, text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let bad = || format!("{option} {text:?} is not a size such as 500MB, 2GiB or 64KiB (or none)");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return Err(bad()),
    };
    Ok(Some(number.saturating_mul(factor)))
}

/// Runs `which` of the services, and the collector when `collector` is
/// given, until Ctrl-C or SIGTERM.
pub async fn run(
    which: &[Service],
    args: Option<&LabArgs>,
    data: &DataArgs,
    collector: Option<&CollectorArgs>,
) -> Result<(), String> {
    let embedded = match (collector, args) {
        // Beside the services, on threads of its own.
        (Some(collector), Some(_)) => Some(RunningCollector::start_apart(collector, data).await?),
        (Some(collector), None) => Some(RunningCollector::start(collector, data).await?),
        (None, _) => None,
    };
    // The app the collector serves is where the services' trace links
    // point and the origin allowed to call them, unless --ui-url says
    // otherwise: with `--ui-addr 127.0.0.1:0` only the bound port is true.
    let args = args.map(|args| {
        let mut args = args.clone();
        if let (Some(embedded), true) = (&embedded, args.ui_url == crate::cli::DEFAULT_UI_URL) {
            args.ui_url = format!("http://{}", embedded.ui_addr);
        }
        args
    });
    let lab = match &args {
        Some(args) => {
            let mut settings = OtelSettings::from_env()?;
            for note in &settings.notes {
                tracing::warn!("{note}");
            }
            if let (Some(embedded), false) = (&embedded, settings.endpoint_from_env) {
                // The services report to the collector beside them.
                settings.endpoint = match settings.protocol {
                    crate::otel::OtlpProtocol::Grpc => format!("http://{}", embedded.grpc_addr),
                    crate::otel::OtlpProtocol::HttpProtobuf => {
                        format!("http://{}", embedded.http_addr)
                    }
                };
            }
            Some(RunningLab::start_with(which, args, data, Export::Otlp(settings)).await?)
        }
        None => None,
    };
    if let Some(lab) = &lab {
        for (service, addr) in &lab.addrs {
            tracing::info!(service = service.name(), "listening on http://{addr}");
        }
        if let Some(embedded) = &embedded {
            embedded.announce(&lab.topology, which);
        }
    }
    if let Some(embedded) = &embedded {
        tracing::info!(
            "OTLP/gRPC on {}, OTLP/HTTP on http://{}",
            embedded.grpc_addr,
            embedded.http_addr
        );
        tracing::info!("UI and query API on http://{}/", embedded.ui_addr);
    }
    match data_dir(data) {
        Some(dir) => tracing::info!("data directory: {}", dir.display()),
        None => tracing::info!("data kept in memory (--in-memory)"),
    }
    if which.contains(&Service::Bands) {
        tracing::info!("try: tracelab call   (then open the trace link it prints)");
    }
    serve::shutdown_signal().await;
    tracing::info!("stopping: finishing requests in flight and flushing spans");
    // The services first, so their last spans reach the collector.
    if let Some(lab) = lab {
        lab.stop().await;
    }
    if let Some(embedded) = embedded {
        embedded.stop().await;
    }
    tracing::info!("stopped");
    Ok(())
}
