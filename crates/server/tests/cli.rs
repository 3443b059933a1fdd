//! `tracelab decode` as a user runs it: arguments, stdin, exit codes, JSON.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn tracelab(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracelab"))
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let input = stdin.unwrap_or("").to_owned();
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || pipe.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("the binary runs");
    writer
        .join()
        .expect("writer thread")
        .expect("stdin written");
    output
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

#[test]
fn valid_argument_exits_0_with_a_plain_report_when_piped() {
    let output = tracelab(&["decode", TP], None);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("✔ valid"), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}'),
        "no colour when piped: {stdout:?}"
    );
}

#[test]
fn color_always_colours_the_report() {
    let output = tracelab(&["decode", "--color", "always", TP], None);
    assert!(String::from_utf8_lossy(&output.stdout).contains('\u{1b}'));
}

#[test]
fn invalid_header_exits_1_and_json_lists_errors() {
    let output = tracelab(
        &[
            "decode",
            "--json",
            "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    assert_eq!(report["traceparent"]["valid"], false);
    assert_eq!(
        report["traceparent"]["errors"][0]["rule"],
        "trace-flags.hex"
    );
    assert_eq!(report["receiver"]["action"], "restart");
}

#[test]
fn header_block_on_stdin_combines_tracestate_lines() {
    let block = format!("GET / HTTP/1.1\r\nHost: localhost\r\nTRACEPARENT: {TP}\r\ntracestate: rojo=1\r\nTraceState: congo=2\r\n\r\n");
    let output = tracelab(&["decode", "--json"], Some(&block));
    assert_eq!(output.status.code(), Some(0));
    let report = json(&output);
    assert_eq!(report["tracestate"]["value"], "rojo=1,congo=2");
    assert_eq!(
        report["tracestate"]["entries"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(report["receiver"]["tracestate"], "rojo=1,congo=2");
}

#[test]
fn several_arguments_are_lines() {
    let output = tracelab(
        &[
            "decode",
            "--json",
            &format!("traceparent: {TP}"),
            "tracestate: a=1,a=2",
        ],
        None,
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "duplicate tracestate key is invalid"
    );
    let report = json(&output);
    assert_eq!(report["traceparent"]["valid"], true);
    assert_eq!(
        report["tracestate"]["errors"][0]["rule"],
        "tracestate.duplicate-key"
    );
}

#[test]
fn no_header_exits_2() {
    let output = tracelab(&["decode"], Some("hello\nworld\n"));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no traceparent or tracestate found"));
    let empty = tracelab(&["decode", "--json"], Some(""));
    assert_eq!(empty.status.code(), Some(2));
    assert_eq!(json(&empty)["traceparent"], serde_json::Value::Null);
}

#[test]
fn usage_error_exits_2() {
    assert_eq!(
        tracelab(&["decode", "--bogus"], None).status.code(),
        Some(2)
    );
    assert_eq!(tracelab(&["frobnicate"], None).status.code(), Some(2));
    assert_eq!(tracelab(&["--help"], None).status.code(), Some(0));
}

#[test]
fn a_megabyte_of_junk_is_a_clear_report_not_a_crash() {
    let junk: String = (0..1_000_000u32)
        .map(|i| char::from(b"-0aZ\xff"[(i % 5) as usize]))
        .collect();
    let output = tracelab(&["decode", "--json"], Some(&junk));
    assert_eq!(output.status.code(), Some(1));
    let report = json(&output);
    assert!(report["traceparent"]["errors"]
        .as_array()
        .is_some_and(|e| !e.is_empty() && e.len() <= 200));
}

/// The `--json` output with what may change between runs or wordings
/// replaced: messages and notes by `<text>`, the receiver's new ids by a
/// shape check. Keys, values and rule names stay: they are the interface.
fn skeleton(mut value: serde_json::Value) -> serde_json::Value {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(object) => {
                for (key, child) in object.iter_mut() {
                    if (key == "message" || key == "note") && child.is_string() {
                        *child = serde_json::json!("<text>");
                    } else {
                        walk(child);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let sent = value["receiver"]["traceparent"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let fields: Vec<&str> = sent.split('-').collect();
    assert!(
        fields.len() == 4 && fields[1].len() == 32 && fields[2].len() == 16,
        "the receiver sends a traceparent: {sent}"
    );
    // The parent-id is always new; the trace-id is kept only on continue.
    value["receiver"]["traceparent"] = serde_json::json!(format!(
        "{}-{}-<new span id>-{}",
        fields[0],
        if value["receiver"]["action"] == "continue" {
            fields[1]
        } else {
            "<new trace id>"
        },
        fields[3]
    ));
    walk(&mut value);
    value
}

#[test]
fn json_output_is_golden_in_keys_values_and_rule_names() {
    let cases: [(&[&str], serde_json::Value); 4] = [
        (
            &["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0B"],
            serde_json::json!({
                "traceparent": {
                    "valid": false,
                    "value": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0B",
                    "version": "00",
                    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                    "parent_id": "00f067aa0ba902b7",
                    "flags": "0B",
                    // The flags do not decode: nothing is claimed about them.
                    "sampled": null,
                    "random": null,
                    "errors": [{"rule": "trace-flags.uppercase", "start": 54, "end": 55, "message": "<text>"}],
                    "warnings": []
                },
                "tracestate": null,
                "receiver": {"action": "restart", "traceparent": "00-<new trace id>-<new span id>-03", "tracestate": null, "note": "<text>"},
                "other_headers": [],
                "choice": null
            }),
        ),
        (
            &["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-+1"],
            serde_json::json!({
                "traceparent": {
                    "valid": false,
                    "value": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-+1",
                    "version": "00",
                    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                    "parent_id": "00f067aa0ba902b7",
                    "flags": "+1",
                    "sampled": null,
                    "random": null,
                    "errors": [{"rule": "trace-flags.hex", "start": 53, "end": 54, "message": "<text>"}],
                    "warnings": []
                },
                "tracestate": null,
                "receiver": {"action": "restart", "traceparent": "00-<new trace id>-<new span id>-03", "tracestate": null, "note": "<text>"},
                "other_headers": [],
                "choice": null
            }),
        ),
        (
            &[
                "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "tracestate: rojo=00f067aa0ba902b7,Bad=1",
            ],
            serde_json::json!({
                "traceparent": {
                    "valid": true,
                    "value": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    "version": "00",
                    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                    "parent_id": "00f067aa0ba902b7",
                    "flags": "01",
                    "sampled": true,
                    "random": false,
                    "errors": [],
                    "warnings": []
                },
                "tracestate": {
                    "valid": false,
                    "value": "rojo=00f067aa0ba902b7,Bad=1",
                    "entries": [{"key": "rojo", "value": "00f067aa0ba902b7"}, {"key": "Bad", "value": "1"}],
                    "errors": [{"rule": "tracestate.key.first-char", "start": 22, "end": 23, "message": "<text>"}],
                    "warnings": [],
                    "note": null
                },
                "receiver": {"action": "continue", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-<new span id>-01", "tracestate": null, "note": "<text>"},
                "other_headers": [],
                "choice": null
            }),
        ),
        (
            // A key Level 2 accepts and older grammars reject: valid, with
            // its own warning; other systems' headers and a misspelt name
            // are listed, never read as a traceparent.
            &[
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "tracestate: foo@bar@baz=1",
                "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                "traceparant: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ],
            serde_json::json!({
                "traceparent": {
                    "valid": true,
                    "value": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    "version": "00",
                    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                    "parent_id": "00f067aa0ba902b7",
                    "flags": "01",
                    "sampled": true,
                    "random": false,
                    "errors": [],
                    "warnings": []
                },
                "tracestate": {
                    "valid": true,
                    "value": "foo@bar@baz=1",
                    "entries": [{"key": "foo@bar@baz", "value": "1"}],
                    "errors": [],
                    "warnings": [{"rule": "tracestate.key.level-1", "start": 0, "end": 11, "message": "<text>"}],
                    "note": null
                },
                "receiver": {"action": "continue", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-<new span id>-01", "tracestate": "foo@bar@baz=1", "note": null},
                "other_headers": [
                    {
                        "name": "X-Amzn-Trace-Id",
                        "value": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                        "line": 3,
                        "system": "aws-xray",
                        "what": "AWS X-Ray (Root=1-time-unique;Parent=…;Sampled=…)",
                        "trace_id": "5759e988bd862e3fe1be46a994272793",
                        "span_id": "53995c3f42cd8ad8",
                        "sampled": true,
                        "did_you_mean": null,
                        "note": "<text>"
                    },
                    {
                        "name": "traceparant",
                        "value": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                        "line": 4,
                        "system": null,
                        "what": "not a trace context header",
                        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                        "span_id": "00f067aa0ba902b7",
                        "sampled": true,
                        "did_you_mean": "traceparent",
                        "note": "<text>"
                    }
                ],
                "choice": null
            }),
        ),
    ];
    for (args, expected) in cases {
        let mut argv = vec!["decode", "--json"];
        argv.extend_from_slice(args);
        let output = tracelab(&argv, None);
        assert_eq!(skeleton(json(&output)), expected, "{args:?}");
    }
}

#[test]
fn text_output_names_other_systems_headers_and_the_level_1_warning() {
    let output = tracelab(
        &[
            "decode",
            "b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
            "trace-parent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ],
        None,
    );
    let text = String::from_utf8_lossy(&output.stdout);
    // Not a traceparent: no W3C rule is claimed against either line.
    assert!(!text.contains("error"), "{text}");
    assert!(
        text.contains("other header b3 (line 1): Zipkin B3"),
        "{text}"
    );
    assert!(
        text.contains(
            "trace-id 80f198ee56343ba864fe8b2a57d3eff7  span-id e457b5a2e4d86bd1  sampled"
        ),
        "{text}"
    );
    assert!(
        text.contains("other header trace-parent (line 2)"),
        "{text}"
    );
    assert!(text.contains("did you mean traceparent?"), "{text}");
    assert_eq!(output.status.code(), Some(2), "no trace context header");

    let output = tracelab(
        &[
            "decode",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "tracestate: rojo=1,t@vvvvvvvvvvvvvvv=2",
        ],
        None,
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "valid: {text}");
    assert!(text.contains("warning tracestate.key.level-1"), "{text}");
    assert!(
        text.contains("OpenTelemetry's TraceState rejects it"),
        "{text}"
    );
}
