//! What `decode` makes of pasted text that is not one clean header block
//! (issues 19 and 21): a bare traceparent among other lines, other systems'
//! headers, a misspelt name, a tracestate in a log line, and messages that
//! quote the input as a person reads it. Uses only `decode`'s report, so the
//! same checks hold for the Decode page and `tracelab decode`.

use tracelab_context::{decode, Action, RandomIds};

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn a_bare_traceparent_is_found_when_other_lines_are_present() {
    let decoded = decode(
        &format!("{TP}\ntracestate: rojo=00f067aa0ba902b7"),
        &mut RandomIds,
    );
    let report = decoded
        .traceparent
        .as_ref()
        .expect("the bare line is the traceparent");
    assert!(report.is_valid());
    assert_eq!(decoded.decision.action, Action::Continue);
    assert_eq!(
        decoded
            .decision
            .tracestate
            .as_ref()
            .map(|t| t.to_string())
            .as_deref(),
        Some("rojo=00f067aa0ba902b7")
    );
}

#[test]
fn other_systems_headers_are_never_blamed_for_traceparent_rules() {
    for text in [
        "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
        "uber-trace-id: 4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1",
        "traceparant: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "sentry-trace: 771a43a4192642f0b136d5159a501700-b3ad1e2bc3da4b4e-1",
        "x-datadog-trace-id: 11803532876627986230\nx-datadog-parent-id: 67667974448284343",
        "INFO done trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    ] {
        let decoded = decode(text, &mut RandomIds);
        assert!(
            decoded.traceparent.is_none(),
            "{text}: read as a traceparent: {:?}",
            decoded.traceparent.map(|r| r.violations)
        );
        assert!(!decoded.found.others.is_empty(), "{text}: recognised");
        assert_eq!(decoded.decision.action, Action::Restart, "{text}");
    }
}

#[test]
fn a_log_line_tracestate_keeps_every_member() {
    let decoded = decode(
        &format!("traceparent={TP} tracestate=rojo=1, congo=2"),
        &mut RandomIds,
    );
    assert_eq!(decoded.tracestate_value.as_deref(), Some("rojo=1, congo=2"));
    assert_eq!(
        decoded
            .decision
            .tracestate
            .as_ref()
            .map(|t| t.to_string())
            .as_deref(),
        Some("rojo=1,congo=2")
    );
}

#[test]
fn messages_quote_what_was_pasted_without_rust_escapes() {
    let messages = |text: &str| -> Vec<String> {
        decode(text, &mut RandomIds)
            .traceparent
            .map(|r| r.violations.iter().map(|v| v.message.to_string()).collect())
            .unwrap_or_default()
    };
    let quoted = messages(&format!("\"{TP}\""));
    assert!(
        quoted[0].starts_with("version '\"00' has 3 characters; it needs 2"),
        "{quoted:?}"
    );
    let nbsp = messages(&format!("\u{a0}{TP}"));
    assert!(
        nbsp[0].starts_with("version '00' (a no-break space, U+00A0, before 00) is 4 bytes long"),
        "{nbsp:?}"
    );
    for message in quoted.iter().chain(&nbsp) {
        assert!(!message.contains('\\'), "{message}");
    }
}
