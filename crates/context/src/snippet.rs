//! Code that sends trace context headers: the header lines, a `curl`
//! command, and snippets for Rust (reqwest), Python (httpx, as the original
//! demo's client used) and JavaScript (`fetch`).
//!
//! Every value is quoted for its language here, never by the caller: a
//! valid `tracestate` value may hold spaces, and although quotes,
//! backslashes and control characters cannot appear in a valid header, a
//! snippet built from a half-edited one must still be a well-formed program
//! that sends exactly the text shown (and never runs part of it).
//!
//! ```
//! use tracelab_context::snippet::Request;
//!
//! let request = Request {
//!     url: "http://localhost:8000/bands/553be815-76f3-49db-b9d7-caca4b23cc3e",
//!     traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
//!     tracestate: Some("rojo=00f067aa0ba902b7,congo=a b"),
//! };
//! assert!(request.curl().contains("-H 'tracestate: rojo=00f067aa0ba902b7,congo=a b'"));
//! ```

use std::fmt::Write;

/// The demo's first call: a band from bands-api, which calls reviews-api.
pub const DEMO_URL: &str = "http://localhost:8000/bands/553be815-76f3-49db-b9d7-caca4b23cc3e";

/// One GET request carrying trace context headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub url: &'a str,
    pub traceparent: &'a str,
    /// `None` or an empty value sends no `tracestate`: an empty header says
    /// nothing, and the spec lets a sender leave it out (§3.3).
    pub tracestate: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// The headers as (name, value), in the order they are sent.
    pub fn headers(&self) -> Vec<(&'static str, &'a str)> {
        let mut headers = vec![("traceparent", self.traceparent)];
        if let Some(state) = self.tracestate.filter(|s| !s.is_empty()) {
            headers.push(("tracestate", state));
        }
        headers
    }

    /// `traceparent: …` and, when there is one, `tracestate: …`, one per
    /// line, as they appear in an HTTP request.
    pub fn header_lines(&self) -> String {
        self.headers()
            .iter()
            .map(|(name, value)| format!("{name}: {value}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A `curl` command for a POSIX shell, one option per line.
    pub fn curl(&self) -> String {
        let mut out = format!("curl -sS {}", shell_quote(self.url));
        for (name, value) in self.headers() {
            let _ = write!(
                out,
                " \\\n  -H {}",
                shell_quote(&format!("{name}: {value}"))
            );
        }
        out
    }

    /// An async Rust program with reqwest and tokio.
    pub fn reqwest(&self) -> String {
        let mut out = String::from(
            "// Cargo.toml: reqwest = \"0.12\", tokio = { version = \"1\", features = [\"full\"] }\n\
             #[tokio::main]\n\
             async fn main() -> Result<(), reqwest::Error> {\n\
             \x20   let body = reqwest::Client::new()\n",
        );
        let _ = writeln!(out, "        .get({})", rust_string(self.url));
        for (name, value) in self.headers() {
            let _ = writeln!(out, "        .header(\"{name}\", {})", rust_string(value));
        }
        out.push_str(
            "        .send()\n\
             \x20       .await?\n\
             \x20       .text()\n\
             \x20       .await?;\n\
             \x20   println!(\"{body}\");\n\
             \x20   Ok(())\n\
             }",
        );
        out
    }

    /// A Python script with httpx, as the original demo's client made its call.
    pub fn httpx(&self) -> String {
        let mut out = String::from("# pip install httpx\nimport httpx\n\nheaders = {\n");
        for (name, value) in self.headers() {
            let _ = writeln!(out, "    \"{name}\": {},", python_string(value));
        }
        let _ = write!(
            out,
            "}}\nresponse = httpx.get({}, headers=headers)\nprint(response.text)",
            python_string(self.url)
        );
        out
    }

    /// JavaScript with `fetch` (a module or a console, for the top-level `await`).
    pub fn fetch(&self) -> String {
        // Said in the snippet because it is the first thing to go wrong when
        // it is pasted into a page's console.
        let mut out = String::from(
            "// From a web page, a cross-origin server must allow these headers (CORS).\n",
        );
        let _ = writeln!(
            out,
            "const response = await fetch({}, {{\n  headers: {{",
            js_string(self.url)
        );
        for (name, value) in self.headers() {
            let _ = writeln!(out, "    {name}: {},", js_string(value));
        }
        out.push_str("  },\n});\nconsole.log(await response.text());");
        out
    }
}

/// Characters escaped in every language's string literal although the
/// language would accept them raw: controls (invisible, and a raw line
/// break ends a JavaScript or Python string), the line and paragraph
/// separators, and the bidirectional overrides that can make source read
/// differently from what it does ("Trojan Source", CVE-2021-42574).
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// A double-quoted literal: `\\`, `\"`, the common short escapes, and
/// `escape_other` for any other character [`must_escape`] picks.
fn quoted(text: &str, escape_other: impl Fn(char) -> String) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if must_escape(c) => out.push_str(&escape_other(c)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Rust string literal.
pub fn rust_string(text: &str) -> String {
    quoted(text, |c| format!("\\u{{{:x}}}", u32::from(c)))
}

/// A Python 3 string literal.
pub fn python_string(text: &str) -> String {
    quoted(text, |c| match u32::from(c) {
        n @ 0..=0xff => format!("\\x{n:02x}"),
        n @ 0x100..=0xffff => format!("\\u{n:04x}"),
        n => format!("\\U{n:08x}"),
    })
}

/// A JavaScript string literal.
pub fn js_string(text: &str) -> String {
    quoted(text, |c| match u32::from(c) {
        n @ 0..=0xff => format!("\\x{n:02x}"),
        n @ 0x100..=0xffff => format!("\\u{n:04x}"),
        n => format!("\\u{{{n:x}}}"),
    })
}

/// One word for a POSIX shell.
///
/// Single quotes keep every character but `'` as it is, so `'` is written
/// as `'\''` (close, an escaped quote, reopen). Text with a control
/// character uses `$'…'` instead (bash, zsh, ksh and POSIX.1-2024 `sh`),
/// since a raw carriage return or escape sequence pasted into a terminal is
/// invisible or acts on the terminal itself.
pub fn shell_quote(text: &str) -> String {
    if !text.chars().any(must_escape) {
        return format!("'{}'", text.replace('\'', r"'\''"));
    }
    let mut out = String::from("$'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if must_escape(c) => {
                // `\xHH` is one byte in `$'…'`, so a wider character is
                // written as its UTF-8 bytes.
                let mut bytes = [0u8; 4];
                for b in c.encode_utf8(&mut bytes).bytes() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn request(tracestate: Option<&'static str>) -> Request<'static> {
        Request {
            url: DEMO_URL,
            traceparent: TP,
            tracestate,
        }
    }

    #[test]
    fn literals_escape_per_language() {
        // (input, rust, python, javascript, why)
        let cases = [
            (
                "a b",
                r#""a b""#,
                r#""a b""#,
                r#""a b""#,
                "a space stays as it is",
            ),
            (
                r#"say "hi""#,
                r#""say \"hi\"""#,
                r#""say \"hi\"""#,
                r#""say \"hi\"""#,
                "double quotes are escaped",
            ),
            (
                r"a\b",
                r#""a\\b""#,
                r#""a\\b""#,
                r#""a\\b""#,
                "a backslash is escaped, not read as an escape",
            ),
            (
                "a\nb",
                r#""a\nb""#,
                r#""a\nb""#,
                r#""a\nb""#,
                "a raw line break would end a Python or JS string",
            ),
            (
                "\u{1}",
                r#""\u{1}""#,
                r#""\x01""#,
                r#""\x01""#,
                "controls are invisible",
            ),
            (
                "\u{2028}",
                r#""\u{2028}""#,
                r#""\u2028""#,
                r#""\u2028""#,
                "ends a line in older JavaScript",
            ),
            (
                "\u{202e}x",
                r#""\u{202e}x""#,
                r#""\u202ex""#,
                r#""\u202ex""#,
                "a bidi override hides what code does",
            ),
            (
                "é🦀",
                "\"é🦀\"",
                "\"é🦀\"",
                "\"é🦀\"",
                "printable non-ASCII is valid source in all three",
            ),
            (
                "it's",
                "\"it's\"",
                "\"it's\"",
                "\"it's\"",
                "a single quote needs nothing in double quotes",
            ),
        ];
        for (input, rust, python, js, why) in cases {
            assert_eq!(rust_string(input), rust, "rust: {why}");
            assert_eq!(python_string(input), python, "python: {why}");
            assert_eq!(js_string(input), js, "javascript: {why}");
        }
    }

    #[test]
    fn shell_words_keep_every_character() {
        // (input, quoted, why)
        let cases = [
            (
                "tracestate: a=1 2",
                "'tracestate: a=1 2'",
                "spaces stay inside one word",
            ),
            (
                "$HOME `ls` \"x\" \\",
                "'$HOME `ls` \"x\" \\'",
                "nothing expands in single quotes",
            ),
            (
                "it's",
                r"'it'\''s'",
                "a single quote closes, is escaped, and reopens",
            ),
            (
                "a\rb",
                r"$'a\rb'",
                "a carriage return is written as an escape",
            ),
            (
                "a\u{1b}[2Jb'",
                r"$'a\x1b[2Jb\''",
                "a terminal escape is never sent raw",
            ),
            (
                "\u{202e}",
                r"$'\xe2\x80\xae'",
                "a wide character as its UTF-8 bytes",
            ),
            ("", "''", "an empty word is still a word"),
        ];
        for (input, quoted, why) in cases {
            assert_eq!(shell_quote(input), quoted, "{why}");
        }
    }

    #[test]
    fn curl_sends_both_headers_and_leaves_out_an_empty_tracestate() {
        assert_eq!(
            request(Some("rojo=00f067aa0ba902b7,congo=t61 rcWkgMzE")).curl(),
            format!(
                "curl -sS '{DEMO_URL}' \\\n  -H 'traceparent: {TP}' \\\n  -H 'tracestate: rojo=00f067aa0ba902b7,congo=t61 rcWkgMzE'"
            )
        );
        assert_eq!(request(Some("")).curl(), request(None).curl());
        assert!(!request(None).curl().contains("tracestate"));
    }

    #[test]
    fn header_lines_are_as_sent() {
        assert_eq!(
            request(Some("rojo=1")).header_lines(),
            format!("traceparent: {TP}\ntracestate: rojo=1")
        );
        assert_eq!(request(None).header_lines(), format!("traceparent: {TP}"));
    }

    #[test]
    fn snippets_carry_the_escaped_values() {
        let hostile = request(Some("a=\"x\\y\n"));
        let rust = hostile.reqwest();
        assert!(rust.contains(&format!(".header(\"traceparent\", \"{TP}\")")));
        assert!(
            rust.contains(r#".header("tracestate", "a=\"x\\y\n")"#),
            "{rust}"
        );
        assert!(rust.contains(&format!(".get(\"{DEMO_URL}\")")));

        let python = hostile.httpx();
        assert!(
            python.contains(r#"    "tracestate": "a=\"x\\y\n","#),
            "{python}"
        );
        assert!(python.contains(&format!("httpx.get(\"{DEMO_URL}\", headers=headers)")));

        let js = hostile.fetch();
        assert!(js.contains(r#"    tracestate: "a=\"x\\y\n","#), "{js}");
        assert!(js.contains(&format!("fetch(\"{DEMO_URL}\", {{")));

        // No raw line break inside any literal: each line's quotes balance
        // once escaped quotes are set aside.
        for snippet in [&rust, &python, &js] {
            for line in snippet.lines() {
                let bare = line.replace("\\\\", "").replace("\\\"", "");
                assert_eq!(bare.matches('"').count() % 2, 0, "unbalanced: {line}");
            }
        }
    }

    #[test]
    fn snippets_without_tracestate_send_only_traceparent() {
        for snippet in [
            request(None).reqwest(),
            request(None).httpx(),
            request(None).fetch(),
        ] {
            assert!(snippet.contains(TP));
            assert!(!snippet.contains("tracestate"), "{snippet}");
        }
    }

    #[test]
    fn the_rust_snippet_is_the_program_we_mean() {
        assert_eq!(
            request(Some("rojo=1")).reqwest(),
            format!(
                "// Cargo.toml: reqwest = \"0.12\", tokio = {{ version = \"1\", features = [\"full\"] }}
#[tokio::main]
async fn main() -> Result<(), reqwest::Error> {{
    let body = reqwest::Client::new()
        .get(\"{DEMO_URL}\")
        .header(\"traceparent\", \"{TP}\")
        .header(\"tracestate\", \"rojo=1\")
        .send()
        .await?
        .text()
        .await?;
    println!(\"{{body}}\");
    Ok(())
}}"
            )
        );
    }
}
