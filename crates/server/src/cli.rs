//! The command line, declared with clap.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// tracelab: a lab for learning and debugging distributed tracing.
#[derive(Debug, Parser)]
#[command(name = "tracelab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode W3C traceparent/tracestate headers and say what a receiver does with them.
    ///
    /// Reads the TEXT arguments (each one a line), or stdin when there are none.
    /// Accepts a bare traceparent value, `traceparent: …` / `tracestate: …` lines,
    /// a block of HTTP headers, `curl -v` output, a log line with
    /// `traceparent=…`, or a JSON object.
    ///
    /// Exit status: 0 when every header found is valid, 1 when one is invalid,
    /// 2 for usage errors or when no header is found.
    #[command(after_help = "Examples:\n  \
        tracelab decode 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n  \
        curl -sv http://localhost:8000/bands/1 2>&1 | tracelab decode\n  \
        tracelab decode --json 'traceparent: 00-…' 'tracestate: rojo=1'")]
    Decode(DecodeArgs),
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Header text; several arguments are read as several lines. Reads stdin when absent.
    #[arg(value_name = "TEXT")]
    pub text: Vec<String>,

    /// Print one JSON object (a stable interface) instead of the report.
    #[arg(long)]
    pub json: bool,

    /// When to colour the report.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}
