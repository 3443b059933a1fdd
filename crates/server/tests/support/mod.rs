//! A `tracelab` process for the integration tests: started with the
//! arguments a test gives, on free ports (`127.0.0.1:0`), with its log read
//! until it has said where each part listens, and killed when dropped.
//! One copy of that start-up for every test that runs the binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the parts of a running `tracelab` listen, as its log says.
#[derive(Debug, Default)]
pub struct Announced {
    pub grpc: Option<String>,
    pub http: Option<String>,
    /// The UI and query API, `host:port`.
    pub ui: Option<String>,
    pub bands: Option<String>,
}

impl Announced {
    /// Notes what one line of the log says.
    fn read(&mut self, line: &str) {
        if let Some(rest) = line.split("OTLP/gRPC on ").nth(1) {
            let mut parts = rest.split(", OTLP/HTTP on http://");
            self.grpc = parts.next().map(|addr| addr.trim().to_owned());
            self.http = parts.next().map(|addr| addr.trim().to_owned());
        }
        if let Some(rest) = line.split("UI and query API on http://").nth(1) {
            self.ui = Some(rest.trim().trim_end_matches('/').to_owned());
        }
        if line.contains("bands-api") {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                self.bands = rest.split_whitespace().next().map(str::to_owned);
            }
        }
    }
}

/// A running `tracelab`, killed when dropped.
pub struct Tracelab {
    pub child: Child,
    pub announced: Announced,
}

impl Tracelab {
    /// Runs `tracelab` with `args` and reads its log until `ready` says
    /// enough was announced (or 30 s pass; the caller's `expect` then says
    /// what is missing). The log keeps being read, so the process never
    /// blocks on a full pipe.
    pub fn start(args: &[&std::ffi::OsStr], ready: impl Fn(&Announced) -> bool) -> Tracelab {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tracelab"))
            .args(args)
            .env("TRACELAB_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tracelab starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let mut announced = Announced::default();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready(&announced) && Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            announced.read(&line);
        }
        std::thread::spawn(move || for _ in lines {});
        Tracelab { child, announced }
    }
}

impl Tracelab {
    /// `tracelab collector` on free ports (gRPC, HTTP and the UI, each
    /// unless `extra` names its address) with `extra` options (say
    /// `--in-memory` or `--data-dir`), once it has said where each listens.
    #[allow(dead_code, reason = "not every test runs a collector")]
    pub fn collector(extra: &[&std::ffi::OsStr]) -> Tracelab {
        let mut args = vec![std::ffi::OsStr::new("collector")];
        for option in ["--otlp-grpc-addr", "--otlp-http-addr", "--ui-addr"] {
            if !extra.iter().any(|arg| *arg == option) {
                args.push(std::ffi::OsStr::new(option));
                args.push(std::ffi::OsStr::new("127.0.0.1:0"));
            }
        }
        args.extend(extra.iter().copied());
        Tracelab::start(&args, |announced| {
            announced.grpc.is_some() && announced.http.is_some() && announced.ui.is_some()
        })
    }
}

impl Drop for Tracelab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
