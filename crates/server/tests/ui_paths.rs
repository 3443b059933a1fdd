//! The app as `tracelab` serves it, asked for paths no page has: over-long
//! ones get 414, malformed ones (bad percent-encoding, not UTF-8, an encoded
//! `/` or `..`) 404 with the app's page (which shows its not-found page),
//! never a 500 or a file outside the app; an unknown but well-formed route
//! still gets the app with 200, and the app's files are still served.
//!
//! Requests go over a raw TCP socket, byte for byte as written here: an HTTP
//! client would normalise or refuse some of these paths before sending them.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::Tracelab;

const INDEX: &str = "<!doctype html><title>the app</title>";

/// A `tracelab collector` serving the app from a directory of its own.
struct Served {
    _tracelab: Tracelab,
    ui: String,
    dir: std::path::PathBuf,
}

impl Served {
    fn start() -> Served {
        let dir = std::env::temp_dir().join(format!("tracelab-ui-paths-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let app = dir.join("app");
        std::fs::create_dir_all(&app).expect("a temporary directory");
        std::fs::write(app.join("index.html"), INDEX).expect("index.html written");
        std::fs::write(app.join("app.js"), "console.log(1)").expect("app.js written");
        // A file beside the app that no request may reach.
        std::fs::write(dir.join("secret.txt"), "secret").expect("secret written");
        let tracelab = Tracelab::collector(&[
            std::ffi::OsStr::new("--in-memory"),
            std::ffi::OsStr::new("--ui-dir"),
            app.as_os_str(),
        ]);
        let ui = tracelab
            .announced
            .ui
            .clone()
            .expect("the collector says where the UI listens");
        Served {
            _tracelab: tracelab,
            ui,
            dir,
        }
    }

    /// Sends `GET <path>` exactly as given; the status code and the body.
    fn get(&self, path: &[u8]) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.ui).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a timeout");
        let mut request = b"GET ".to_vec();
        request.extend_from_slice(path);
        request.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        stream.write_all(&request).expect("sent");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {answer:?}"));
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // The process is killed as `_tracelab` drops, after this.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn over_long_and_malformed_paths_get_414_or_404_never_500() {
    let served = Served::start();

    // What works keeps working: a file, a route, an unknown route (the app
    // draws its not-found page).
    assert_eq!(served.get(b"/app.js"), (200, "console.log(1)".to_owned()));
    for route in [&b"/decode"[..], b"/", b"/no/such/page"] {
        assert_eq!(served.get(route), (200, INDEX.to_owned()), "{route:?}");
    }

    // 100 KB of path.
    let mut long = b"/".to_vec();
    long.extend(std::iter::repeat_n(b'a', 100 * 1024));
    assert_eq!(served.get(&long).0, 414, "a 100 KB path");
    // Over the app's own limit, under the server's head limit.
    let mut longish = b"/".to_vec();
    longish.extend(std::iter::repeat_n(b'a', 5000));
    assert_eq!(served.get(&longish).0, 414, "a 5000-byte path");

    for path in [
        &b"/%FF"[..],
        b"/%",
        b"/%4",
        b"/..%2f..",
        b"/..%2f..%2fsecret.txt",
        b"/%2e%2e/secret.txt",
        b"/%E0%A4%A",
        b"/%C3%28",
        b"/a%00b",
    ] {
        let (status, body) = served.get(path);
        assert_eq!(status, 404, "{}", String::from_utf8_lossy(path));
        // The app's page, so the browser shows the app's not-found page.
        assert_eq!(body, INDEX, "{}", String::from_utf8_lossy(path));
    }
}
