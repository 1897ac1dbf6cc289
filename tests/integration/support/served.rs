//! `serve` started from a bench, and small blocking HTTP and WebSocket
//! clients to talk to it (HTTP/1.1 over a TcpStream: every header, Host
//! included, is the test's to choose).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{Bench, wait_for};

/// A running `scopecraft-tmux serve --port 0`, ended (SIGTERM) on drop.
pub struct Served {
    pub child: Child,
    pub port: u16,
    pub token: String,
    /// The first line it printed.
    pub url: String,
}

impl Served {
    pub fn start(bench: &Bench) -> Served {
        Served::start_with(bench, &[])
    }

    /// Started with extra environment variables.
    pub fn start_with(bench: &Bench, env: &[(&str, &str)]) -> Served {
        Served::start_from(bench.cmd(), env)
    }

    /// Started from `program`, a copy of the binary.
    pub fn start_program(bench: &Bench, program: &Path) -> Served {
        Served::start_from(bench.cmd_of(program), &[])
    }

    fn start_from(mut cmd: Command, env: &[(&str, &str)]) -> Served {
        cmd.args(["serve", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            cmd.env(key, value);
        }
        let mut child = cmd.spawn().expect("starting serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim_end().to_string();
        let rest = url
            .strip_prefix("http://127.0.0.1:")
            .unwrap_or_else(|| panic!("the first line is not our address: {url:?}"));
        let (port, token) = rest.split_once("/?token=").unwrap();
        Served {
            child,
            port: port.parse().unwrap(),
            token: token.to_string(),
            url,
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A request with the token (as a Bearer header).
    pub fn call(&self, method: &str, path: &str, body: &str) -> Answer {
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![("Authorization", auth.as_str())];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json"));
        }
        self.request(method, path, &self.host(), &headers, body.as_bytes())
    }

    pub fn get(&self, path: &str) -> Answer {
        self.call("GET", path, "")
    }

    /// A request with exactly these headers (and Host).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        host: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        http(self.port, method, path, host, headers, body)
    }

    /// Opens `WS path` with the token and our Origin.
    pub fn websocket(&self, path: &str) -> Socket {
        self.websocket_from(path, &self.origin())
            .unwrap_or_else(|err| panic!("opening WS {path}: {err}"))
    }

    /// Opens `WS path` with the token, sending `origin`; the refusal's
    /// status when refused.
    pub fn websocket_from(&self, path: &str, origin: &str) -> Result<Socket, u16> {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let request = tungstenite::http::Request::builder()
            .uri(format!("ws://{}{path}", self.host()))
            .header("Host", self.host())
            .header("Origin", origin)
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Connection", "Upgrade")
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header(
                "Sec-WebSocket-Key",
                tungstenite::handshake::client::generate_key(),
            )
            .body(())
            .unwrap();
        match tungstenite::client(request, stream) {
            Ok((socket, _)) => Ok(Socket { socket }),
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
                Err(response.status().as_u16())
            }
            Err(err) => panic!("WebSocket handshake: {err}"),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        super::kill(u64::from(self.child.id()), libc::SIGTERM);
        let _ = self.child.wait();
    }
}

/// A WebSocket to the server.
pub struct Socket {
    socket: tungstenite::WebSocket<TcpStream>,
}

/// What a WebSocket brought until it closed.
#[derive(Debug, Default)]
pub struct Received {
    pub texts: Vec<String>,
    /// The close frame's reason; `None` when it never closed cleanly.
    pub closed: Option<String>,
}

impl Socket {
    /// The next text message; `None` once closed.
    pub fn next_text(&mut self) -> Option<String> {
        loop {
            match self.socket.read() {
                Ok(tungstenite::Message::Text(text)) => return Some(text.to_string()),
                Ok(tungstenite::Message::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Everything until the server closes the socket.
    pub fn until_closed(mut self) -> Received {
        let mut received = Received::default();
        loop {
            match self.socket.read() {
                Ok(tungstenite::Message::Text(text)) => received.texts.push(text.to_string()),
                Ok(tungstenite::Message::Close(frame)) => {
                    received.closed = Some(frame.map(|f| f.reason.to_string()).unwrap_or_default());
                    return received;
                }
                Ok(_) => {}
                Err(_) => return received,
            }
        }
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| {
            panic!("not JSON ({err}), status {}:\n{}", self.status, self.body)
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Answer {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        self
    }
}

/// One HTTP/1.1 request (`Connection: close`), its answer read whole.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (key, value) in headers {
        head.push_str(&format!("{key}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // A server may answer (413) before reading a large body, and close.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_answer(&raw)
}

/// A request that declares a body of `length` bytes and sends none: the
/// answer, read as far as its own length (the server may keep the
/// connection open waiting for the body), within 10 s.
pub fn declared_body(served: &Served, method: &str, path: &str, length: u64) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n",
        served.host(),
        served.token
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut buffer = [0; 4096];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let answer = parse_answer(&raw);
            let length: usize = answer
                .header("content-length")
                .map_or(0, |l| l.parse().unwrap());
            if raw.len() >= end + 4 + length {
                return answer;
            }
        }
        match stream.read(&mut buffer) {
            Ok(0) => return parse_answer(&raw),
            Ok(read) => raw.extend_from_slice(&buffer[..read]),
            Err(err) => panic!("no answer to a declared body of {length} bytes: {err}"),
        }
    }
}

fn parse_answer(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = unchunk(&body);
    }
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// Polls `GET path` until `check` accepts its JSON.
#[track_caller]
pub fn wait_for_json(
    served: &Served,
    path: &str,
    what: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    wait_for(what, Duration::from_secs(20), || {
        let answer = served.get(path);
        if answer.status != 200 {
            return None;
        }
        let value = answer.json();
        check(&value).then_some(value)
    })
}
