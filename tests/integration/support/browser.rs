//! A headless Chromium driven over WebDriver (Debian's `chromium` and
//! `chromedriver`): a small W3C WebDriver client over the plain HTTP client
//! of [`super::served`], enough to load a page, click, and read the page's
//! state with a script.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use super::wait_for_or_none;

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The browser and its driver, found on PATH.
pub struct Installed {
    pub chromium: PathBuf,
    pub driver: PathBuf,
}

/// The browser, when it is installed. Without it a test may skip, loudly,
/// except under CI (`CI` set), where the browser must be there: it fails.
pub fn installed(test: &str) -> Option<Installed> {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| on_path(name));
    let driver = on_path("chromedriver");
    if let (Some(chromium), Some(driver)) = (chromium, driver) {
        return Some(Installed { chromium, driver });
    }
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(
        !ci,
        "{test}: CI is set but chromium and chromedriver are not both on PATH \
         (.ci/run installs them: apt-get install chromium chromium-driver)"
    );
    // Straight to stderr, past the test harness's capture: a skip is seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!! SKIPPED {test}: no chromium and chromedriver on PATH \
         (apt-get install --no-install-recommends chromium chromium-driver); \
         under CI this fails\n"
    );
    None
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// A headless Chromium session, its driver in a process group of its own
/// with its own HOME: ended (session closed, group killed) on drop.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _dir: TempDir,
}

impl Browser {
    pub fn start(installed: &Installed) -> Browser {
        let dir = tempfile::Builder::new()
            .prefix("sct-browser-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let mut cmd = Command::new(&installed.driver);
        cmd.arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.path().join("driver.log").display()
            ))
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let driver = cmd.spawn().expect("starting chromedriver");
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            _dir: dir,
        };
        let ready = wait_for_or_none(Duration::from_secs(20), || {
            TcpStream::connect(("127.0.0.1", port)).ok()?;
            let (status, answer) = request(port, "GET", "/status", "");
            (status == 200 && answer["value"]["ready"] == true).then_some(())
        });
        assert!(ready.is_some(), "chromedriver did not start on port {port}");
        let profile = browser._dir.path().join("profile");
        let answer = browser.command(
            "POST",
            "/session",
            &json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": installed.chromium,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--disable-crash-reporter",
                        format!("--user-data-dir={}", profile.display()),
                    ],
                },
            }}}),
        );
        browser.session = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {answer}"))
            .to_string();
        browser
    }

    /// One WebDriver command: its `value`, or a panic with the driver's error.
    fn command(&self, method: &str, path: &str, body: &Value) -> Value {
        let body = if method == "GET" || method == "DELETE" {
            String::new()
        } else {
            body.to_string()
        };
        let (status, value) = request(self.port, method, path, &body);
        assert_eq!(status, 200, "WebDriver {method} {path} failed: {value}");
        value["value"].clone()
    }

    fn in_session(&self, method: &str, path: &str, body: &Value) -> Value {
        self.command(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn go(&self, url: &str) {
        self.in_session("POST", "/url", &json!({ "url": url }));
    }

    /// Runs `script` (a function body; `arguments` as in WebDriver) in the
    /// page and gives what it returns.
    pub fn eval(&self, script: &str, args: &[Value]) -> Value {
        self.in_session(
            "POST",
            "/execute/sync",
            &json!({ "script": script, "args": args }),
        )
    }

    /// Clicks the element `selector` finds, as a person would (the driver
    /// scrolls it into view and refuses what is hidden or disabled).
    pub fn click(&self, selector: &str) {
        let found = self.in_session(
            "POST",
            "/element",
            &json!({ "using": "css selector", "value": selector }),
        );
        let id = found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {selector}: {found}"));
        self.in_session("POST", &format!("/element/{id}/click"), &json!({}));
    }

    /// Polls `script` until it returns something other than null/false, or
    /// panics after `timeout` with `what` and `state` (a script describing
    /// the page).
    #[track_caller]
    pub fn wait(&self, what: &str, timeout: Duration, script: &str, args: &[Value]) -> Value {
        let found = wait_for_or_none(timeout, || {
            let value = self.eval(script, args);
            (!value.is_null() && value != false).then_some(value)
        });
        found.unwrap_or_else(|| {
            let page = self.eval(
                "return document.querySelector('main').innerText + '\\n[message] ' \
                 + document.querySelector('#message').textContent",
                &[],
            );
            panic!(
                "timed out waiting for {what}; the page shows:\n{}",
                page.as_str().unwrap_or_default()
            )
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = request(self.port, "DELETE", &path, "");
        }
        super::kill(u64::from(self.driver.id()), -libc::SIGKILL);
        let _ = self.driver.wait();
    }
}

/// One request to the driver, its answer read by its length (the driver
/// keeps connections open whatever the request says).
fn request(port: u16, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once(':')
            && key.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut answer = vec![0; length];
    reader.read_exact(&mut answer).unwrap();
    let value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
    (status, value)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The modification time of `path` in milliseconds since the epoch.
pub fn modified_ms(path: &Path) -> f64 {
    let modified = std::fs::metadata(path).unwrap().modified().unwrap();
    modified
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}
