//! The routes: the seed's `/dispatch`, `/status`, `/stop` and `WS /logs`
//! for a (mode, task id) pair, the lists (`/tasks`, `/sessions`, …), the
//! page and its live channel. Every handler checks its input, calls an
//! operation from [`crate::ops`] on a blocking thread, and answers JSON.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Server;
use super::projects::{NotFound, not_found};
use crate::books::{Books, ExecType, Record};
use crate::config::Config;
use crate::error::{BadInput, bad_input};
use crate::names;
use crate::ops::{self, dispatch, logs, stop};
use crate::project::Project;
use crate::{ansi, mode, task, terminal};

/// Largest request body: room for the largest instructions and data.
const MAX_BODY: usize = 256 * 1024;

/// Lines of scrollback a pane view shows above the screen.
const PANE_HISTORY: usize = 2000;

/// Output is sent in pieces of about this size.
const PIECE: usize = 16 * 1024;

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/style.css");
pub const OPENAPI: &str = include_str!("openapi.json");

/// Every route, recorded as it is added, so that a test can hold the
/// OpenAPI document to exactly these.
pub struct Routes {
    router: Router<Arc<Server>>,
    pub listed: Vec<(&'static str, &'static str)>,
}

impl Routes {
    fn add(
        mut self,
        path: &'static str,
        methods: &[&'static str],
        handler: MethodRouter<Arc<Server>>,
    ) -> Routes {
        self.listed.extend(methods.iter().map(|m| (*m, path)));
        self.router = self.router.route(path, handler);
        self
    }
}

pub fn routes() -> Routes {
    Routes {
        router: Router::new(),
        listed: Vec::new(),
    }
    .add("/", &["get"], get(page))
    .add("/app.js", &["get"], get(script))
    .add("/style.css", &["get"], get(style))
    .add("/healthz", &["get"], get(healthz))
    .add("/openapi.json", &["get"], get(openapi))
    .add("/projects", &["get"], get(projects))
    .add("/tasks", &["get"], get(tasks))
    .add("/tasks/{id}", &["get"], get(task_detail))
    .add("/modes", &["get"], get(modes))
    .add("/sessions", &["get"], get(sessions))
    .add("/dispatch/{mode}/{id}", &["post"], post(dispatch))
    .add("/status/{mode}/{id}", &["get"], get(status))
    .add("/stop/{mode}/{id}", &["get", "post"], get(stop).post(stop))
    .add("/attach/{mode}/{id}", &["post"], post(attach))
    .add("/prompt/{mode}/{id}", &["get"], get(prompt))
    .add("/logs/{mode}/{id}", &["get"], get(logs))
    .add("/events", &["get"], get(events))
}

pub fn router(server: Arc<Server>) -> Router {
    routes()
        .router
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no such route (see /openapi.json)")
        })
        .layer(axum::middleware::map_response(errors_as_json))
        .layer(axum::middleware::from_fn(refuse_declared_large_bodies))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            server.clone(),
            super::guard::check,
        ))
        .with_state(server)
}

// ── errors ─────────────────────────────────────────────────────────────

/// An error answer: `{"error": message}` with its status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> ApiError {
        let status = if err.chain().any(|c| c.is::<NotFound>()) {
            StatusCode::NOT_FOUND
        } else if err.chain().any(|c| c.is::<BadInput>()) {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        ApiError::new(status, format!("{err:#}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({ "error": self.message }))).into_response()
    }
}

type Answer = Result<Response, ApiError>;

/// The refusals of a request's parts (a path, query or body that does not
/// parse, a WebSocket route asked without its upgrade) come as text, and a
/// method a route does not take comes with no body: they become the
/// `{"error": …}` every other error is, as the OpenAPI document says.
async fn errors_as_json(response: Response) -> Response {
    let status = response.status();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        // The route adds its `Allow` header on the way out.
        return ApiError::new(
            status,
            "this route does not take that method: its Allow header lists those it takes (see /openapi.json)",
        )
        .into_response();
    }
    let text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !text || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    ApiError::new(status, String::from_utf8_lossy(&body).trim()).into_response()
}

/// A body declared larger than any route takes is refused before it is
/// read: waiting for gigabytes that may never come holds the connection
/// for nothing. (A body sent without its length is cut off where it
/// passes the limit, by the routes that read one.)
async fn refuse_declared_large_bodies(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(length) = declared.filter(|&n| n > MAX_BODY as u64) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is {length} bytes; a request takes at most {MAX_BODY}"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Runs blocking work (files, processes) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(err) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the request's work failed: {err}"),
        )),
    }
}

fn json_answer(status: StatusCode, value: &impl serde::Serialize) -> Response {
    (status, axum::Json(value)).into_response()
}

// ── what the routes take ───────────────────────────────────────────────

#[derive(Debug, Deserialize)]
struct ProjectQuery {
    project: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LogsQuery {
    project: Option<String>,
    raw: Option<String>,
    screen: Option<String>,
}

/// `POST /dispatch` body: all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchBody {
    exec: Option<DispatchExec>,
    /// The agent (a built-in name or a configured profile).
    agent: Option<String>,
    instructions: Option<String>,
    data: Option<Map<String, Value>>,
    /// Resume the recorded conversation.
    #[serde(rename = "continue", default)]
    resume: bool,
    /// Open a GUI terminal on the new window (tmux runs).
    #[serde(default)]
    attach: bool,
}

/// Where a dispatch may run: the exec types a dispatch takes (`terminal`
/// is `work`'s, on the command line), so that a refusal lists these.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum DispatchExec {
    Tmux,
    Detached,
    Docker,
}

impl From<DispatchExec> for ExecType {
    fn from(exec: DispatchExec) -> ExecType {
        match exec {
            DispatchExec::Tmux => ExecType::Tmux,
            DispatchExec::Detached => ExecType::Detached,
            DispatchExec::Docker => ExecType::Docker,
        }
    }
}

/// `?raw=1`: on; `0` or absent: off; anything else is refused, as the
/// OpenAPI document says.
fn flag(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("?{name}= takes 1 or 0, not {other:?}"),
        )),
    }
}

/// The project of `?project=` (the current one without it).
async fn project_of(server: &Arc<Server>, id: Option<String>) -> Result<Project, ApiError> {
    let server = server.clone();
    blocking(move || server.projects.get(id.as_deref())).await
}

/// The mode and task id of a route, checked as the command line checks them.
fn check_key(mode: &str, id: &str) -> Result<(), ApiError> {
    names::check_task_id(id)?;
    names::check_mode_name(mode)?;
    Ok(())
}

/// The session of task `id` in `mode`: 404 when there is none.
fn find_record(project: &Project, mode: &str, id: &str) -> anyhow::Result<(Books, Record)> {
    let books = Books::for_project(project)?;
    match ops::sessions::find_sessions(project, &books, id, Some(mode)) {
        Ok(mut records) if !records.is_empty() => Ok((books, records.remove(0))),
        Ok(_) => Err(not_found(format!("no session of task {id} in mode {mode}"))),
        Err(err) if err.chain().any(|c| c.is::<BadInput>()) => Err(not_found(format!("{err:#}"))),
        Err(err) => Err(err),
    }
}

/// A session's state, in the seed's shape (`running`, `headless`,
/// `exitCode`, `startedAt`) with ours beside it.
fn status_json(record: &Record) -> Value {
    let mut status = Map::new();
    status.insert("session".into(), json!(record.session_name));
    status.insert("taskId".into(), json!(record.task_id));
    status.insert("mode".into(), json!(record.mode_name()));
    status.insert("state".into(), json!(record.status));
    // What `list` shows: `blocked (rate_limit)`, `stuck (quiet 8s)`, …
    status.insert("stateLabel".into(), json!(record.state_label()));
    status.insert("running".into(), json!(record.status.is_live()));
    status.insert(
        "headless".into(),
        json!(!record.exec_type.is_some_and(ExecType::is_interactive)),
    );
    if let Some(exec) = record.exec_type {
        status.insert("execType".into(), json!(exec));
    }
    if let Some(code) = record.exit_code {
        status.insert("exitCode".into(), json!(code));
    }
    if let Some(signal) = &record.exit_signal {
        status.insert("exitSignal".into(), json!(signal));
    }
    status.insert("startedAt".into(), json!(record.start_time));
    if let Some(end) = &record.end_time {
        status.insert("endedAt".into(), json!(end));
    }
    status.insert("updatedAt".into(), json!(record.last_updated));
    if let Some(place) = &record.tmux {
        status.insert(
            "window".into(),
            json!(format!("{}:{}", place.session, place.window_name)),
        );
    }
    status.insert("runs".into(), json!(record.session_history.len()));
    Value::Object(status)
}

// ── the page ───────────────────────────────────────────────────────────

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PAGE,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn healthz() -> Response {
    json_answer(
        StatusCode::OK,
        &json!({ "ok": true, "version": env!("CARGO_PKG_VERSION") }),
    )
}

// ── lists ──────────────────────────────────────────────────────────────

async fn projects(State(server): State<Arc<Server>>) -> Answer {
    let listed = {
        let server = server.clone();
        blocking(move || server.projects.list()).await?
    };
    Ok(json_answer(StatusCode::OK, &listed))
}

/// What `tasks --json` gives.
async fn tasks(State(server): State<Arc<Server>>, Query(query): Query<ProjectQuery>) -> Answer {
    let project = project_of(&server, query.project).await?;
    let tasks = blocking(move || task::list(&project)).await?;
    Ok(json_answer(StatusCode::OK, &tasks))
}

/// One task: its fields and instruction, the modes it can run in, its
/// sessions with their history.
async fn task_detail(
    State(server): State<Arc<Server>>,
    Path(id): Path<String>,
    Query(query): Query<ProjectQuery>,
) -> Answer {
    names::check_task_id(&id)?;
    let project = project_of(&server, query.project).await?;
    let detail = blocking(move || {
        let task = task::resolve(&project, &id).map_err(|err| not_found(format!("{err:#}")))?;
        let config = Config::load(&project)?;
        let modes = ops::choices::modes(&project, &config, &task, config.default_mode())?;
        let books = Books::for_project(&project)?;
        let sessions: Vec<Record> = books
            .list()?
            .into_iter()
            .filter(|r| r.task_id == task.id)
            .collect();
        Ok(json!({
            "task": task,
            "instruction": task.instruction(),
            "modes": modes,
            "sessions": sessions,
        }))
    })
    .await?;
    Ok(json_answer(StatusCode::OK, &detail))
}

/// The project's modes, the default first.
async fn modes(State(server): State<Arc<Server>>, Query(query): Query<ProjectQuery>) -> Answer {
    let project = project_of(&server, query.project).await?;
    let modes = blocking(move || {
        let config = Config::load(&project)?;
        let default = config.default_mode().to_string();
        let mut names: Vec<Value> = mode::list(&project)?
            .into_iter()
            .filter(|m| m.name != default && !m.aliases.contains(&default))
            .map(|m| json!({ "name": m.name, "isDefault": false }))
            .collect();
        names.insert(0, json!({ "name": default, "isDefault": true }));
        Ok(names)
    })
    .await?;
    Ok(json_answer(StatusCode::OK, &modes))
}

/// What `list --json` gives for the project (kept until its books change).
async fn sessions(State(server): State<Arc<Server>>, Query(query): Query<ProjectQuery>) -> Answer {
    let project = project_of(&server, query.project).await?;
    let body = {
        let server = server.clone();
        blocking(move || server.sessions.list_json(&project)).await?
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

// ── one session ────────────────────────────────────────────────────────

/// Starts a run of task `id` in `mode`, or finds the live one: 201 with
/// the new session, 200 when it was running already.
async fn dispatch(
    State(server): State<Arc<Server>>,
    Path((mode, id)): Path<(String, String)>,
    Query(query): Query<ProjectQuery>,
    body: Bytes,
) -> Answer {
    check_key(&mode, &id)?;
    let body: DispatchBody = if body.iter().all(u8::is_ascii_whitespace) {
        DispatchBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|err| bad_input(format!("the body is not a dispatch request: {err}")))?
    };
    let project = project_of(&server, query.project).await?;
    let (status, answer) = blocking(move || {
        let config = Config::load(&project)?;
        let request = dispatch::Request {
            task: id,
            mode: Some(mode),
            instructions: body.instructions,
            data: body
                .data
                .map(|data| serde_json::to_string(&data))
                .transpose()?,
            exec: body.exec.map(ExecType::from),
            agent: body.agent,
            resume: body.resume,
            ..dispatch::Request::default()
        };
        let dispatched = dispatch::dispatch(&project, &config, &request)?;
        if let Some(child) = dispatched.supervisor {
            super::reap(child);
        }
        let mut notes = dispatched.notes;
        let (status, record, started) = match dispatched.outcome {
            dispatch::Outcome::Started(record) => (StatusCode::CREATED, record, true),
            dispatch::Outcome::AlreadyRunning(record) => (StatusCode::OK, record, false),
            dispatch::Outcome::Preview(_) => {
                anyhow::bail!("a dispatch over HTTP is never a dry run")
            }
        };
        if body.attach && record.exec_type == Some(ExecType::Tmux) {
            match open_terminal(&record) {
                Ok(name) => notes.push(format!("opened {name}")),
                Err(err) => notes.push(format!("{err:#}")),
            }
        }
        Ok((
            status,
            json!({
                "session": record.session_name,
                "started": started,
                "notes": notes,
                "status": status_json(&record),
            }),
        ))
    })
    .await?;
    Ok(json_answer(status, &answer))
}

async fn status(
    State(server): State<Arc<Server>>,
    Path((mode, id)): Path<(String, String)>,
    Query(query): Query<ProjectQuery>,
) -> Answer {
    check_key(&mode, &id)?;
    let project = project_of(&server, query.project).await?;
    let record = blocking(move || find_record(&project, &mode, &id).map(|(_, r)| r)).await?;
    Ok(json_answer(StatusCode::OK, &status_json(&record)))
}

/// Ends a live run and answers how it ended (a run already over is left
/// as it is: `stopped` is false).
async fn stop(
    State(server): State<Arc<Server>>,
    Path((mode, id)): Path<(String, String)>,
    Query(query): Query<ProjectQuery>,
) -> Answer {
    check_key(&mode, &id)?;
    let project = project_of(&server, query.project).await?;
    let answer = blocking(move || {
        let (books, record) = find_record(&project, &mode, &id)?;
        let (stopped, record) = match stop::stop(&books, &record)? {
            stop::Stopped::NotRunning(record) => (false, record),
            stop::Stopped::Ended(record) => (true, record),
        };
        Ok(json!({
            "session": record.session_name,
            "stopped": stopped,
            "status": status_json(&record),
        }))
    })
    .await?;
    Ok(json_answer(StatusCode::OK, &answer))
}

/// Opens a GUI terminal attached to the run's window, as `attach
/// --terminal` does.
async fn attach(
    State(server): State<Arc<Server>>,
    Path((mode, id)): Path<(String, String)>,
    Query(query): Query<ProjectQuery>,
) -> Answer {
    check_key(&mode, &id)?;
    let project = project_of(&server, query.project).await?;
    let terminal = blocking(move || {
        let (_, record) = find_record(&project, &mode, &id)?;
        open_terminal(&record)
    })
    .await?;
    Ok(json_answer(
        StatusCode::OK,
        &json!({ "terminal": terminal }),
    ))
}

fn open_terminal(record: &Record) -> anyhow::Result<&'static str> {
    let window = ops::attach::window(record)?;
    let chosen = terminal::pick(terminal::Gui::Auto)?;
    super::reap(terminal::open(chosen, &window.attach)?);
    Ok(chosen.name())
}

/// The prompt of the session's last run as it was sent, or, before any
/// run, as it would be composed now.
async fn prompt(
    State(server): State<Arc<Server>>,
    Path((mode, id)): Path<(String, String)>,
    Query(query): Query<ProjectQuery>,
) -> Answer {
    check_key(&mode, &id)?;
    let project = project_of(&server, query.project).await?;
    let answer = blocking(move || {
        if let Ok((_, record)) = find_record(&project, &mode, &id)
            && let Some(file) = &record.prompt_file
            && let Ok(text) = std::fs::read_to_string(file)
        {
            return Ok(json!({ "source": "recorded", "file": file, "prompt": text }));
        }
        let composed = ops::compose(&project, &id, Some(&mode), None, None)?;
        Ok(json!({ "source": "composed", "prompt": composed.prompt }))
    })
    .await?;
    Ok(json_answer(StatusCode::OK, &answer))
}

// ── streams ────────────────────────────────────────────────────────────

/// `WS /logs/{mode}/{id}`: the run's output as `logs -f` gives it (raw
/// with `?raw=1`), or with `?screen=1` a tmux run's pane as HTML, one
/// whole screen per message; closes when the run ends.
async fn logs(
    State(server): State<Arc<Server>>,
    Path((mode, id)): Path<(String, String)>,
    Query(query): Query<LogsQuery>,
    ws: WebSocketUpgrade,
) -> Answer {
    check_key(&mode, &id)?;
    let raw = flag("raw", query.raw.as_deref())?;
    let screen = flag("screen", query.screen.as_deref())?;
    let project = project_of(&server, query.project).await?;
    let (books, record) = {
        let project = project.clone();
        blocking(move || find_record(&project, &mode, &id)).await?
    };
    let screen = screen && !raw && record.exec_type == Some(ExecType::Tmux);
    Ok(
        ws.on_upgrade(move |socket| {
            follow_log(socket, server, project, books, record, raw, screen)
        }),
    )
}

async fn follow_log(
    mut socket: WebSocket,
    server: Arc<Server>,
    project: Project,
    books: Books,
    record: Record,
    raw: bool,
    screen: bool,
) {
    let (pieces, mut received) = tokio::sync::mpsc::channel::<String>(8);
    let cancelled = Arc::new(AtomicBool::new(false));
    let worker = {
        let cancelled = cancelled.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = Pieces::new(pieces);
            if screen {
                follow_screen(&books, record, &mut out, &cancelled)
            } else {
                follow_stream(&project, &books, record, raw, &mut out, &cancelled)
            }
        })
    };
    let mut ended = true;
    loop {
        tokio::select! {
            piece = received.recv() => match piece {
                Some(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        ended = false;
                        break;
                    }
                }
                None => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    ended = false;
                    break;
                }
                Some(Ok(_)) => {}
            },
            _ = server.ending() => {
                ended = false;
                break;
            }
        }
    }
    cancelled.store(true, Ordering::SeqCst);
    drop(received);
    let reason = match worker.await {
        Ok(Ok(record)) if ended => {
            let outcome = record.outcome();
            if outcome.is_empty() {
                record.status.to_string()
            } else {
                format!("{}, {outcome}", record.status)
            }
        }
        _ => "closed".to_string(),
    };
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: axum::extract::ws::close_code::NORMAL,
            reason: reason.into(),
        })))
        .await;
}

/// The log, rendered or raw, until the run ends; the record as it ended.
fn follow_stream(
    project: &Project,
    books: &Books,
    record: Record,
    raw: bool,
    out: &mut Pieces,
    cancelled: &AtomicBool,
) -> anyhow::Result<Record> {
    let mut stream = logs::LogStream::open(project, books, record, raw, false);
    stream.begin(out, true)?;
    while stream.step(books, out)? {
        if cancelled.load(Ordering::SeqCst) {
            break;
        }
        std::thread::sleep(logs::POLL);
    }
    out.flush()?;
    Ok(stream.record().clone())
}

/// A tmux run's pane as HTML, sent again whenever its output grew, until
/// the run ends. What the pane prints reaches its terminal log (pipe-pane)
/// as it comes; the run's log grows only with the agent's transcript.
fn follow_screen(
    books: &Books,
    mut record: Record,
    out: &mut Pieces,
    cancelled: &AtomicBool,
) -> anyhow::Result<Record> {
    let sizes = |record: &Record| {
        [record.log_file.clone(), books.terminal_log(record)]
            .map(|path| std::fs::metadata(path).map_or(0, |m| m.len()))
    };
    let mut last = String::new();
    let mut seen = None;
    loop {
        let now = sizes(&record);
        if seen != Some(now) {
            seen = Some(now);
            if let Some(text) = logs::pane_screen(&record, PANE_HISTORY) {
                let html = ansi::to_html(&text);
                if html != last {
                    out.send(html.clone())?;
                    last = html;
                }
            }
        }
        if !logs::is_live(&record) || cancelled.load(Ordering::SeqCst) {
            return Ok(record);
        }
        std::thread::sleep(logs::POLL);
        if let Some(current) = books.read(&record.session_name)? {
            if !logs::is_live(&current) {
                // The pane's last output reaches the log a moment later.
                seen = None;
            }
            record = current;
        }
    }
}

/// A writer that hands what is written to the WebSocket in pieces of
/// whole UTF-8 characters; closed when the socket is.
struct Pieces {
    sender: tokio::sync::mpsc::Sender<String>,
    pending: Vec<u8>,
}

impl Pieces {
    fn new(sender: tokio::sync::mpsc::Sender<String>) -> Pieces {
        Pieces {
            sender,
            pending: Vec::new(),
        }
    }

    fn send(&self, text: String) -> io::Result<()> {
        self.sender
            .blocking_send(text)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the WebSocket closed"))
    }

    /// Sends what is pending up to its last whole character.
    fn send_pending(&mut self) -> io::Result<()> {
        let whole = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(err) if err.error_len().is_none() => err.valid_up_to(),
            // Not UTF-8 at all: sent as it reads.
            Err(_) => self.pending.len(),
        };
        if whole == 0 {
            return Ok(());
        }
        let rest = self.pending.split_off(whole);
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending = rest;
        self.send(text)
    }
}

impl Write for Pieces {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= PIECE {
            self.send_pending()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_pending()
    }
}

/// `WS /events`: the project's records, then their changes as the books
/// change.
async fn events(
    State(server): State<Arc<Server>>,
    Query(query): Query<ProjectQuery>,
    ws: WebSocketUpgrade,
) -> Answer {
    let project = project_of(&server, query.project).await?;
    Ok(ws.on_upgrade(move |socket| super::live::events(socket, server, project)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpenAPI document names exactly the routes the server has.
    #[test]
    fn the_openapi_document_matches_the_routes() {
        let document: Value = serde_json::from_str(OPENAPI).unwrap();
        let mut documented: Vec<(String, String)> = document["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| *k != "parameters")
                    .map(|method| (method.clone(), path.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut served: Vec<(String, String)> = routes()
            .listed
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }

    #[test]
    fn pieces_end_on_whole_characters() {
        let (sender, mut receiver) = tokio::sync::mpsc::channel(8);
        let mut pieces = Pieces::new(sender);
        let text = "é".as_bytes();
        pieces.write_all(&text[..1]).unwrap();
        pieces.flush().unwrap();
        assert!(receiver.try_recv().is_err());
        pieces.write_all(&text[1..]).unwrap();
        pieces.flush().unwrap();
        assert_eq!(receiver.try_recv().unwrap(), "é");
    }
}
